import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { git, gitSandbox, type Sandbox } from './git/fixtures.ts';
import { MAX_FILE_BYTES } from './files/files.ts';
import { repoWorkApi } from './repo-work-api.ts';

let box: Sandbox;
let app: ReturnType<typeof repoWorkApi>;

beforeEach(async () => {
  box = await gitSandbox();
  await mkdir(join(box.dir, 'outside'));
  await writeFile(join(box.dir, 'outside', 'secret.txt'), 'secret');
  await symlink(join(box.dir, 'outside'), join(box.repo, 'out'));
  const repos: Record<string, { root: string }> = { demo: { root: box.repo } };
  app = repoWorkApi(async (name) => repos[name] ?? null);
});

afterEach(() => box.cleanup());

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const put = (body: unknown) => ({ ...json(body), method: 'PUT' });

async function call(path: string, init?: RequestInit) {
  const res = await app.request(path, init);
  return { status: res.status, body: await res.json() };
}

describe('files routes', () => {
  it('should list, read, write, move and delete through the API', async () => {
    const listing = await call('/api/repos/demo/files');
    expect(listing.status).toBe(200);
    expect(listing.body.entries.map((e: { name: string }) => e.name)).toEqual(['.git', 'README.md', 'out']);

    const read = await call('/api/repos/demo/files/content?path=README.md');
    expect(read.body).toMatchObject({ path: 'README.md', content: '# hello\n', encoding: 'utf8' });

    const created = await call('/api/repos/demo/files/content?path=docs/new.md', put({ content: 'new\n' }));
    expect(created).toMatchObject({ status: 201, body: { path: 'docs/new.md', created: true } });
    const saved = await call('/api/repos/demo/files/content?path=README.md', put({ content: '# edited\n', ifMatch: read.body.etag }));
    expect(saved).toMatchObject({ status: 200, body: { created: false } });
    expect(await readFile(join(box.repo, 'README.md'), 'utf8')).toBe('# edited\n');

    expect(await call('/api/repos/demo/files/mkdir', json({ path: 'assets/img' }))).toEqual({ status: 201, body: { path: 'assets/img' } });
    expect(await call('/api/repos/demo/files/move', json({ from: 'docs/new.md', to: 'assets/new.md' }))).toEqual({
      status: 200,
      body: { from: 'docs/new.md', to: 'assets/new.md' },
    });
    expect((await call('/api/repos/demo/files/content?path=assets', { method: 'DELETE' })).status).toBe(400);
    expect(await call('/api/repos/demo/files/content?path=assets&recursive=true', { method: 'DELETE' })).toEqual({
      status: 200,
      body: { path: 'assets', deleted: true },
    });
  });

  it('should answer 409 for a save over a file changed since it was read', async () => {
    const read = await call('/api/repos/demo/files/content?path=README.md');
    await writeFile(join(box.repo, 'README.md'), 'changed elsewhere\n');
    const res = await call('/api/repos/demo/files/content?path=README.md', put({ content: 'mine', ifMatch: read.body.etag }));
    expect(res.status).toBe(409);
    expect(res.body.error).toContain('changed since you opened it');
    expect(await readFile(join(box.repo, 'README.md'), 'utf8')).toBe('changed elsewhere\n');
  });

  it.each([
    ['../outside/secret.txt'],
    ['/etc/passwd'],
    ['a/../../outside/secret.txt'],
    ['out/secret.txt'],
  ])('should refuse %s with 403 JSON', async (path) => {
    const res = await call(`/api/repos/demo/files/content?path=${encodeURIComponent(path)}`);
    expect(res.status).toBe(403);
    expect(Object.keys(res.body)).toEqual(['error']);
  });

  it('should refuse a NUL byte and writes into .git or through an escaping link', async () => {
    expect((await call('/api/repos/demo/files/content?path=a%00b')).status).toBe(400);
    expect((await call('/api/repos/demo/files/content?path=.git/hooks/pre-commit', put({ content: 'x' }))).status).toBe(403);
    expect((await call('/api/repos/demo/files/content?path=out/planted.txt', put({ content: 'x' }))).status).toBe(403);
    expect((await call('/api/repos/demo/files/move', json({ from: 'README.md', to: '../README.md' }))).status).toBe(403);
  });

  it('should answer 413 for files over the limit, both ways', async () => {
    await writeFile(join(box.repo, 'big.bin'), Buffer.alloc(MAX_FILE_BYTES + 1, 1));
    const read = await call('/api/repos/demo/files/content?path=big.bin');
    expect(read.status).toBe(413);
    expect(read.body.error).toContain(String(MAX_FILE_BYTES));
    const write = await call('/api/repos/demo/files/content?path=huge.txt', put({ content: 'x'.repeat(MAX_FILE_BYTES + 1) }));
    expect(write.status).toBe(413);
    const hugeBody = await call('/api/repos/demo/files/content?path=huge.txt', put({ content: 'x'.repeat(MAX_FILE_BYTES * 2) }));
    expect(hugeBody.status).toBe(413);
    expect(Object.keys(hugeBody.body)).toEqual(['error']);
  });

  it('should answer 404 for an unknown repo and 400 for bad bodies', async () => {
    expect(await call('/api/repos/nope/files')).toEqual({ status: 404, body: { error: 'there is no repo "nope"' } });
    expect((await call('/api/repos/demo/files/content')).status).toBe(400);
    expect((await call('/api/repos/demo/files/content?path=x.txt', { method: 'PUT', body: 'not json' })).status).toBe(400);
    expect((await call('/api/repos/demo/files/content?path=x.txt', put({ content: 5 }))).status).toBe(400);
  });
});

describe('git routes', () => {
  it('should show status, diff and log, and run structured operations', async () => {
    await writeFile(join(box.repo, 'README.md'), '# hello\nworld\n');
    const status = await call('/api/repos/demo/git/status');
    expect(status.body.files).toEqual([
      expect.objectContaining({ path: 'README.md', state: 'modified' }),
      expect.objectContaining({ path: 'out', state: 'untracked' }),
    ]);
    const diff = await call('/api/repos/demo/git/diff?path=README.md');
    expect(diff.body.files[0].patch).toContain('+world');

    expect((await call('/api/repos/demo/git', json({ op: 'add', paths: ['README.md'] }))).status).toBe(200);
    const staged = await call('/api/repos/demo/git/diff?staged=true');
    expect(staged.body.files.map((f: { path: string }) => f.path)).toEqual(['README.md']);
    const committed = await call('/api/repos/demo/git', json({ op: 'commit', message: 'say world' }));
    expect(committed.status).toBe(200);
    const log = await call('/api/repos/demo/git/log?limit=1');
    expect(log.body.commits).toEqual([expect.objectContaining({ hash: committed.body.commit, subject: 'say world' })]);

    expect((await call('/api/repos/demo/git', json({ op: 'push' }))).status).toBe(200);
    expect(git(box.remote, 'rev-parse', 'main').trim()).toBe(committed.body.commit);
  });

  it('should refuse non-whitelisted commands and option-looking values', async () => {
    const gc = await call('/api/repos/demo/git', json({ op: 'gc' }));
    expect(gc.status).toBe(403);
    expect(gc.body.error).toContain('not allowed');
    expect((await call('/api/repos/demo/git', json({ op: 'config', key: 'user.name', value: 'x', scope: 'global' }))).status).toBe(403);
    expect((await call('/api/repos/demo/git', json({ op: 'fetch', remote: '--upload-pack=touch /tmp/x' }))).status).toBe(403);
    expect((await call('/api/repos/demo/git', json({ op: 'checkout', branch: '-b' }))).status).toBe(400);
    expect((await call('/api/repos/demo/git/log?ref=--all')).status).toBe(400);
    expect((await call('/api/repos/demo/git', json(['status']))).status).toBe(400);
  });

  it('should get and set the repo identity', async () => {
    expect((await call('/api/repos/demo/git/identity')).body).toMatchObject({ name: 'Test Owner', email: 'owner@example.com' });
    const set = await call('/api/repos/demo/git/identity', put({ name: 'Ada', email: 'ada@example.com' }));
    expect(set).toMatchObject({ status: 200, body: { name: 'Ada', email: 'ada@example.com' } });
    expect((await call('/api/repos/demo/git/identity', put({ email: 'nope' }))).status).toBe(400);
  });

  it('should answer 409 for a folder that is not a git repository', async () => {
    const plain = join(box.dir, 'plain');
    await mkdir(plain);
    const other = repoWorkApi(async () => ({ root: plain }));
    const res = await other.request('/api/repos/plain/git/status');
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: 'this folder is not a git repository (no .git at its top)' });
  });
});
