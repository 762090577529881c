import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// Edge tests run inside workerd with the real wrangler.toml bindings.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: '../wrangler.toml' },
      miniflare: {
        bindings: {
          DASHBOARD_HOST: 'dash.test',
          SHARE_HOST: 'share.test',
          PUBLIC_SCHEME: 'https',
          DEFAULT_NODE: 'home',
          LOCAL_MODE: '1',
          NODE_TOKEN: 'test-node-token',
          UPSTREAM_TIMEOUT_MS: '1500',
          MAX_BODY_BYTES: '1000000',
        },
      },
    }),
  ],
  test: { name: 'edge', include: ['src/**/*.test.ts'] },
});
