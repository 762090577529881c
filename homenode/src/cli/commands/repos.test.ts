/**
 * The repos CLI against a real homeportd (bin/homeportd.js, no edge), run as the user
 * runs it: bin/homeport.js with HOMEPORT_HOME pointing at the daemon's data dir.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../../scripts/ports.ts';
import { makeRemote, makeWorkTree, tempDir } from '../../repos/git-fixtures.ts';
import { call } from '../client.ts';
import { HOMENODE, cliFixtures, waitFor } from './cli-fixtures.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const { startDaemon, cli } = cliFixtures({ cleanup, prefix: 'homeport-repos-cli-', env: { HOMEPORT_SCAN_INTERVAL_MS: '300' } });

function dir(prefix?: string) {
  const d = tempDir(prefix);
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const DEV_SERVER = `require('node:http').createServer((q, s) => s.end('hi')).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('up on ' + process.env.PORT));\n`;

describe('homeport repos commands', () => {
  it('should clone with progress, list, pull and remove through homeportd', { timeout: 90_000 }, async () => {
    const dataDir = dir('homeport-cli-');
    await startDaemon(dataDir);
    const remote = makeRemote('webapp');
    cleanup.push(() => rmSync(join(remote.bare, '..'), { recursive: true, force: true }));

    const cloned = await cli(dataDir, ['clone', remote.url, '--name', 'web']);
    expect(cloned.stderr).toMatch(/Receiving objects\s+100% \(\d+\/\d+\)/);
    expect(cloned.stdout).toContain(`cloned web (main) into ${join(dataDir, 'repos', 'web')}`);
    expect(cloned.stdout).toContain('runs `npm run dev`');
    expect(cloned.code).toBe(0);

    const list = await cli(dataDir, ['repos']);
    expect(list.stdout).toMatch(/^NAME\s+GIT/);
    expect(list.stdout).toMatch(/web\s+main clean\s+\w{7} first commit\s+stopped\s+npm run dev/);

    const upToDate = await cli(dataDir, ['pull', 'web']);
    expect(upToDate.stdout).toContain('web is already up to date');

    const bad = await cli(dataDir, ['clone', `file://${dir()}/missing.git`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('git cannot clone');

    const unknown = await cli(dataDir, ['pull', 'nope']);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'homeport: no repo "nope" (`homeport repos` lists them)']);

    const removed = await cli(dataDir, ['remove', 'web']);
    expect(removed.stdout).toContain('its files are still in');
    expect(existsSync(join(dataDir, 'repos', 'web', 'package.json'))).toBe(true);
    expect((await cli(dataDir, ['repos'])).stdout).toContain('No repos yet');
  });

  it('should read the GitHub token from stdin, never from argv', { timeout: 60_000 }, async () => {
    const dataDir = dir('homeport-cli-');
    await startDaemon(dataDir);
    const refused = await cli(dataDir, ['github-token', 'ghp_onTheCommandLine']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('never from the command line');

    const stored = await cli(dataDir, ['github-token'], 'ghp_fromStdin123\n');
    expect(stored.code).toBe(0);
    expect(stored.stdout + stored.stderr).not.toContain('ghp_fromStdin123');
    expect((await cli(dataDir, ['github-token', '--status'])).stdout).toContain('a GitHub token is set');
    expect((await cli(dataDir, ['github-token', '--clear'])).stdout).toContain('removed');
    expect((await cli(dataDir, ['github-token', '--status'])).stdout).toContain('no GitHub token is set');
  });

  it('should start a dev server, tie its port to the repo name, and restore it after homeportd restarts', { timeout: 90_000 }, async () => {
    const dataDir = dir('homeport-cli-');
    const port = await freePort(4000, 9000);
    const env = { HOMEPORT_SCAN_RANGE: `${port}-${port}` };
    let daemon = await startDaemon(dataDir, env);
    const work = makeWorkTree(join(dir(), 'folder-name'), { 'server.js': DEV_SERVER, 'package.json': JSON.stringify({ scripts: { dev: 'node server.js' } }) });

    expect((await cli(dataDir, ['add', work, '--name', 'shop'])).stdout).toContain('added shop');
    await call('PUT', '/api/repos/shop/settings', { env: { PORT: String(port) } }, join(dataDir, 'homeportd.sock'));
    const started = await cli(dataDir, ['start', 'shop']);
    expect(started.stdout).toMatch(/^shop: running \(pid \d+\)/);

    const listed = await waitFor('the port in homeport list', async () => {
      const r = await cli(dataDir, ['list', '--json']);
      const ports = JSON.parse(r.stdout) as { port: number; repo: { name: string; id?: string } | null }[];
      return ports.find((p) => p.port === port && p.repo?.name === 'shop');
    });
    expect(listed.repo?.id).toMatch(/^repo_/);
    expect((await cli(dataDir, ['logs', 'shop'])).stdout).toContain(`up on ${port}`);
    expect((await cli(dataDir, ['repos'])).stdout).toMatch(new RegExp(`shop .*running :${port}`));

    // homeportd stops (its servers with it) and starts again: the server comes back.
    await daemon.stop();
    await waitFor('the port to close', async () => !(await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)));
    daemon = await startDaemon(dataDir, env);
    const body = await waitFor('the restored server', () => fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()));
    expect(body).toBe('hi');
    expect(daemon.output()).toContain('restoring dev servers: shop');

    expect((await cli(dataDir, ['stop', 'shop'])).stdout).toContain('shop: stopped');
    await daemon.stop();
    daemon = await startDaemon(dataDir, env);
    expect(daemon.output()).not.toContain('restoring dev servers');
    expect(await fetch(`http://127.0.0.1:${port}/`).then(() => 'up', () => 'down')).toBe('down');
  });

  it('should say why a start fails at once, with its last lines', { timeout: 60_000 }, async () => {
    const dataDir = dir('homeport-cli-');
    await startDaemon(dataDir);
    const work = makeWorkTree(join(dir(), 'broken'), { 'README.md': '# broken' });
    await cli(dataDir, ['add', work]);
    // Set by hand rather than `npm run dev`: npm alone may take longer than the ready time on a busy machine.
    await call('PUT', '/api/repos/broken/settings', { command: `node -e "console.error('Error: Cannot find module vite'); process.exit(1)"` }, join(dataDir, 'homeportd.sock'));
    const r = await cli(dataDir, ['start', 'broken']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("broken's dev server did not start");
    expect(r.stderr).toContain('Cannot find module vite');
  });
});

describe('homeportd state at start', () => {
  it('should refuse to start on a database from a newer homeportd', { timeout: 60_000 }, async () => {
    const dataDir = dir('homeport-cli-');
    await (await startDaemon(dataDir)).stop();
    const client = createClient({ url: `file:${join(dataDir, 'homeport.db')}` });
    await client.execute({ sql: 'INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)', args: ['future', Date.now() + 86_400_000] });
    client.close();

    const child = spawn(process.execPath, [join(HOMENODE, 'bin/homeportd.js')], { env: { ...process.env, HOMEPORT_HOME: dataDir, HOMEPORT_API_PORT: String(await freePort(20001, 30000)), HOMEPORT_LAN_PORT: String(await freePort(10000, 20000)) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(stderr).toContain('was migrated by a newer homeportd');
    expect(existsSync(join(dataDir, 'homeportd.sock'))).toBe(false);
  });

  it('should refuse a vault key others can read', { timeout: 60_000 }, async () => {
    const dataDir = dir('homeport-cli-');
    writeFileSync(join(dataDir, 'vault.key'), Buffer.alloc(32, 7), { mode: 0o644 });
    const child = spawn(process.execPath, [join(HOMENODE, 'bin/homeportd.js')], { env: { ...process.env, HOMEPORT_HOME: dataDir, HOMEPORT_API_PORT: String(await freePort(20001, 30000)), HOMEPORT_LAN_PORT: String(await freePort(10000, 20000)) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    expect(await new Promise<number | null>((r) => child.once('exit', r))).toBe(1);
    expect(stderr).toContain('can be read by other users');
    expect(stderr).toContain('chmod 600');
  });
});
