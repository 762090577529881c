/**
 * @module
 * Checks for the free-form values users pass to git operations (revisions, branch and
 * remote names, URLs, messages). Options are never taken from users: a value that
 * starts with `-` is refused, and so are the option names and the `ext::` transport
 * that make git run commands, wherever they appear.
 */
import { pathSegments, refuse, relativeInside, resolveInside } from '../files/paths.ts';

const MAX_VALUE = 256;
const MAX_MESSAGE = 64 * 1024;
const COMMAND_RUNNERS = /(ext::|--upload-pack|--receive-pack|--exec)/i;
const REMOTE_HELPER = /^[A-Za-z][A-Za-z0-9+.-]*::/;

/** The checks every user value passes: a non-empty string with no options or control bytes. */
export function checkValue(value: unknown, what: string, maxLength = MAX_VALUE): string {
  if (typeof value !== 'string' || value.length === 0) throw refuse(400, `${what} must be a non-empty string`);
  if (value.length > maxLength) throw refuse(400, `${what} is longer than ${maxLength} characters`);
  const runner = COMMAND_RUNNERS.exec(value);
  if (runner) throw refuse(403, `${what} contains "${runner[1]}", which could make git run commands; refused`);
  if (value.startsWith('-'))
    throw refuse(400, `${what} must not start with "-": git options are chosen by Homeport, not passed through`);
  if (/[\s\x00-\x1f\x7f]/.test(value)) throw refuse(400, `${what} must not contain spaces or control characters`);
  return value;
}

/** A revision: a name, hash, or expression like `HEAD~2`, `main..topic`, `stash@{0}`. */
export function checkRevision(value: unknown, what = 'ref'): string {
  const rev = checkValue(value, what);
  if (!/^[A-Za-z0-9._/@{}~^+-]+$/.test(rev)) throw refuse(400, `${what} "${rev}" is not a revision git would accept`);
  return rev;
}

/**
 * What is wrong with a branch or tag name, or null: git's own rules (`git check-ref-format
 * --branch`, refs.c check_refname_format) plus the ones that keep a name from acting as
 * a refspec in push and pull: no leading "+" (force) and no ":" (src:dst, delete).
 */
export function refNameProblem(name: string): string | null {
  if (name === '') return 'is empty';
  if (name.startsWith('-')) return 'starts with "-"';
  if (name.startsWith('+')) return 'starts with "+", which would force the push or fetch (use forceWithLease)';
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'contains a space, a control character or one of ~ ^ : ? * [ \\';
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  if (name === '@' || name === 'HEAD') return `is "${name}", which git reserves`;
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'has an empty part between slashes';
  if (name.endsWith('.')) return 'ends with "."';
  if (name.split('/').some((part) => part.startsWith('.') || part.endsWith('.lock'))) return 'has a part that starts with "." or ends with ".lock"';
  return null;
}

/** A branch or tag name, checked by refNameProblem. */
export function checkRefName(value: unknown, what: string): string {
  const name = checkValue(value, what);
  const problem = refNameProblem(name);
  if (problem) throw refuse(400, `${what} "${name}" is not a plain git ref name: it ${problem}`);
  return name;
}

export function checkRemoteName(value: unknown): string {
  const name = checkValue(value, 'remote');
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.'))
    throw refuse(400, `remote "${name}" may only use letters, digits, ".", "_" and "-"`);
  return name;
}

/** Remote URLs: http(s), ssh, git and file URLs, scp-like `user@host:path`, absolute paths. */
export function checkUrl(value: unknown): string {
  const url = checkValue(value, 'url', 2048);
  if (REMOTE_HELPER.test(url))
    throw refuse(403, `"${url.split('::')[0]}::" remote helpers are refused; use an https, ssh or git URL`);
  const ok =
    /^(https?|ssh|git|file):\/\/[^/]/.test(url) ||
    /^file:\/\/\//.test(url) ||
    /^([A-Za-z0-9._~-]+@)?[A-Za-z0-9][A-Za-z0-9.-]*:(?!\/\/)\S/.test(url) ||
    url.startsWith('/');
  if (!ok) throw refuse(400, `"${url}" is not a git URL (https://…, ssh://…, user@host:path or an absolute path)`);
  return url;
}

/** Free text (commit, tag and stash messages): anything but NUL, within a size limit. */
export function checkMessage(value: unknown, what = 'message'): string {
  if (typeof value !== 'string' || value.trim() === '') throw refuse(400, `${what} must be a non-empty string`);
  if (value.length > MAX_MESSAGE) throw refuse(400, `${what} is longer than ${MAX_MESSAGE} characters`);
  if (value.includes('\0')) throw refuse(400, `${what} contains a NUL byte`);
  return value;
}

/** Working-tree paths for git (passed after `--`): resolved inside the repo, never into `.git`. */
export async function checkPaths(root: string, rootReal: string, value: unknown, what = 'paths'): Promise<string[]> {
  if (!Array.isArray(value) || value.length === 0) throw refuse(400, `${what} must be a non-empty list of paths`);
  if (value.length > 1000) throw refuse(400, `${what} has more than 1000 entries`);
  const paths: string[] = [];
  for (const path of value) {
    if (typeof path !== 'string' || path === '') throw refuse(400, `${what} must contain non-empty strings`);
    // links are git's to track as links, so the last component is not followed
    paths.push(relativeInside(rootReal, await resolveInside(root, path, { write: true, followLast: false })));
  }
  return paths;
}

/** A path inside a commit's tree (`git show <rev>:<path>`): relative, no `..`. */
export function checkTreePath(value: unknown): string {
  const segments = pathSegments(value);
  if (segments.length === 0) throw refuse(400, 'path must name a file');
  return segments.join('/');
}

export function checkBoolean(value: unknown, what: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw refuse(400, `${what} must be true or false`);
  return value;
}

export function checkInteger(value: unknown, what: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
    throw refuse(400, `${what} must be a whole number from ${min} to ${max}`);
  return n;
}

export function checkChoice<T extends string>(value: unknown, what: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value))
    throw refuse(400, `${what} must be one of ${choices.join(', ')}`);
  return value as T;
}

/** Refuses fields an operation does not know, so nothing is silently ignored. */
export function onlyFields(input: Record<string, unknown>, op: string, allowed: readonly string[]) {
  for (const key of Object.keys(input)) {
    if (key !== 'op' && !allowed.includes(key))
      throw refuse(400, `git ${op} takes no "${key}"${allowed.length ? `; it takes: ${allowed.join(', ')}` : ''}`);
  }
}
