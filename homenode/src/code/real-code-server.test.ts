/**
 * The real code-server, wherever it is installed (on PATH or named by
 * HOMEPORT_CODE_SERVER). Where it is not (this machine: it needs a newer Node and
 * downloads at install), the same test checks that homeportd says so and how to
 * install it; it is never skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApi } from '../api.ts';
import { loadConfig } from '../config.ts';
import { openStore } from '../db/index.ts';
import { NodeSettings } from '../node-settings.ts';
import { NodeState } from '../node-state.ts';
import { PortSettingsStore } from '../port-settings.ts';
import { CodeServer, INSTALL_HINT } from './code-server.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('the real code-server', () => {
  it('should run behind /api/code/ where it is installed, and say how to install it where it is not', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'homeport-real-code-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = await openStore(dataDir);
    cleanup.push(() => store.close());
    const code = new CodeServer({ dataDir, env: process.env, settings: new NodeSettings(store), scanRange: { low: 3000, high: 9999 }, cwd: dataDir, readyTimeoutMs: 90_000 });
    cleanup.push(() => code.close());
    const state = new NodeState(loadConfig({ HOMEPORT_HOME: dataDir }), new PortSettingsStore(dataDir));
    const api = createApi({ state, tunnel: () => null, localToken: 't', code: { code, repo: async () => ({ name: 'here', path: dataDir }), baseUrls: () => ({ edge: null, lan: 'http://127.0.0.1:7870/code/' }) } });

    const { binary } = await code.locate();
    if (!binary) {
      expect(await code.status()).toMatchObject({ state: 'not-installed', install: INSTALL_HINT });
      const res = await api.request('/api/vscode/open', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ repo: 'here' }) }, { door: 'socket' });
      expect(res.status).toBe(409);
      const { error } = await res.json();
      expect(error).toContain('code-server is not installed on this machine');
      expect(error).toContain('HOMEPORT_CODE_SERVER=/path/to/code-server');
      return;
    }

    const open = await api.request('/api/vscode/open', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ repo: 'here' }) }, { door: 'socket' });
    expect(open.status).toBe(200);
    const view = await open.json();
    expect(view).toMatchObject({ folder: dataDir, status: { state: 'running', binary } });

    const page = await api.request(`/api/code/?folder=${encodeURIComponent(dataDir)}`, {}, { door: 'socket' });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/code-server|vscode/i);

    // its WebSocket answers the upgrade on the port homeportd gave it (the tunnel relays the same way)
    const upstream = new URL(view.status.upstream);
    const socket = new WebSocket(`ws://${upstream.host}/healthz`);
    const reply = await new Promise<string>((resolve, reject) => {
      socket.once('open', () => socket.send(JSON.stringify({ event: 'health' })));
      socket.once('message', (d) => resolve(d.toString()));
      socket.once('error', reject);
    });
    socket.close();
    expect(JSON.parse(reply)).toMatchObject({ event: 'health', status: expect.any(String) });
  });
});
