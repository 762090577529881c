import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTPException } from 'hono/http-exception';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deletePath, etagOf, listDir, makeDir, movePath, readFileContent, writeFileContent } from './files.ts';

let dir: string;
let root: string;
let outside: string;

beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'homeport-files-')));
  root = join(dir, 'repo');
  outside = join(dir, 'outside');
  await mkdir(join(root, 'src'), { recursive: true });
  await mkdir(join(root, '.git'));
  await mkdir(outside);
  await writeFile(join(root, 'src', 'main.ts'), 'console.log(1);\n');
  await writeFile(join(root, '.env'), 'A=1\n');
  await writeFile(join(root, 'b.txt'), 'bee');
  await writeFile(join(outside, 'secret.txt'), 'secret');
  await symlink(outside, join(root, 'out'));
  await symlink('src', join(root, 'src-link'));
});

afterEach(() => rm(dir, { recursive: true, force: true }));

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HTTPException) return error.status;
    throw error;
  }
  return 200;
}

describe('listDir', () => {
  it('should list folders first, hidden files included, with sizes and link targets', async () => {
    const listing = await listDir(root, '');
    expect(listing.path).toBe('.');
    expect(listing.entries.map((e) => [e.name, e.type])).toEqual([
      ['.git', 'dir'],
      ['src', 'dir'],
      ['.env', 'file'],
      ['b.txt', 'file'],
      ['out', 'symlink'],
      ['src-link', 'symlink'],
    ]);
    expect(listing.entries.find((e) => e.name === 'b.txt')?.size).toBe(3);
    expect(listing.entries.find((e) => e.name === 'out')?.linkTo).toBe('outside');
    expect(listing.entries.find((e) => e.name === 'src-link')?.linkTo).toBe('dir');
    expect(Date.parse(listing.entries[0].mtime)).toBeGreaterThan(0);
    expect(listing.truncated).toBe(false);
  });

  it('should cap the number of entries and say so', async () => {
    const listing = await listDir(root, '', 2);
    expect(listing.entries.map((e) => e.name)).toEqual(['.git', 'src']);
    expect(listing).toMatchObject({ total: 6, truncated: true });
  });

  it('should refuse listing a file, a missing folder and a folder outside', async () => {
    expect(await statusOf(listDir(root, 'b.txt'))).toBe(400);
    expect(await statusOf(listDir(root, 'nope'))).toBe(404);
    expect(await statusOf(listDir(root, 'out'))).toBe(403);
    expect(await statusOf(listDir(root, '..'))).toBe(403);
  });
});

describe('readFileContent', () => {
  it('should read text as UTF-8 with an etag of its bytes', async () => {
    const file = await readFileContent(root, 'src/main.ts');
    expect(file).toMatchObject({ path: 'src/main.ts', encoding: 'utf8', content: 'console.log(1);\n', size: 16 });
    expect(file.etag).toBe(etagOf(Buffer.from('console.log(1);\n')));
  });

  it('should return binary files as base64', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x10]);
    await writeFile(join(root, 'logo.png'), bytes);
    const file = await readFileContent(root, 'logo.png');
    expect(file.encoding).toBe('base64');
    expect(Buffer.from(file.content, 'base64')).toEqual(bytes);
  });

  it('should answer 413 for a file over the size limit', async () => {
    await writeFile(join(root, 'big.log'), 'x'.repeat(101));
    expect(await statusOf(readFileContent(root, 'big.log', 100))).toBe(413);
    expect((await readFileContent(root, 'big.log', 101)).size).toBe(101);
  });

  it('should refuse reading outside the repo and folders', async () => {
    expect(await statusOf(readFileContent(root, 'out/secret.txt'))).toBe(403);
    expect(await statusOf(readFileContent(root, '/etc/passwd'))).toBe(403);
    expect(await statusOf(readFileContent(root, 'src'))).toBe(400);
    expect(await statusOf(readFileContent(root, 'missing.txt'))).toBe(404);
  });
});

describe('writeFileContent', () => {
  it('should create a file and its missing folders', async () => {
    const result = await writeFileContent(root, 'docs/guide/intro.md', '# Intro\n');
    expect(result).toMatchObject({ path: 'docs/guide/intro.md', size: 8, created: true, etag: etagOf(Buffer.from('# Intro\n')) });
    expect(await readFile(join(root, 'docs', 'guide', 'intro.md'), 'utf8')).toBe('# Intro\n');
  });

  it('should write base64 content as bytes', async () => {
    await writeFileContent(root, 'blob.bin', Buffer.from([0, 1, 2, 255]).toString('base64'), { encoding: 'base64' });
    expect(await readFile(join(root, 'blob.bin'))).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('should save over a file when ifMatch is the etag that was read, and keep its mode', async () => {
    await chmod(join(root, 'b.txt'), 0o755);
    const { etag } = await readFileContent(root, 'b.txt');
    const result = await writeFileContent(root, 'b.txt', 'bees', { ifMatch: etag });
    expect(result.created).toBe(false);
    expect(await readFile(join(root, 'b.txt'), 'utf8')).toBe('bees');
    expect((await stat(join(root, 'b.txt'))).mode & 0o777).toBe(0o755);
    expect(await readdir(root)).not.toContainEqual(expect.stringContaining('.tmp'));
  });

  it('should refuse with 409 a save over a file that changed or vanished since it was read', async () => {
    const { etag } = await readFileContent(root, 'b.txt');
    await writeFile(join(root, 'b.txt'), 'someone else');
    expect(await statusOf(writeFileContent(root, 'b.txt', 'mine', { ifMatch: etag }))).toBe(409);
    expect(await readFile(join(root, 'b.txt'), 'utf8')).toBe('someone else');
    await rm(join(root, 'b.txt'));
    expect(await statusOf(writeFileContent(root, 'b.txt', 'mine', { ifMatch: etag }))).toBe(409);
  });

  it('should let only one of two concurrent saves with the same etag win', async () => {
    const { etag } = await readFileContent(root, 'b.txt');
    const results = await Promise.all(['one', 'two'].map((text) => statusOf(writeFileContent(root, 'b.txt', text, { ifMatch: etag }))));
    expect(results.sort()).toEqual([200, 409]);
  });

  it('should refuse create: true over an existing file', async () => {
    expect(await statusOf(writeFileContent(root, 'b.txt', 'x', { create: true }))).toBe(409);
    expect(await readFile(join(root, 'b.txt'), 'utf8')).toBe('bee');
  });

  it('should answer 413 for content over the size limit and write nothing', async () => {
    expect(await statusOf(writeFileContent(root, 'new.txt', 'x'.repeat(11), {}, 10))).toBe(413);
    expect(await lstat(join(root, 'new.txt')).catch(() => null)).toBeNull();
  });

  it('should refuse writes that would land outside the repo or in .git, leaving nothing behind', async () => {
    expect(await statusOf(writeFileContent(root, 'out/planted.txt', 'x'))).toBe(403);
    expect(await statusOf(writeFileContent(root, '../outside/planted.txt', 'x'))).toBe(403);
    expect(await statusOf(writeFileContent(root, '.git/hooks/pre-commit', 'x'))).toBe(403);
    expect(await readdir(outside)).toEqual(['secret.txt']);
    expect(await readdir(join(root, '.git'))).toEqual([]);
  });

  it('should refuse writing through a dangling link that points outside', async () => {
    await symlink(join(outside, 'later.txt'), join(root, 'later'));
    expect(await statusOf(writeFileContent(root, 'later', 'x'))).toBe(403);
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });
});

describe('makeDir, movePath, deletePath', () => {
  it('should make a folder with its parents, and 409 when it exists', async () => {
    expect(await makeDir(root, 'a/b/c')).toEqual({ path: 'a/b/c' });
    expect((await stat(join(root, 'a', 'b', 'c'))).isDirectory()).toBe(true);
    expect(await statusOf(makeDir(root, 'a/b'))).toBe(409);
    expect(await statusOf(makeDir(root, 'out/x'))).toBe(403);
  });

  it('should move and rename inside the repo, refusing to overwrite unless asked', async () => {
    expect(await movePath(root, 'b.txt', 'notes/b.md')).toEqual({ from: 'b.txt', to: 'notes/b.md' });
    expect(await readFile(join(root, 'notes', 'b.md'), 'utf8')).toBe('bee');
    expect(await statusOf(movePath(root, 'src/main.ts', 'notes/b.md'))).toBe(409);
    await movePath(root, 'src/main.ts', 'notes/b.md', true);
    expect(await readFile(join(root, 'notes', 'b.md'), 'utf8')).toBe('console.log(1);\n');
    expect(await statusOf(movePath(root, 'missing', 'x'))).toBe(404);
  });

  it('should refuse moves out of the repo, into .git and into themselves', async () => {
    expect(await statusOf(movePath(root, 'b.txt', '../outside/b.txt'))).toBe(403);
    expect(await statusOf(movePath(root, 'b.txt', 'out/b.txt'))).toBe(403);
    expect(await statusOf(movePath(root, 'b.txt', '.git/b.txt'))).toBe(403);
    expect(await statusOf(movePath(root, 'src', 'src/inner'))).toBe(400);
    expect(await statusOf(movePath(root, 'out/secret.txt', 'stolen.txt'))).toBe(403);
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });

  it('should delete files, and folders only with recursive', async () => {
    expect(await deletePath(root, 'b.txt')).toEqual({ path: 'b.txt', deleted: true });
    expect(await lstat(join(root, 'b.txt')).catch(() => null)).toBeNull();
    expect(await statusOf(deletePath(root, 'src'))).toBe(400);
    expect(await lstat(join(root, 'src', 'main.ts'))).toBeTruthy();
    await deletePath(root, 'src', true);
    expect(await lstat(join(root, 'src')).catch(() => null)).toBeNull();
    expect(await statusOf(deletePath(root, 'b.txt'))).toBe(404);
  });

  it('should delete an escaping link itself and never what it points to', async () => {
    await deletePath(root, 'out', true);
    expect(await lstat(join(root, 'out')).catch(() => null)).toBeNull();
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    expect(await statusOf(deletePath(root, '../outside/secret.txt'))).toBe(403);
  });

  it('should refuse deleting the repo itself or .git', async () => {
    expect(await statusOf(deletePath(root, '', true))).toBe(400);
    expect(await statusOf(deletePath(root, '.git', true))).toBe(403);
    expect((await stat(join(root, '.git'))).isDirectory()).toBe(true);
  });
});
