import { defineConfig } from 'drizzle-kit';

// homeportd's libSQL file (db/schema.ts); the daemon applies these at start (db/index.ts).
// `npm run db:generate -w homenode` after changing the schema.
export default defineConfig({
  dialect: 'turso',
  schema: './src/db/schema.ts',
  out: '../migrations/home',
});
