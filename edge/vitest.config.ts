import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig, type Plugin } from 'vitest/config';

// drizzle-kit's migrations.js imports .sql files, which wrangler bundles as Text modules
// ([[rules]]); the pool cannot load such modules from outside edge/, so tests inline them.
const sqlText: Plugin = {
  name: 'homeport-sql-text',
  enforce: 'pre',
  resolveId(source, importer) {
    if (!source.endsWith('.sql') || !importer) return null;
    return '\0sql-text:' + resolve(dirname(importer), source) + '.js';
  },
  load(id) {
    if (!id.startsWith('\0sql-text:')) return null;
    return `export default ${JSON.stringify(readFileSync(id.slice('\0sql-text:'.length, -'.js'.length), 'utf8'))};`;
  },
};

// Edge tests run inside workerd with the real wrangler.toml bindings.
export default defineConfig({
  plugins: [
    sqlText,
    cloudflareTest({
      wrangler: { configPath: '../wrangler.toml' },
      miniflare: {
        bindings: {
          DASHBOARD_HOST: 'dash.test',
          SHARE_HOST: 'share.test',
          PUBLIC_SCHEME: 'https',
          DEFAULT_NODE: 'home',
          LOCAL_MODE: '1',
          // the owner's credential (fake-node.ts LOCAL); nobody is the owner by address
          LOCAL_OWNER_KEY: 'hpl_' + 'k'.repeat(43),
          // a local edge records every client as "local": tests name their clients with x-test-client-ip
          TRUST_TEST_CLIENT_IP: '1',
          UPSTREAM_TIMEOUT_MS: '1500',
          MAX_BODY_BYTES: '1000000',
          // webhooks (edge/src/webhooks): no GITHUB_TOKEN, so these tests never call GitHub
          GITHUB_WEBHOOK_SECRET: 'test-github-webhook-secret',
          WEBHOOK_SECRETS_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
        },
      },
    }),
  ],
  test: { name: 'edge', include: ['src/**/*.test.ts'] },
});
