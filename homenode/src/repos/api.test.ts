import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApi, type Door } from '../api.ts';
import { loadConfig } from '../config.ts';
import { openStore, schema } from '../db/index.ts';
import { NodeSettings } from '../node-settings.ts';
import { NodeState } from '../node-state.ts';
import { PortSettingsStore } from '../port-settings.ts';
import { Supervisor } from '../servers/supervisor.ts';
import { SecretStore, Vault } from '../vault.ts';
import { commitFiles, makeRemote, makeWorkTree, tempDir } from './git-fixtures.ts';
import { RepoServers } from './servers.ts';
import { RepoService } from './service.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup() {
  const dataDir = tempDir('homeport-api-');
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ HOMEPORT_HOME: dataDir });
  const store = await openStore(dataDir);
  cleanup.push(() => store.close());
  const settings = new NodeSettings(store);
  const secrets = new SecretStore(store, Vault.fromDataDir(dataDir));
  const repos = new RepoService({ store, secrets, settings, reposDir: config.reposDir });
  await repos.init();
  const state = new NodeState(config, new PortSettingsStore(dataDir));
  const supervisor = new Supervisor({ logDir: join(dataDir, 'servers'), readyAfterMs: 1000, stopTimeoutMs: 2000 });
  cleanup.push(() => supervisor.stopAll());
  const servers = new RepoServers({ repos, supervisor, settings, ports: () => state.ports, settleMs: 5000 });
  const api = createApi({ state, tunnel: () => null, localToken: 'local-token', repos: { repos, settings, secrets, servers } });
  const request = async (method: string, path: string, body?: unknown, door: Door = 'socket') => {
    const res = await api.request(path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }, { door });
    const text = await res.text();
    let json: Record<string, any> = {};
    try {
      json = JSON.parse(text);
    } catch {
      // SSE or empty
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  return { api, request, store, repos, dataDir };
}

function remote(name = 'demo') {
  const r = makeRemote(name);
  cleanup.push(() => rmSync(join(r.bare, '..'), { recursive: true, force: true }));
  return r;
}

function workTree(files: Record<string, string>, name = 'app') {
  const root = tempDir();
  cleanup.push(() => rmSync(root, { recursive: true, force: true }));
  return makeWorkTree(join(root, name), files);
}

/** Parses an SSE body into events. */
function events(text: string): { event: string; data: any; id?: string }[] {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
      return { event: field('event') ?? 'message', data: JSON.parse(field('data')!), id: field('id') };
    });
}

const DEV_SERVER = `
const http = require('node:http');
console.log('hello from ' + process.env.GREETING);
http.createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', () => console.log('listening'));
`;

describe('repos API', () => {
  it('should clone with 202 and stream the progress as SSE, then list the repo with its git status', async () => {
    const { request } = await setup();
    const { url } = remote('demo');
    const posted = await request('POST', '/api/repos', { url });
    expect(posted.status).toBe(202);
    expect(posted.json.repo).toMatchObject({ name: 'demo', state: 'cloning' });
    expect(posted.json.progress).toBe(`/api/repos/${posted.json.repo.id}/progress`);

    const progress = await request('GET', posted.json.progress);
    expect(progress.headers.get('content-type')).toContain('text/event-stream');
    const evs = events(progress.text);
    expect(evs.some((e) => e.event === 'progress' && e.data.phase === 'Receiving objects')).toBe(true);
    expect(evs.at(-1)).toMatchObject({ event: 'done', data: { repo: { state: 'ready' } } });

    // A late reader (by name too) gets the whole story at once, ending with the end.
    expect(events((await request('GET', '/api/repos/demo/progress')).text).at(-1)).toMatchObject({ event: 'done', data: { repo: { state: 'ready' } } });

    const list = await request('GET', '/api/repos');
    expect(list.json.repos).toEqual([
      expect.objectContaining({ name: 'demo', state: 'ready', git: expect.objectContaining({ branch: 'main', dirty: false, lastCommit: expect.objectContaining({ subject: 'first commit' }) }), detected: expect.objectContaining({ command: 'npm run dev', framework: 'vite' }) }),
    ]);
  });

  it('should answer clear 4xx errors: bad URL with git stderr, not a work tree, unknown repo', async () => {
    const { request } = await setup();
    const missing = `file://${tempDir()}/nope.git`;
    const bad = await request('POST', '/api/repos', { url: missing });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('git cannot clone');
    expect(bad.json.error).toMatch(/fatal:/);

    const plain = tempDir();
    cleanup.push(() => rmSync(plain, { recursive: true, force: true }));
    const notGit = await request('POST', '/api/repos', { path: plain });
    expect(notGit.status).toBe(400);
    expect(notGit.json.error).toContain('not a git work tree');

    for (const [method, path] of [
      ['GET', '/api/repos/nope'],
      ['DELETE', '/api/repos/nope'],
      ['POST', '/api/repos/nope/pull'],
      ['GET', '/api/repos/nope/progress'],
      ['PUT', '/api/repos/nope/settings'],
    ]) {
      const res = await request(method, path, method === 'PUT' ? {} : undefined);
      expect([res.status, res.json.error]).toEqual([404, 'no repo "nope" (`homeport repos` lists them)']);
    }
    expect((await request('POST', '/api/repos', 'not an object')).status).toBe(400);
  });

  it('should register, pull, change settings and remove (files kept)', async () => {
    const { request, store } = await setup();
    const r = remote('lib');
    const added = await request('POST', '/api/repos', { path: r.upstream, name: 'lib' });
    expect(added.status).toBe(201);
    expect(added.json.repo).toMatchObject({ name: 'lib', source: 'local' });

    const head = commitFiles(r.upstream, { 'x.txt': 'x' }, 'local commit');
    const pulled = await request('POST', '/api/repos/lib/pull');
    expect(pulled.status).toBe(200);
    expect(pulled.json).toMatchObject({ updated: false, to: head, status: { ahead: 1 } });

    const put = await request('PUT', '/api/repos/lib/settings', { command: 'node dev.js', env: { GREETING: 'hi' } });
    expect(put.json).toMatchObject({ command: 'node dev.js', env: { GREETING: 'hi' }, detected: { command: 'npm run dev' } });
    expect((await request('GET', '/api/repos/lib/settings')).json.command).toBe('node dev.js');
    expect((await request('PUT', '/api/repos/lib/settings', { env: ['x'] })).status).toBe(400);

    const removed = await request('DELETE', '/api/repos/lib');
    expect(removed.json).toMatchObject({ filesDeleted: false, removed: { name: 'lib' } });
    expect((await request('GET', '/api/repos/lib')).status).toBe(404);
    expect((await request('DELETE', `/api/repos/x?deleteFiles=maybe`)).status).toBe(400);
    const types = (await store.db.select().from(schema.outbox)).map((o) => o.type);
    expect(types).toEqual(['repo.added', 'server.updated', 'repo.removed']);
  });

  it('should keep the GitHub token write-only', async () => {
    const { request } = await setup();
    expect((await request('GET', '/api/secrets/github-token')).json).toEqual({ set: false, updatedAt: null });
    const put = await request('PUT', '/api/secrets/github-token', { token: 'ghp_apiSecret42' });
    expect(put.status).toBe(200);
    expect(put.json.set).toBe(true);
    for (const path of ['/api/secrets/github-token', '/api/settings']) {
      const res = await request('GET', path);
      expect(res.text).not.toContain('ghp_apiSecret42');
      expect(JSON.stringify(res.json)).toContain('"set":true');
    }
    expect((await request('PUT', '/api/secrets/github-token', { token: 'has space' })).status).toBe(400);
    expect((await request('DELETE', '/api/secrets/github-token')).json.set).toBe(false);
  });

  it('should read and validate node settings', async () => {
    const { request } = await setup();
    // Other areas (agents, services) add their own keys: only these are this test's.
    expect((await request('GET', '/api/settings')).json.settings).toMatchObject({ githubBaseUrl: 'https://github.com/', autoRestart: true, idleTimeoutMinutes: null, restoreServers: true });
    const put = await request('PUT', '/api/settings', { idleTimeoutMinutes: 30, githubBaseUrl: 'https://ghe.example.com' });
    expect(put.json.settings).toMatchObject({ idleTimeoutMinutes: 30, githubBaseUrl: 'https://ghe.example.com/' });
    const bad = await request('PUT', '/api/settings', { idleTimeoutMinutes: 5, colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('unknown field "colour"');
    expect((await request('GET', '/api/settings')).json.settings.idleTimeoutMinutes).toBe(30);
    expect((await request('PUT', '/api/settings', { autoRestart: 'yes' })).json.error).toBe('autoRestart must be true or false');
  });

  it('should need the local token on the TCP door', async () => {
    const { request } = await setup();
    expect((await request('GET', '/api/repos', undefined, 'tcp')).status).toBe(401);
    expect((await request('GET', '/api/repos', undefined, 'tunnel')).status).toBe(200);
  });
});

describe('dev server API', () => {
  it('should start, log, list and stop a repo dev server with its env', async () => {
    const { request, repos } = await setup();
    const path = workTree({ 'dev.js': DEV_SERVER }, 'srv');
    await request('POST', '/api/repos', { path });
    await request('PUT', '/api/repos/srv/settings', { command: 'node dev.js', env: { GREETING: 'homeport' } });

    const started = await request('POST', '/api/repos/srv/server/start');
    expect(started.status).toBe(200);
    expect(started.json.status).toMatchObject({ state: 'running' });
    expect((await repos.get('srv')).server.desiredState).toBe('running');
    expect((await request('POST', '/api/repos/srv/server/start')).status).toBe(409);

    let texts: string[] = [];
    for (let i = 0; i < 50 && !texts.includes('listening'); i++) {
      texts = (await request('GET', '/api/repos/srv/server/logs?tail=50')).json.lines.map((l: { text: string }) => l.text);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(texts).toContain('hello from homeport');

    const list = await request('GET', '/api/servers');
    expect(list.json.servers).toEqual([expect.objectContaining({ name: 'srv', desiredState: 'running', command: 'node dev.js', status: expect.objectContaining({ state: 'running' }) })]);

    const stopped = await request('POST', '/api/repos/srv/server/stop');
    expect(stopped.json.status).toMatchObject({ state: 'stopped' });
    expect((await repos.get('srv')).server.desiredState).toBe('stopped');
  });

  it('should follow logs as SSE from a Last-Event-ID', async () => {
    const { api, request } = await setup();
    const path = workTree({ 'dev.js': DEV_SERVER }, 'follow');
    await request('POST', '/api/repos', { path });
    await request('PUT', '/api/repos/follow/settings', { command: 'node dev.js', env: { GREETING: 'sse' } });
    await request('POST', '/api/repos/follow/server/start');
    const all = (await request('GET', '/api/repos/follow/server/logs')).json.lines as { seq: number; text: string }[];
    const first = all[0].seq;

    const res = await api.request('/api/repos/follow/server/logs?follow=1', { headers: { 'last-event-id': String(first) } }, { door: 'socket' });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('listening')) text += new TextDecoder().decode((await reader.read()).value);
    const got = events(text.slice(0, text.lastIndexOf('\n\n') + 2));
    expect(got[0]).toMatchObject({ event: 'log', id: String(first + 1) });
    expect(got.every((e) => e.data.seq > first)).toBe(true);

    // A line written after the stream opened arrives on it.
    await request('POST', '/api/repos/follow/server/stop');
    while (!text.includes('"stopped"')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(events(text.slice(0, text.lastIndexOf('\n\n') + 2)).map((e) => e.data.text)).toContain('stopped');
  });

  it('should report a start command that exits at once with its last lines', async () => {
    const { request, repos } = await setup();
    const path = workTree({ 'README.md': '# broken' }, 'broken');
    await request('POST', '/api/repos', { path });
    await request('PUT', '/api/repos/broken/settings', { command: 'echo "Error: cannot find module vite" >&2; exit 1' });
    const res = await request('POST', '/api/repos/broken/server/start');
    expect(res.status).toBe(422);
    expect(res.json.error).toContain("broken's dev server did not start");
    expect(res.json.error).toContain('cannot find module vite');
    expect((await repos.get('broken')).server.desiredState).toBe('running');
  });

  it('should say when a repo has nothing to start', async () => {
    const { request } = await setup();
    const path = workTree({ 'README.md': '# docs' }, 'docs');
    await request('POST', '/api/repos', { path });
    const res = await request('POST', '/api/repos/docs/server/start');
    expect(res.status).toBe(409);
    expect(res.json.error).toContain('has no start command: no package.json');
  });
});


