import { defineConfig } from 'drizzle-kit';

// The Webhooks object's tables (delivery log, GitHub repo mappings, generic endpoints):
// `npx drizzle-kit generate --config drizzle.webhooks.config.ts` in edge/.
export default defineConfig({
  dialect: 'sqlite',
  driver: 'durable-sqlite',
  schema: './src/webhooks/schema.ts',
  out: '../migrations/edge/webhooks',
});
