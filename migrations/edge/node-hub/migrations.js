import journal from './meta/_journal.json';
import m0000 from './0000_shares.sql';
import m0001 from './0001_mirror_events_commands.sql';
import m0002 from './0002_access_log_outcome.sql';

  export default {
    journal,
    migrations: {
      m0000,
m0001,
m0002
    }
  }
  