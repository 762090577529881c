import { existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PortInfo } from '@homeport/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, schema, type Store } from '../db/index.ts';
import { NodeSettings } from '../node-settings.ts';
import { SecretStore, Vault } from '../vault.ts';
import { commitFiles, git, makeRemote, makeWorkTree, tempDir } from './git-fixtures.ts';
import { RepoError, RepoService, type CloneEvent, type RepoView } from './service.ts';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0).reverse()) fn();
});

function dir(prefix?: string) {
  const d = tempDir(prefix);
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function setup() {
  const dataDir = dir('homeport-node-');
  const store: Store = await openStore(dataDir);
  cleanup.push(() => store.close());
  const settings = new NodeSettings(store);
  const secrets = new SecretStore(store, Vault.fromDataDir(dataDir));
  const service = new RepoService({ store, secrets, settings, reposDir: join(dataDir, 'repos') });
  await service.init();
  const outbox = async () => (await store.db.select().from(schema.outbox)).map((r) => ({ topic: r.topic, type: r.type, payload: JSON.parse(r.payload) }));
  return { dataDir, store, service, settings, secrets, outbox };
}

function remote(name?: string) {
  const r = makeRemote(name);
  cleanup.push(() => rmSync(join(r.bare, '..'), { recursive: true, force: true }));
  return r;
}

/** Waits for a clone to end; resolves with all its events. */
function cloneEnd(service: RepoService, id: string): Promise<CloneEvent[]> {
  const job = service.cloneEvents(id);
  if (!job) throw new Error('no clone job');
  return new Promise((resolve) => {
    const events = [...job.past];
    if (job.finished) return resolve(events);
    const stop = job.follow((e) => {
      events.push(e);
      if (e.type !== 'progress') {
        stop();
        resolve(events);
      }
    });
  });
}

async function statusOf(error: Promise<unknown>): Promise<{ status: number; message: string }> {
  const e = await error.then(
    () => null,
    (e) => e,
  );
  expect(e).toBeInstanceOf(RepoError);
  return { status: e.status, message: e.message };
}

describe('RepoService.clone', () => {
  it('should clone in the background with progress events and end ready', async () => {
    const { service, outbox } = await setup();
    const { url } = remote('demo');
    const repo = await service.clone({ url });
    expect(repo).toMatchObject({ name: 'demo', state: 'cloning', source: 'clone', remoteUrl: url, defaultBranch: 'main' });
    const events = await cloneEnd(service, repo.id);

    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.map((p) => p.phase)).toContain('Receiving objects');
    expect(progress.find((p) => p.phase === 'Receiving objects' && p.percent === 100)).toBeTruthy();
    const last = events.at(-1)!;
    expect(last.type).toBe('done');
    const done = (last as { repo: RepoView }).repo;
    expect(done).toMatchObject({ id: repo.id, state: 'ready', defaultBranch: 'main' });
    expect(existsSync(join(repo.path, 'package.json'))).toBe(true);
    expect((await service.get('demo')).state).toBe('ready');

    expect((await outbox()).map((o) => [o.topic, o.type, o.payload.id, o.payload.state])).toEqual([
      ['repos', 'repo.added', repo.id, 'cloning'],
      ['repos', 'repo.updated', repo.id, 'ready'],
    ]);
  });

  it('should clone under another name', async () => {
    const { service } = await setup();
    const repo = await service.clone({ url: remote('demo').url, name: 'my-app' });
    expect((await cloneEnd(service, repo.id)).at(-1)!.type).toBe('done');
    expect(repo.path.endsWith('/repos/my-app')).toBe(true);
  });

  it("should refuse a URL git cannot read with git's own words, leaving nothing behind", async () => {
    const { service, dataDir } = await setup();
    const missing = `file://${dir()}/nothing-here.git`;
    const { status, message } = await statusOf(service.clone({ url: missing }));
    expect(status).toBe(400);
    expect(message).toContain(`git cannot clone ${missing}`);
    expect(message).toMatch(/does not appear to be a git repository|not found|No such file/i);
    expect(await service.list()).toEqual([]);
    expect(existsSync(join(dataDir, 'repos', 'nothing-here'))).toBe(false);
  });

  it('should refuse bad URLs, credentials in URLs and taken names', async () => {
    const { service } = await setup();
    expect((await statusOf(service.clone({ url: '' }))).status).toBe(400);
    expect((await statusOf(service.clone({ url: '--upload-pack=touch /tmp/x' }))).status).toBe(400);
    expect((await statusOf(service.clone({ url: 'ext::sh -c touch% /tmp/pwned' }))).message).toMatch(/not a git URL|not supported/);
    expect((await statusOf(service.clone({ url: 'https://ghp_abc@github.com/o/r.git' }))).message).toContain('no credentials in the URL');
    expect((await statusOf(service.clone({ url: 'https://me:pw@github.com/o/r.git' }))).status).toBe(400);
    expect((await statusOf(service.clone({ url: remote().url, name: '../escape' }))).message).toContain('cannot be a repo name');

    const { url } = remote('demo');
    const first = await service.clone({ url });
    await cloneEnd(service, first.id);
    const again = await statusOf(service.clone({ url }));
    expect(again.status).toBe(409);
    expect(again.message).toContain('already a repo named "demo"');
  });

  it('should not clone over a folder that exists, and leave it as it was', async () => {
    const { service, dataDir } = await setup();
    const mine = join(dataDir, 'repos', 'demo');
    mkdirSync(mine, { recursive: true });
    writeFileSync(join(mine, 'notes.txt'), 'mine');
    const { status, message } = await statusOf(service.clone({ url: remote('demo').url }));
    expect(status).toBe(409);
    expect(message).toContain('already exists');
    expect(existsSync(join(mine, 'notes.txt'))).toBe(true);
    expect(await service.list()).toEqual([]);
  });

  it('should remove the row and folder of a clone homeportd did not finish', async () => {
    const { service, store, dataDir } = await setup();
    const path = join(dataDir, 'repos', 'half');
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'partial'), 'x');
    await store.db.insert(schema.repos).values({ id: 'repo_half', name: 'half', path, remoteUrl: 'file:///x.git', defaultBranch: null, source: 'clone', state: 'cloning', addedAt: 1, updatedAt: 1 });
    await service.init();
    expect(await service.list()).toEqual([]);
    expect(existsSync(path)).toBe(false);
  });
});

describe('RepoService.register', () => {
  it('should register the top of a local work tree, with its remote and branch', async () => {
    const { service, outbox } = await setup();
    const { upstream, bare } = remote('app');
    const sub = join(upstream, 'src');
    const repo = await service.register({ path: sub });
    expect(repo).toMatchObject({ name: 'upstream', path: realpathSync(upstream), source: 'local', state: 'ready', remoteUrl: bare, defaultBranch: 'main' });
    expect((await outbox()).map((o) => o.type)).toEqual(['repo.added']);
    const dup = await statusOf(service.register({ path: upstream, name: 'other' }));
    expect(dup.status).toBe(409);
    expect(dup.message).toContain('already registered as "upstream"');
  });

  it('should refuse a folder that is not a git work tree, and a relative path', async () => {
    const { service } = await setup();
    const plain = dir();
    const notGit = await statusOf(service.register({ path: plain }));
    expect(notGit.status).toBe(400);
    expect(notGit.message).toContain('is not a git work tree');
    expect((await statusOf(service.register({ path: 'relative/path' }))).message).toContain('not an absolute path');
    expect((await statusOf(service.register({ path: join(plain, 'missing') }))).message).toContain('is not a folder');
  });

  it('should store the remote URL without a password', async () => {
    const { service } = await setup();
    const work = makeWorkTree(join(dir(), 'creds'), { 'a.txt': 'a' });
    git(work, 'remote', 'add', 'origin', 'https://x-access-token:ghp_leaked@github.com/o/r.git');
    const repo = await service.register({ path: work });
    expect(repo.remoteUrl).toBe('https://github.com/o/r.git');
  });
});

describe('RepoService.status and pull', () => {
  it('should report branch, dirty state, ahead/behind and the last commit', async () => {
    const { service } = await setup();
    const { upstream } = remote();
    const repo = await service.register({ path: upstream });
    const row = await service.find(repo.id);
    let s = await service.status(row);
    expect(s).toMatchObject({ branch: 'main', detached: false, upstream: 'origin/main', ahead: 0, behind: 0, dirty: false, changed: 0, untracked: 0 });
    expect(s.lastCommit).toMatchObject({ subject: 'first commit', author: 'Ada Tester', hash: git(upstream, 'rev-parse', 'HEAD').trim() });

    writeFileSync(join(upstream, 'package.json'), '{}');
    writeFileSync(join(upstream, 'new.txt'), 'new');
    s = await service.status(row);
    expect(s).toMatchObject({ dirty: true, changed: 1, untracked: 1 });

    commitFiles(upstream, {}, 'local work');
    s = await service.status(row);
    expect(s).toMatchObject({ dirty: false, ahead: 1, behind: 0, lastCommit: expect.objectContaining({ subject: 'local work' }) });
  });

  it('should fast-forward on pull and record the update', async () => {
    const { service, outbox } = await setup();
    const r = remote('demo');
    const repo = await service.clone({ url: r.url });
    await cloneEnd(service, repo.id);

    const nothing = await service.pull('demo');
    expect(nothing.updated).toBe(false);

    const head = commitFiles(r.upstream, { 'CHANGELOG.md': 'v2' }, 'second commit');
    git(r.upstream, 'push', '-q', 'origin', 'main');
    const pulled = await service.pull('demo');
    expect(pulled).toMatchObject({ updated: true, to: head, status: { behind: 0, lastCommit: { subject: 'second commit' } } });
    expect(existsSync(join(repo.path, 'CHANGELOG.md'))).toBe(true);
    const last = (await outbox()).at(-1)!;
    expect(last).toMatchObject({ type: 'repo.updated', payload: { id: repo.id, head } });
  });

  it('should say clearly when a pull cannot fast-forward', async () => {
    const { service } = await setup();
    const r = remote('demo');
    const repo = await service.clone({ url: r.url });
    await cloneEnd(service, repo.id);
    commitFiles(r.upstream, { 'theirs.txt': 'theirs' }, 'their commit');
    git(r.upstream, 'push', '-q', 'origin', 'main');
    commitFiles(repo.path, { 'mine.txt': 'mine' }, 'my commit');

    const { status, message } = await statusOf(service.pull('demo'));
    expect(status).toBe(409);
    expect(message).toContain('cannot fast-forward');
    expect(existsSync(join(repo.path, 'theirs.txt'))).toBe(false);
  });

  it('should answer 404 for an unknown repo', async () => {
    const { service } = await setup();
    expect((await statusOf(service.pull('nope'))).status).toBe(404);
    expect((await statusOf(service.remove('nope'))).status).toBe(404);
  });
});

describe('RepoService.remove', () => {
  it('should keep the files unless asked to delete them', async () => {
    const { service, outbox } = await setup();
    const kept = await service.register({ path: makeWorkTree(join(dir(), 'kept'), { 'a.txt': 'a' }) });
    const r = await service.remove('kept');
    expect(r.filesDeleted).toBe(false);
    expect(existsSync(join(kept.path, 'a.txt'))).toBe(true);

    const cloned = await service.clone({ url: remote('gone').url });
    await cloneEnd(service, cloned.id);
    expect((await service.remove(cloned.id, { deleteFiles: true })).filesDeleted).toBe(true);
    expect(existsSync(cloned.path)).toBe(false);
    expect(await service.list()).toEqual([]);
    expect((await outbox()).filter((o) => o.type === 'repo.removed').map((o) => o.payload.id)).toEqual([kept.id, cloned.id]);
  });

  it('should not delete a folder that is no longer the work tree it registered', async () => {
    const { service } = await setup();
    const work = makeWorkTree(join(dir(), 'moved'), { 'a.txt': 'a' });
    await service.register({ path: work });
    rmSync(join(work, '.git'), { recursive: true, force: true });
    const { status } = await statusOf(service.remove('moved', { deleteFiles: true }));
    expect(status).toBe(409);
    expect(existsSync(join(work, 'a.txt'))).toBe(true);
    expect((await service.list()).map((r) => r.name)).toEqual(['moved']);
  });
});

describe('RepoService server settings and ports', () => {
  it('should store command and env, and write them to the outbox', async () => {
    const { service, outbox } = await setup();
    const repo = await service.register({ path: makeWorkTree(join(dir(), 'web'), { 'package.json': JSON.stringify({ scripts: { dev: 'vite' } }), 'pnpm-lock.yaml': '' }) });
    expect(await service.startCommand(await service.find('web'))).toEqual({ command: 'pnpm run dev', reason: expect.stringContaining('pnpm-lock.yaml') });

    const updated = await service.updateServer('web', { command: 'node server.js --port 4000', env: { PORT: '4000', API_URL: 'http://localhost:9' } });
    expect(updated.server).toMatchObject({ command: 'node server.js --port 4000', env: { PORT: '4000', API_URL: 'http://localhost:9' }, desiredState: 'stopped' });
    expect(await service.startCommand(await service.find('web'))).toEqual({ command: 'node server.js --port 4000', reason: 'set by hand' });
    await service.setDesiredState(repo.id, 'running');
    expect((await service.get('web')).server.desiredState).toBe('running');
    expect((await outbox()).filter((o) => o.topic === 'servers').map((o) => [o.type, o.payload.desiredState, o.payload.command])).toEqual([
      ['server.updated', 'stopped', 'node server.js --port 4000'],
      ['server.updated', 'running', 'node server.js --port 4000'],
    ]);

    await service.updateServer('web', { command: null });
    expect((await service.startCommand(await service.find('web'))).command).toBe('pnpm run dev');
    expect((await statusOf(service.updateServer('web', { env: { 'BAD NAME': 'x' } }))).status).toBe(400);
    expect((await statusOf(service.updateServer('web', { env: { PORT: 4000 } }))).message).toContain('must be a string');
    expect((await statusOf(service.updateServer('web', { colour: 'red' }))).message).toContain('unknown setting');
  });

  it('should give scanned ports the registered name and id of their repo', async () => {
    const { service } = await setup();
    const work = makeWorkTree(join(dir(), 'folder-name'), { 'a.txt': 'a' });
    const repo = await service.register({ path: work, name: 'nice-name' });
    const port = (root: string): PortInfo => ({ port: 3000, address: '127.0.0.1', pid: 1, command: 'node', cwd: root, repo: { root, name: 'folder-name' }, firstSeen: 0 });
    const [tagged] = service.tagPorts([port(realpathSync(work))]);
    expect(tagged.repo).toEqual({ root: realpathSync(work), name: 'nice-name', id: repo.id });
    const [other] = service.tagPorts([port('/somewhere/else')]);
    expect(other.repo).toEqual({ root: '/somewhere/else', name: 'folder-name' });
  });
});
