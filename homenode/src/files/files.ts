/**
 * @module
 * Files inside a repo: list, read, write, mkdir, move, delete. Every path goes through
 * `resolveInside` first; failures are HTTPExceptions with a message for people.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HTTPException } from 'hono/http-exception';
import { realRoot, refuse, relativeInside, resolveInside } from './paths.ts';

export const MAX_FILE_BYTES = 2 * 1024 * 1024;
export const MAX_LIST_ENTRIES = 2000;

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface DirEntry {
  name: string;
  type: EntryType;
  size: number;
  mtime: string;
  /** for symlinks: what they lead to, as seen from the repo */
  linkTo?: 'file' | 'dir' | 'outside' | 'missing';
}

export interface FileContent {
  path: string;
  size: number;
  mtime: string;
  etag: string;
  /** utf8 for text; base64 when the file has NUL bytes or is not valid UTF-8 */
  encoding: 'utf8' | 'base64';
  content: string;
}

export interface WriteOptions {
  encoding?: 'utf8' | 'base64';
  /** the etag the writer last read: a different file on disk (or none) is a 409 */
  ifMatch?: string;
  /** create only: an existing file is a 409 */
  create?: boolean;
}

export interface WriteResult {
  path: string;
  size: number;
  mtime: string;
  etag: string;
  created: boolean;
}

/** Turns fs errors into HTTP answers that name the repo path, never the host path. */
function fsFailure(error: unknown, shown: string): never {
  if (error instanceof HTTPException) throw error;
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      throw refuse(404, `"${shown}" does not exist`);
    case 'EEXIST':
      throw refuse(409, `"${shown}" already exists`);
    case 'ENOTEMPTY':
      throw refuse(409, `"${shown}" is not empty`);
    case 'ENOTDIR':
      throw refuse(400, `a parent of "${shown}" is a file, not a folder`);
    case 'EISDIR':
      throw refuse(400, `"${shown}" is a folder`);
    case 'EINVAL':
      throw refuse(400, `cannot move "${shown}" into itself`);
    case 'EACCES':
    case 'EPERM':
      throw refuse(403, `homeportd may not access "${shown}"`);
    case 'ENAMETOOLONG':
      throw refuse(400, `"${shown}" is too long a name`);
    case 'ELOOP':
      throw refuse(400, `"${shown}": too many levels of symbolic links`);
    default:
      throw error;
  }
}

function typeOf(info: Stats): EntryType {
  if (info.isFile()) return 'file';
  if (info.isDirectory()) return 'dir';
  if (info.isSymbolicLink()) return 'symlink';
  return 'other';
}

export function etagOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

function looksBinary(bytes: Buffer): boolean {
  // git's rule: a NUL in the first 8000 bytes means binary; then insist on valid UTF-8
  if (bytes.subarray(0, 8000).includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return false;
  } catch {
    return true;
  }
}

// Writes to one file run one after another, so two writers with the same ifMatch
// cannot both win.
const writeQueues = new Map<string, Promise<unknown>>();
async function serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = writeQueues.get(key) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(work);
  writeQueues.set(key, next);
  try {
    return await next;
  } finally {
    if (writeQueues.get(key) === next) writeQueues.delete(key);
  }
}

async function linkTarget(root: string, rel: string): Promise<DirEntry['linkTo']> {
  try {
    const real = await resolveInside(root, rel);
    const info = await stat(real);
    return info.isDirectory() ? 'dir' : 'file';
  } catch (error) {
    return error instanceof HTTPException && error.status === 403 ? 'outside' : 'missing';
  }
}

/** A folder's entries: folders first, then by name; hidden files included; at most `limit`. */
export async function listDir(root: string, path = '', limit = MAX_LIST_ENTRIES) {
  const rootReal = await realRoot(root);
  const dir = await resolveInside(root, path);
  const shown = relativeInside(rootReal, dir);
  const info = await stat(dir).catch((error) => fsFailure(error, shown));
  if (!info.isDirectory()) throw refuse(400, `"${shown}" is a file; read it with /files/content`);
  const names = await readdir(dir).catch((error) => fsFailure(error, shown));
  const entries: DirEntry[] = [];
  for (const name of names) {
    const entryInfo = await lstat(join(dir, name)).catch(() => null);
    if (!entryInfo) continue; // deleted while we looked
    const entry: DirEntry = { name, type: typeOf(entryInfo), size: entryInfo.size, mtime: entryInfo.mtime.toISOString() };
    entries.push(entry);
  }
  const rank = (e: DirEntry) => (e.type === 'dir' ? 0 : 1);
  entries.sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const shownEntries = entries.slice(0, limit);
  for (const entry of shownEntries) {
    if (entry.type === 'symlink') entry.linkTo = await linkTarget(rootReal, shown === '.' ? entry.name : `${shown}/${entry.name}`);
  }
  return { path: shown, entries: shownEntries, total: entries.length, truncated: entries.length > limit };
}

/** A file's content (text as UTF-8, anything else as base64) with its etag; 413 above `maxBytes`. */
export async function readFileContent(root: string, path: string, maxBytes = MAX_FILE_BYTES): Promise<FileContent> {
  const rootReal = await realRoot(root);
  const file = await resolveInside(root, path);
  const shown = relativeInside(rootReal, file);
  const info = await stat(file).catch((error) => fsFailure(error, shown));
  if (info.isDirectory()) throw refuse(400, `"${shown}" is a folder; list it with /files`);
  if (!info.isFile()) throw refuse(400, `"${shown}" is not a regular file`);
  if (info.size > maxBytes)
    throw refuse(413, `"${shown}" is ${info.size} bytes; files above ${maxBytes} bytes cannot be opened here`);
  const bytes = await readFile(file).catch((error) => fsFailure(error, shown));
  if (bytes.length > maxBytes) throw refuse(413, `"${shown}" grew past ${maxBytes} bytes while being read`);
  const binary = looksBinary(bytes);
  return {
    path: shown,
    size: bytes.length,
    mtime: info.mtime.toISOString(),
    etag: etagOf(bytes),
    encoding: binary ? 'base64' : 'utf8',
    content: bytes.toString(binary ? 'base64' : 'utf8'),
  };
}

async function currentEtag(file: string, maxBytes: number): Promise<string | null> {
  const info = await stat(file).catch(() => null);
  if (!info || !info.isFile()) return null;
  if (info.size > maxBytes) return 'too-large'; // never handed out, so never matches
  return etagOf(await readFile(file));
}

/**
 * Writes a file atomically (temp file + rename, keeping its mode), creating missing
 * parent folders. `ifMatch` and `create` guard against clobbering someone else's edit.
 */
export async function writeFileContent(
  root: string,
  path: string,
  content: string,
  options: WriteOptions = {},
  maxBytes = MAX_FILE_BYTES,
): Promise<WriteResult> {
  const rootReal = await realRoot(root);
  const file = await resolveInside(root, path, { write: true });
  const shown = relativeInside(rootReal, file);
  if (file === rootReal) throw refuse(400, 'give the path of a file to write');
  if (typeof content !== 'string') throw refuse(400, 'content must be a string');
  const encoding = options.encoding ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'base64') throw refuse(400, 'encoding must be "utf8" or "base64"');
  const bytes = Buffer.from(content, encoding);
  if (bytes.length > maxBytes) throw refuse(413, `the new content is ${bytes.length} bytes; the limit is ${maxBytes}`);

  return serialized(file, async () => {
    const existing = await lstat(file).catch(() => null);
    if (existing?.isDirectory()) throw refuse(400, `"${shown}" is a folder`);
    if (options.create && existing) throw refuse(409, `"${shown}" already exists`);
    if (options.ifMatch !== undefined) {
      const etag = await currentEtag(file, maxBytes);
      if (etag === null) throw refuse(409, `"${shown}" was deleted since you opened it`);
      if (etag !== options.ifMatch) throw refuse(409, `"${shown}" changed since you opened it; reload it before saving`);
    }
    const parent = dirname(file);
    await mkdir(parent, { recursive: true }).catch((error) => fsFailure(error, shown));
    const temp = join(parent, `.${basename(file)}.homeport-${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(temp, bytes, { flag: 'wx' });
      if (existing?.isFile()) await chmod(temp, existing.mode & 0o7777);
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      fsFailure(error, shown);
    }
    const info = await stat(file);
    return { path: shown, size: bytes.length, mtime: info.mtime.toISOString(), etag: etagOf(bytes), created: !existing };
  });
}

/** Creates a folder (and missing parents); 409 if something is already there. */
export async function makeDir(root: string, path: string) {
  const rootReal = await realRoot(root);
  const dir = await resolveInside(root, path, { write: true });
  const shown = relativeInside(rootReal, dir);
  if (await lstat(dir).catch(() => null)) throw refuse(409, `"${shown}" already exists`);
  await mkdir(dir, { recursive: true }).catch((error) => fsFailure(error, shown));
  return { path: shown };
}

/** Moves or renames inside the repo; a symlink is moved as a link. */
export async function movePath(root: string, from: string, to: string, overwrite = false) {
  const rootReal = await realRoot(root);
  const source = await resolveInside(root, from, { write: true, followLast: false });
  const target = await resolveInside(root, to, { write: true, followLast: false });
  const shownFrom = relativeInside(rootReal, source);
  const shownTo = relativeInside(rootReal, target);
  if (source === rootReal || target === rootReal) throw refuse(400, 'the repo folder itself cannot be moved');
  if (!(await lstat(source).catch(() => null))) throw refuse(404, `"${shownFrom}" does not exist`);
  if (!overwrite && (await lstat(target).catch(() => null))) throw refuse(409, `"${shownTo}" already exists`);
  if (target.startsWith(source + '/')) throw refuse(400, `cannot move "${shownFrom}" into itself`);
  await mkdir(dirname(target), { recursive: true }).catch((error) => fsFailure(error, shownTo));
  await rename(source, target).catch((error) => fsFailure(error, shownFrom));
  return { from: shownFrom, to: shownTo };
}

/** Deletes a file or link; a folder only with `recursive`. */
export async function deletePath(root: string, path: string, recursive = false) {
  const rootReal = await realRoot(root);
  const target = await resolveInside(root, path, { write: true, followLast: false });
  const shown = relativeInside(rootReal, target);
  if (target === rootReal) throw refuse(400, 'the repo folder itself cannot be deleted here');
  const info = await lstat(target).catch((error) => fsFailure(error, shown));
  if (info.isDirectory() && !recursive) throw refuse(400, `"${shown}" is a folder; delete it with recursive: true`);
  await rm(target, { recursive: info.isDirectory(), force: false }).catch((error) => fsFailure(error, shown));
  return { path: shown, deleted: true };
}
