import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTPException } from 'hono/http-exception';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInside } from './paths.ts';

let dir: string;
let root: string;
let outside: string;

beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'homeport-paths-')));
  root = join(dir, 'repo');
  outside = join(dir, 'outside');
  await mkdir(join(root, 'src', 'deep'), { recursive: true });
  await mkdir(join(root, '.git'));
  await mkdir(outside);
  await writeFile(join(root, 'src', 'a.txt'), 'a');
  await writeFile(join(root, '.git', 'config'), '[core]\n');
  await writeFile(join(outside, 'secret.txt'), 'secret');
  await symlink('/etc', join(root, 'etc-link'));
  await symlink(outside, join(root, 'out'));
  await symlink(join(outside, 'not-yet.txt'), join(root, 'dangling-out'));
  await symlink('src/a.txt', join(root, 'inner-link'));
  await symlink('.git', join(root, 'gitlink'));
  await symlink('nowhere/new.txt', join(root, 'dangling-in'));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

async function refusal(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HTTPException) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('resolveInside', () => {
  it('should resolve plain relative paths to real paths inside the repo', async () => {
    expect(await resolveInside(root, 'src/a.txt')).toBe(join(root, 'src', 'a.txt'));
    expect(await resolveInside(root, './src//deep/')).toBe(join(root, 'src', 'deep'));
    expect(await resolveInside(root, '')).toBe(root);
    expect(await resolveInside(root, '.')).toBe(root);
  });

  it('should resolve paths that do not exist yet by their nearest existing parent', async () => {
    expect(await resolveInside(root, 'src/new/dir/file.ts', { write: true })).toBe(join(root, 'src', 'new', 'dir', 'file.ts'));
  });

  it('should follow symlinks that stay inside the repo', async () => {
    expect(await resolveInside(root, 'inner-link')).toBe(join(root, 'src', 'a.txt'));
    expect(await resolveInside(root, 'dangling-in', { write: true })).toBe(join(root, 'nowhere', 'new.txt'));
  });

  it.each(['../x', 'a/../../x', 'src/../src/a.txt', '..'])('should refuse "%s" (..)', async (path) => {
    const { status, message } = await refusal(resolveInside(root, path));
    expect(status).toBe(403);
    expect(message).toContain('..');
  });

  it.each(['/etc/passwd', '/', '\\windows', 'C:/x'])('should refuse the absolute path "%s"', async (path) => {
    const { status, message } = await refusal(resolveInside(root, path));
    expect(status).toBe(403);
    expect(message).toContain('absolute');
  });

  it('should refuse a NUL byte', async () => {
    expect(await refusal(resolveInside(root, 'src/a.txt\0.png'))).toEqual({ status: 400, message: 'path contains a NUL byte' });
  });

  it('should refuse symlinks that lead out of the repo, for reads and writes', async () => {
    for (const path of ['etc-link', 'etc-link/passwd', 'out/secret.txt']) {
      const { status, message } = await refusal(resolveInside(root, path));
      expect(status).toBe(403);
      expect(message).toContain('outside the repo');
    }
  });

  it('should refuse writing a new file through a symlinked folder or a dangling link that leads out', async () => {
    expect((await refusal(resolveInside(root, 'out/new.txt', { write: true }))).status).toBe(403);
    expect((await refusal(resolveInside(root, 'out/newdir/new.txt', { write: true }))).status).toBe(403);
    expect((await refusal(resolveInside(root, 'dangling-out', { write: true }))).status).toBe(403);
  });

  it('should refuse writes into .git, however it is reached', async () => {
    for (const path of ['.git/config', '.git', '.GIT/hooks/pre-commit', 'gitlink/config', 'sub/.git/x']) {
      const { status, message } = await refusal(resolveInside(root, path, { write: true }));
      expect(status).toBe(403);
      expect(message).toContain('.git');
    }
  });

  it('should let .git be read', async () => {
    expect(await resolveInside(root, '.git/config')).toBe(join(root, '.git', 'config'));
  });

  it('should name an escaping link itself when the last component is not followed', async () => {
    expect(await resolveInside(root, 'etc-link', { write: true, followLast: false })).toBe(join(root, 'etc-link'));
    expect((await refusal(resolveInside(root, 'etc-link/passwd', { write: true, followLast: false }))).status).toBe(403);
  });

  it('should answer 404 when the repo folder is gone', async () => {
    expect((await refusal(resolveInside(join(dir, 'missing'), 'a.txt'))).status).toBe(404);
  });

  it('should judge paths by the real repo folder when the root is a symlink', async () => {
    const linkedRoot = join(dir, 'linked-root');
    await symlink(root, linkedRoot);
    expect(await resolveInside(linkedRoot, 'src/a.txt')).toBe(join(root, 'src', 'a.txt'));
    expect((await refusal(resolveInside(linkedRoot, 'out/secret.txt'))).status).toBe(403);
  });
});
