/**
 * @module
 * Keeping user paths inside a repo. Every file and git route turns the path it was
 * given into a real absolute path here, or refuses it: absolute paths, `..`, NUL bytes
 * and symlinks that lead out of the repo (for paths that do not exist yet, the nearest
 * existing parent decides). Writes into `.git` are refused too.
 */
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { HTTPException } from 'hono/http-exception';

export interface ResolveOptions {
  /** the path will be written, created, moved or deleted: `.git` is off limits */
  write?: boolean;
  /**
   * Follow a symlink in the last component (default true). Off for operations on the
   * link itself (delete, move, git add), so an escaping link can still be removed.
   */
  followLast?: boolean;
}

const MAX_PATH_LENGTH = 4096;
const MAX_LINK_HOPS = 40;

export function refuse(status: 400 | 403 | 404 | 409 | 413, message: string): HTTPException {
  return new HTTPException(status, { message });
}

/** The real path of a repo's folder, or 404 when it is gone. */
export async function realRoot(root: string): Promise<string> {
  try {
    const real = await realpath(root);
    if (!(await stat(real)).isDirectory()) throw refuse(404, `the repo folder ${root} is not a directory`);
    return real;
  } catch (error) {
    if (error instanceof HTTPException) throw error;
    throw refuse(404, `the repo folder ${root} does not exist`);
  }
}

/** A user path as plain name segments, refusing what can never be inside the repo. */
export function pathSegments(userPath: unknown): string[] {
  if (typeof userPath !== 'string') throw refuse(400, 'path must be a string');
  if (userPath.length > MAX_PATH_LENGTH) throw refuse(400, `path is longer than ${MAX_PATH_LENGTH} characters`);
  if (userPath.includes('\0')) throw refuse(400, 'path contains a NUL byte');
  if (isAbsolute(userPath) || userPath.startsWith('\\') || /^[A-Za-z]:/.test(userPath))
    throw refuse(403, `"${userPath}" is an absolute path; give a path relative to the repo`);
  const segments = userPath.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw refuse(403, `"${userPath}" uses "..": paths must stay inside the repo`);
  return segments;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

function touchesGitDir(root: string, path: string): boolean {
  return relative(root, path)
    .split(sep)
    .some((s) => s.toLowerCase() === '.git');
}

/**
 * Where `path` really leads: realpath of its longest existing prefix plus the missing
 * names. A dangling symlink on the way is followed to its (missing) target, so writing
 * through it is judged by where the file would land.
 */
async function realOf(path: string, hops = 0): Promise<string> {
  if (hops > MAX_LINK_HOPS) throw refuse(400, 'too many levels of symbolic links');
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      return join(await realpath(current), ...missing);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw refuse(400, 'too many levels of symbolic links');
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    }
    const info = await lstat(current).catch(() => null);
    if (info?.isSymbolicLink()) {
      const target = resolve(await realpath(dirname(current)), await readlink(current));
      return realOf(join(target, ...missing), hops + 1);
    }
    const parent = dirname(current);
    if (parent === current) return join(current, ...missing);
    missing.unshift(basename(current));
    current = parent;
  }
}

/**
 * The absolute real path `userPath` names inside `root`, or an HTTPException (400 bad
 * path, 403 outside the repo or into `.git` for writes, 404 repo folder missing).
 * The check and the use are not atomic: a symlink swapped in between is not caught
 * (the repo's writers are its owner and the owner's agents).
 */
export async function resolveInside(root: string, userPath: string, options: ResolveOptions = {}): Promise<string> {
  const rootReal = await realRoot(root);
  const segments = pathSegments(userPath);
  const shown = segments.join('/') || '.';
  if (options.write && segments.some((s) => s.toLowerCase() === '.git'))
    throw refuse(403, `"${shown}" is inside .git; change git's files through git operations`);
  const lexical = join(rootReal, ...segments);
  const followLast = options.followLast ?? true;
  const real =
    followLast || segments.length === 0 ? await realOf(lexical) : join(await realOf(dirname(lexical)), basename(lexical));
  if (!isInside(rootReal, real)) throw refuse(403, `"${shown}" leads outside the repo (through a symbolic link)`);
  if (options.write && touchesGitDir(rootReal, real))
    throw refuse(403, `"${shown}" leads into .git; change git's files through git operations`);
  return real;
}

/** The repo-relative form of a real path from `resolveInside` ('.' for the root). */
export function relativeInside(rootReal: string, real: string): string {
  return relative(rootReal, real).split(sep).join('/') || '.';
}
