import { defineConfig } from 'drizzle-kit';

// The NodeHub's tables, applied by drizzle's durable-sqlite migrator when the object starts.
export default defineConfig({
  dialect: 'sqlite',
  driver: 'durable-sqlite',
  schema: './src/db/schema.ts',
  out: '../migrations/edge/node-hub',
});
