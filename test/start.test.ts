/**
 * `npm start` as a newcomer runs it: it prints a one-time sign-in link and the dashboard
 * and share URLs, serves the web app, signs in only by that link (never by address),
 * starts a crashed part again, and Ctrl-C stops every process it started.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from './helpers/ports.ts';
import { ROOT, nodeApi, waitFor } from './helpers/stack.ts';

/** The pid of the homeportd whose data dir is `home`, from /proc. */
function homeportdOf(home: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('homeportd.js')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`HOMEPORT_HOME=${home}`)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

describe('npm start', () => {
  it('should print a sign-in link and the URLs, serve the dashboard, restart a crashed node, and stop everything on Ctrl-C', async () => {
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
    expect(output).toContain(`Shares      http://<port>-local.share.localhost:${port}/`);
    const link = /Sign in +(http:\S+)/.exec(output)?.[1];
    expect(link).toMatch(new RegExp(`^http://localhost:${port}/api/auth/local\\?ticket=`));
    const dash = { host: `localhost:${port}` };
    const api = (path: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${port}${path}`, { headers: { ...dash, ...headers }, redirect: 'manual' });
    // From this very machine, without the link: nobody.
    expect((await api('/api/auth/me')).status).toBe(401);
    const signedIn = await api(new URL(link!).pathname + new URL(link!).search);
    expect(signedIn.status).toBe(303);
    const cookie = /homeport_local=[^;]+/.exec(signedIn.headers.get('set-cookie') ?? '')![0];
    expect(await (await api('/api/auth/me', { cookie })).json()).toMatchObject({ local: true, role: 'admin' });
    expect((await api(new URL(link!).pathname + new URL(link!).search)).status).toBe(403);
    const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { host: `localhost:${port}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');
    expect(existsSync(join(home, 'homeportd.sock'))).toBe(true);
    // It paired its node itself: a token only this user can read, and the tunnel is up with it.
    expect(statSync(join(home, 'node-token')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(home, 'node-token'), 'utf8')).toMatch(/^hpn_/);
    await waitFor('the tunnel', async () => (await nodeApi<{ tunnel: { state: string } }>(join(home, 'homeportd.sock'), '/api/status')).tunnel.state === 'online', 30_000);

    // A crashed homeportd is started again, and the terminal says so.
    const first = homeportdOf(home);
    expect(first).not.toBeNull();
    process.kill(first!, 'SIGKILL');
    await waitFor('the restart notice', async () => output.includes('home node (homeportd) exited unexpectedly'), 30_000);
    await waitFor('homeportd again', async () => output.includes('home node (homeportd) is running again'), 90_000);
    expect(homeportdOf(home)).not.toBe(first);
    await waitFor('the tunnel again', async () => (await nodeApi<{ tunnel: { state: string } }>(join(home, 'homeportd.sock'), '/api/status')).tunnel.state === 'online', 30_000);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // Nothing it started is left: the edge's port is closed and homeportd removed its socket.
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    expect(existsSync(join(home, 'homeportd.sock'))).toBe(false);
  });
});
