import { defineConfig } from 'drizzle-kit';

// The Directory object's tables (accounts, sessions, API tokens), kept apart from the
// NodeHub's: `npx drizzle-kit generate --config drizzle.directory.config.ts` in edge/.
export default defineConfig({
  dialect: 'sqlite',
  driver: 'durable-sqlite',
  schema: './src/identity/schema.ts',
  out: '../migrations/edge/directory',
});
