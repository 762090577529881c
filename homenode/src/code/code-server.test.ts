/**
 * Browser VS Code supervision and proxying, with a STAND-IN for code-server
 * (test/fixtures/code-server-stand-in.mjs, a small node http + ws server launched as the
 * configured `code-server` binary): code-server cannot be installed on this machine.
 * real-code-server.test.ts runs the real one wherever it is installed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort } from '../../../scripts/ports.ts';
import { createApi } from '../api.ts';
import { loadConfig } from '../config.ts';
import { openStore } from '../db/index.ts';
import { createLanServer } from '../lan.ts';
import { NodeSettings } from '../node-settings.ts';
import { NodeState } from '../node-state.ts';
import { PortSettingsStore } from '../port-settings.ts';
import { CodeServer, INSTALL_HINT } from './code-server.ts';
import { lanCodeProxy, relativeLocation } from './proxy.ts';

const STAND_IN = resolve(fileURLToPath(new URL('../../../test/fixtures/code-server-stand-in.mjs', import.meta.url)));
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function setup(env: NodeJS.ProcessEnv = { HOMEPORT_CODE_SERVER: STAND_IN, PATH: process.env.PATH }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'homeport-code-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = await openStore(dataDir);
  cleanup.push(() => store.close());
  const settings = new NodeSettings(store);
  const code = new CodeServer({ dataDir, env, settings, scanRange: { low: 3000, high: 9999 }, cwd: dataDir, readyTimeoutMs: 15_000 });
  cleanup.push(() => code.close());
  const config = loadConfig({ HOMEPORT_HOME: dataDir });
  const state = new NodeState(config, new PortSettingsStore(dataDir));
  const api = createApi({
    state,
    tunnel: () => null,
    localToken: 'local-token-xyz',
    code: { code, repo: async (ref) => (ref === 'shop' ? { name: 'shop', path: '/home/me/shop' } : null), baseUrls: () => ({ edge: 'https://dash.example/api/nodes/home/api/code/', lan: 'http://127.0.0.1:7870/code/' }) },
  });
  return { dataDir, settings, code, api, state };
}

/** The JSON the stand-in embeds in its page. */
function standInInfo(html: string) {
  return JSON.parse(/<script id="info" type="application\/json">(.*)<\/script>/.exec(html)![1]);
}

describe('code-server supervision (stand-in for code-server)', () => {
  it('should start the stand-in for code-server as the configured binary, on 127.0.0.1 outside the share range, and stop its group', { timeout: 40_000 }, async () => {
    const { code } = await setup();
    expect(await code.status()).toMatchObject({ state: 'stopped', binary: STAND_IN, install: null });
    const status = await code.start();
    expect(status).toMatchObject({ state: 'running', binary: STAND_IN });
    const port = Number(new URL(status.upstream!).port);
    expect(status.upstream).toBe(`http://127.0.0.1:${port}`);
    expect(port < 3000 || port > 9999).toBe(true);

    // the flags homeportd passes (the stand-in refuses to run without them)
    const page = standInInfo(await (await fetch(`${status.upstream}/`)).text());
    expect(page.argv).toEqual(['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check']);
    expect(await code.start()).toMatchObject({ state: 'running', pid: status.pid });

    const stopped = await code.stop();
    expect(stopped.state).toBe('stopped');
    expect(alive(status.pid!)).toBe(false);
    expect(await fetch(`${status.upstream}/healthz`).then(() => 'up', () => 'down')).toBe('down');
    expect(code.logs().map((l) => l.text).join('\n')).toContain(`code-server stand-in listening on 127.0.0.1:${port}`);
  });

  it('should say how to install code-server when there is none, and which configured path is wrong', { timeout: 20_000 }, async () => {
    const none = await setup({ PATH: '/nonexistent-bin' });
    expect(await none.code.status()).toMatchObject({ state: 'not-installed', install: INSTALL_HINT, lastError: null });
    await expect(none.code.start()).rejects.toThrow(INSTALL_HINT);
    const res = await none.api.request('/api/vscode/start', { method: 'POST' }, { door: 'socket' });
    expect(res.status).toBe(409);
    expect((await res.json()).error).toContain('code-server is not installed on this machine');
    const proxied = await none.api.request('/api/code/', {}, { door: 'socket' });
    expect(proxied.status).toBe(503);
    expect((await proxied.json()).error).toContain('curl -fsSL https://code-server.dev/install.sh | sh');

    const wrong = await setup({ HOMEPORT_CODE_SERVER: '/nonexistent/code-server', PATH: process.env.PATH });
    expect(await wrong.code.status()).toMatchObject({ state: 'not-installed', lastError: 'HOMEPORT_CODE_SERVER names /nonexistent/code-server, which is not an executable file' });
    // the setting wins over the environment
    await wrong.settings.update({ codeServerPath: STAND_IN });
    expect(await wrong.code.status()).toMatchObject({ state: 'stopped', binary: STAND_IN });
    await expect(wrong.settings.update({ codeServerPath: 'relative/code-server' })).rejects.toThrow('codeServerPath must be an absolute path');
  });

  it('should report a code-server that exits at once, with its output', { timeout: 20_000 }, async () => {
    const { dataDir, settings } = await setup();
    const script = join(dataDir, 'broken-code-server');
    writeFileSync(script, '#!/bin/sh\necho "error: missing libstdc++" >&2\nexit 3\n', { mode: 0o755 });
    const broken = new CodeServer({ dataDir: join(dataDir, 'other'), env: { HOMEPORT_CODE_SERVER: script }, settings, scanRange: { low: 3000, high: 9999 }, cwd: dataDir });
    cleanup.push(() => broken.close());
    const status = await broken.start();
    expect(status.state).toBe('errored');
    expect(status.lastError).toContain('missing libstdc++');
  });
});

describe('an external code-server (HOMEPORT_CODE_SERVER_URL, stand-in for code-server)', () => {
  it('should proxy to it without running anything, and refuse a port inside the share range', { timeout: 30_000 }, async () => {
    const port = await freePort(20000, 30000);
    const standIn = spawn(process.execPath, [STAND_IN, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry'], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => standIn.kill());
    await new Promise((r) => standIn.stdout!.once('data', r));

    const { code, api } = await setup({ HOMEPORT_CODE_SERVER_URL: `http://127.0.0.1:${port}` });
    expect(await code.status()).toMatchObject({ state: 'external', upstream: `http://127.0.0.1:${port}`, lastError: null });
    const page = await api.request('/api/code/?folder=%2Fsrv', {}, { door: 'socket' });
    expect(standInInfo(await page.text())).toMatchObject({ folder: '/srv' });
    await expect(code.start()).rejects.toThrow('code-server runs outside homeportd');
    const stop = await api.request('/api/vscode/stop', { method: 'POST' }, { door: 'socket' });
    expect([stop.status, (await stop.json()).error]).toEqual([409, expect.stringContaining('docker compose stop code-server')]);

    await expect(setup({ HOMEPORT_CODE_SERVER_URL: 'http://127.0.0.1:8443' })).rejects.toThrow("HOMEPORT_CODE_SERVER_URL's port 8443 is inside the share range 3000-9999");
    await expect(setup({ HOMEPORT_CODE_SERVER_URL: 'http://127.0.0.1:13337/vscode' })).rejects.toThrow('without a path');
  });
});

describe('code-server proxying on the node API and the LAN door (stand-in for code-server)', () => {
  it('should serve the stand-in under /api/code/, starting it on first use, without the doors\' credentials', { timeout: 40_000 }, async () => {
    const { api, code } = await setup();
    const redirect = await api.request('/api/code?folder=%2Fx', {}, { door: 'socket' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([308, 'code/?folder=%2Fx']);

    const res = await api.request('/api/code/?folder=%2Fhome%2Fme%2Fshop', { headers: { authorization: 'Bearer local-token-xyz', cookie: 'homeport_session=abc', origin: 'http://evil.example' } }, { door: 'tcp' });
    expect(res.status).toBe(200);
    const info = standInInfo(await res.text());
    expect(info).toMatchObject({ standIn: true, path: '/?folder=%2Fhome%2Fme%2Fshop', folder: '/home/me/shop' });
    expect(info.headers.authorization).toBeUndefined();
    expect(info.headers.cookie).toBeUndefined();
    expect(info.headers.origin).toBeUndefined();
    expect(info.headers['x-forwarded-prefix']).toBe('/api/code');
    expect(info.headers.host).toBe(new URL((await code.status()).upstream!).host);

    // the TCP door still needs its token
    expect((await api.request('/api/code/', {}, { door: 'tcp' })).status).toBe(401);

    // bodies both ways; absolute redirects become relative, so every door's prefix keeps working
    const echo = await api.request('/api/code/echo', { method: 'POST', body: 'x'.repeat(200_000) }, { door: 'socket' });
    expect((await echo.text()).length).toBe(200_000);
    const moved = await api.request('/api/code/absolute-redirect', {}, { door: 'socket' });
    expect([moved.status, moved.headers.get('location')]).toEqual([302, './landing']);

    const open = await api.request('/api/vscode/open', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ repo: 'shop' }) }, { door: 'socket' });
    expect(await open.json()).toMatchObject({
      repo: 'shop',
      folder: '/home/me/shop',
      url: 'https://dash.example/api/nodes/home/api/code/?folder=%2Fhome%2Fme%2Fshop',
      lanUrl: 'http://127.0.0.1:7870/code/?folder=%2Fhome%2Fme%2Fshop',
      status: { state: 'running' },
    });
    const unknown = await api.request('/api/vscode/open', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ repo: 'nope' }) }, { door: 'socket' });
    expect([unknown.status, (await unknown.json()).error]).toEqual([404, 'no repo "nope" (`homeport repos` lists them)']);
  });

  it('should relay /code/ on the LAN door, WebSockets included, and keep code-server\'s own origin check', { timeout: 40_000 }, async () => {
    const { code, state } = await setup();
    const lan = createLanServer(state, 'lan-key-123', lanCodeProxy(code));
    await new Promise<void>((r) => lan.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise((r) => lan.close(() => r(undefined))));
    lan.on('connection', (s) => cleanup.push(() => s.destroy()));
    const base = `127.0.0.1:${(lan.address() as { port: number }).port}`;

    // every client needs the LAN key, this machine too
    expect((await fetch(`http://${base}/code/?folder=%2Fsrv`)).status).toBe(403);
    const page = await fetch(`http://${base}/code/?folder=%2Fsrv`, { headers: { authorization: 'Bearer lan-key-123' } });
    expect(page.status).toBe(200);
    expect(standInInfo(await page.text())).toMatchObject({ folder: '/srv', path: '/?folder=%2Fsrv' });

    const socket = new WebSocket(`ws://${base}/code/stable-abc?reconnectionToken=1`, { headers: { origin: `http://${base}`, cookie: 'homeport_lan=lan-key-123' } });
    const messages: string[] = [];
    socket.on('message', (d) => messages.push(d.toString()));
    await new Promise((r, j) => socket.once('open', r).once('error', j));
    socket.send('ping');
    await new Promise<void>((r) => {
      const check = setInterval(() => messages.length >= 2 && (clearInterval(check), r()));
    });
    expect(messages).toEqual(['hello /stable-abc?reconnectionToken=1', 'ping']);
    socket.close();

    // another site's page cannot open it (code-server's origin check sees the LAN host)
    const foreign = new WebSocket(`ws://${base}/code/stable-abc`, { headers: { origin: 'http://evil.example', cookie: 'homeport_lan=lan-key-123' } });
    const refused = await new Promise<number>((r) => foreign.once('unexpected-response', (_q, res) => r(res.statusCode!)).once('open', () => r(101)));
    expect(refused).toBe(403);
  });

  it('should make absolute redirects relative to the request path', () => {
    expect(relativeLocation('/landing', '/absolute-redirect')).toBe('./landing');
    expect(relativeLocation('/landing?x=1', '/a/b/c?y')).toBe('../../landing?x=1');
    expect(relativeLocation('./here', '/a/b')).toBe('./here');
    expect(relativeLocation('https://elsewhere.example/', '/a')).toBe('https://elsewhere.example/');
    expect(relativeLocation('//evil.example/x', '/a')).toBe('//evil.example/x');
  });
});
