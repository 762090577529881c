/**
 * `npm start` as a newcomer runs it: it prints the dashboard and share URLs, serves the
 * web app, and Ctrl-C stops every process it started.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from './helpers/ports.ts';
import { ROOT, nodeApi, waitFor } from './helpers/stack.ts';

describe('npm start', () => {
  it('should print the URLs, serve the dashboard, and stop everything on Ctrl-C', async () => {
    const port = await freePort(40001, 50000);
    const home = mkdtempSync(join(tmpdir(), 'homeport-start-'));
    const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), ['scripts/start.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), HOMEPORT_HOME: home, HOMEPORT_LAN_PORT: String(await freePort(50001, 55000)), HOMEPORT_API_PORT: String(await freePort(55001, 60000)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    await waitFor('the start banner', async () => output.includes('Ctrl-C stops everything'), 90_000);
    expect(output).toContain(`Dashboard   http://localhost:${port}`);
    expect(output).toContain(`Shares      http://share.localhost:${port}/<port>/`);
    const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { host: `localhost:${port}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');
    expect(existsSync(join(home, 'homeportd.sock'))).toBe(true);
    // It paired its node itself: a token only this user can read, and the tunnel is up with it.
    expect(statSync(join(home, 'node-token')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(home, 'node-token'), 'utf8')).toMatch(/^hpn_/);
    await waitFor('the tunnel', async () => (await nodeApi<{ tunnel: { state: string } }>(join(home, 'homeportd.sock'), '/api/status')).tunnel.state === 'online', 30_000);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // Nothing it started is left: the edge's port is closed and homeportd removed its socket.
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    expect(existsSync(join(home, 'homeportd.sock'))).toBe(false);
  });
});
