/**
 * The deployment recipe stays true: the worked example config (docs/wrangler.deploy.example.toml)
 * bundles with `wrangler deploy --dry-run`, routes the dashboard, the share domain and its
 * first-level wildcard, and docs/deploy.md names every var and secret the Worker reads.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/stack.ts';

const EXAMPLE = join(ROOT, 'docs/wrangler.deploy.example.toml');

describe('the deployment recipe', () => {
  it('should bundle the example config with wrangler deploy --dry-run', async () => {
    // The example serves the built web app; `npm run build -w web` makes it.
    expect(existsSync(join(ROOT, 'web/dist/index.html')), 'build the web app first: npm run build -w web').toBe(true);
    const outdir = mkdtempSync(join(tmpdir(), 'homeport-deploy-'));
    try {
      const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--config', EXAMPLE, '--outdir', outdir], {
        cwd: tmpdir(),
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
      });
      expect(stdout).toContain('--dry-run: exiting now.');
      expect(stdout).toContain('env.NODE_HUB (NodeHub)');
      expect(existsSync(join(outdir, 'index.js'))).toBe(true);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('should route the share domain and one wildcard level of it, never a second level', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    expect(text).toContain('{ pattern = "example-share.dev/*", zone_name = "example-share.dev" }');
    expect(text).toContain('{ pattern = "*.example-share.dev/*", zone_name = "example-share.dev" }');
    expect(text).toMatch(/SHARE_HOST = "example-share.dev"/);
    expect(text).not.toMatch(/\*\.[a-z-]+\.example-share\.dev/);
  });

  it('should document every var and secret the Worker reads, and nothing it no longer reads', () => {
    const envFile = readFileSync(join(ROOT, 'edge/src/env.ts'), 'utf8');
    const envBlock = envFile.slice(envFile.indexOf('export interface Env'), envFile.indexOf('\n}', envFile.indexOf('export interface Env')));
    const names = [...envBlock.matchAll(/^\s+([A-Z][A-Z0-9_]+)\??:/gm)].map((m) => m[1]);
    expect(names).toEqual(expect.arrayContaining(['DASHBOARD_HOST', 'SHARE_HOST', 'GITHUB_CLIENT_SECRET', 'WEBHOOK_SECRETS_KEY']));
    const deploy = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    for (const name of names) expect(deploy, name).toContain(`\`${name}\``);
    for (const file of ['wrangler.toml', 'docs/deploy.md', 'docs/wrangler.deploy.example.toml']) expect(readFileSync(join(ROOT, file), 'utf8'), file).not.toContain('NODE_TOKEN');
  });
});
