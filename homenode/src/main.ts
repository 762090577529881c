/** @module The homeportd process: start the daemon, stop it cleanly on a signal. */
import { loadConfig } from './config.ts';
import { log, startDaemon } from './daemon.ts';

let config;
try {
  config = loadConfig();
} catch (error) {
  process.stderr.write(`homeportd: ${(error as Error).message}\n`);
  process.exit(2);
}
const daemon = await startDaemon(config).catch((error: NodeJS.ErrnoException) => {
  const hint = error.code === 'EADDRINUSE' ? ' (is another homeportd running? set HOMEPORT_API_PORT / HOMEPORT_LAN_PORT)' : '';
  process.stderr.write(`homeportd: could not start: ${error.message}${hint}\n`);
  process.exit(1);
});
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    daemon.stop().then(() => process.exit(0));
    // Past the supervisor's 5 s SIGTERM→SIGKILL for dev servers, so none outlives homeportd.
    setTimeout(() => process.exit(0), 7000).unref();
  });
}
