/**
 * @module
 * Git in a repo, as structured operations: `{op: 'commit', message}`, `{op: 'log',
 * limit}`, `{op: 'checkout', branch}`… Each whitelisted command has one handler that
 * builds git's arguments itself; users supply only values (refs, names, URLs, paths,
 * messages), which are checked in validate.ts. Paths always go after `--`.
 */
import { lstat, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HTTPException } from 'hono/http-exception';
import { MAX_FILE_BYTES } from '../files/files.ts';
import { realRoot, refuse } from '../files/paths.ts';
import {
  BRANCH_FORMAT,
  LOG_FORMAT,
  parseBranches,
  parseDiff,
  parseFields,
  parseLog,
  parseRemotes,
  parseStatus,
  type FileDiff,
  type RepoStatus,
} from './parse.ts';
import { runGit, type GitResult, type RunOptions } from './runner.ts';
import {
  checkBoolean,
  checkChoice,
  checkInteger,
  checkMessage,
  checkPaths,
  checkRefName,
  checkRemoteName,
  checkRevision,
  checkTreePath,
  checkUrl,
  checkValue,
  onlyFields,
} from './validate.ts';

/** The seeds' list. `clone` makes a new repo, so the repo registry does it (repos/service.ts), not a per-repo op. */
export const GIT_WHITELIST = [
  'status', 'add', 'commit', 'push', 'pull', 'fetch', 'branch', 'checkout', 'log', 'diff',
  'stash', 'reset', 'merge', 'rebase', 'tag', 'remote', 'clone', 'rev-parse', 'config', 'show',
] as const;
export type GitCommand = (typeof GIT_WHITELIST)[number];

/** Timeouts by kind of work: reads are quick, network work may be slow. */
export const TIMEOUTS = { read: 15_000, local: 60_000, network: 5 * 60_000, clone: 10 * 60_000 } as const;
type Kind = 'read' | 'local' | 'network';

export interface OperationOptions {
  /** overrides the operation's timeout (tests; a caller with its own budget) */
  timeoutMs?: number;
  /**
   * Extra environment for fetch, pull and push only: how the registry hands over
   * credentials (e.g. GIT_CONFIG_COUNT/KEY_0/VALUE_0 = http.<host>.extraHeader).
   */
  networkEnv?: Record<string, string>;
}

type Input = Record<string, unknown>;

interface Context {
  op: string;
  root: string;
  /** the repo's real path: git's cwd, and what paths are made relative to */
  cwd: string;
  run(args: string[], kind: Kind, extra?: Partial<RunOptions>): Promise<GitResult>;
}

const MAX_REPORTED_OUTPUT = 16 * 1024;

/** What a command printed, for the people who asked for it. */
function done(result: GitResult) {
  const output = `${result.stdout}${result.stdout && result.stderr ? '\n' : ''}${result.stderr}`.trim();
  return { ok: true as const, output: output.length > MAX_REPORTED_OUTPUT ? output.slice(0, MAX_REPORTED_OUTPUT) + '\n…' : output };
}

async function status(ctx: Context): Promise<RepoStatus> {
  const result = await ctx.run(['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=normal'], 'read');
  if (result.truncated) throw refuse(413, 'git status printed more than the output limit; too many changed files to list');
  return parseStatus(result.stdout);
}

async function diff(ctx: Context, input: Input): Promise<{ files: FileDiff[]; truncated: boolean }> {
  onlyFields(input, 'diff', ['path', 'staged', 'ref']);
  const staged = checkBoolean(input.staged, 'staged');
  const args = ['diff', '--no-ext-diff', '--find-renames', '--patch'];
  if (staged) args.push('--cached');
  if (input.ref !== undefined) args.push(checkRevision(input.ref));
  const paths = input.path === undefined ? [] : await checkPaths(ctx.root, ctx.cwd, [input.path], 'path');
  const result = await ctx.run([...args, '--', ...paths], 'read');
  const files = parseDiff(result.stdout);
  // a new file git does not track yet has no diff; show it whole, as added
  if (files.length === 0 && paths.length === 1 && !staged && input.ref === undefined) {
    const untracked = (await status(ctx)).files.some((f) => f.state === 'untracked' && f.path === paths[0]);
    const isFile = (await lstat(join(ctx.cwd, paths[0])).catch(() => null))?.isFile();
    if (untracked && isFile) {
      const added = await ctx.run(['diff', '--no-index', '--no-ext-diff', '--patch', '--', '/dev/null', paths[0]], 'read', { okCodes: [1] });
      return { files: parseDiff(added.stdout), truncated: added.truncated };
    }
  }
  return { files, truncated: result.truncated };
}

async function log(ctx: Context, input: Input) {
  onlyFields(input, 'log', ['limit', 'skip', 'ref', 'path']);
  const limit = checkInteger(input.limit, 'limit', 1, 500, 50);
  const skip = checkInteger(input.skip, 'skip', 0, 1_000_000, 0);
  const args = ['log', `--max-count=${limit}`, `--skip=${skip}`, `--format=${LOG_FORMAT}`];
  if (input.ref !== undefined) args.push(checkRevision(input.ref));
  const paths = input.path === undefined ? [] : await checkPaths(ctx.root, ctx.cwd, [input.path], 'path');
  try {
    return { commits: parseLog((await ctx.run([...args, '--', ...paths], 'read')).stdout) };
  } catch (error) {
    // a repo (or branch) with no commits yet has an empty history, not a broken one
    if (input.ref === undefined && error instanceof HTTPException && /does not have any commits yet/.test(error.message))
      return { commits: [] };
    throw error;
  }
}

async function commit(ctx: Context, input: Input) {
  onlyFields(input, 'commit', ['message', 'all', 'amend', 'allowEmpty']);
  const args = ['commit', `--message=${checkMessage(input.message)}`];
  if (checkBoolean(input.all, 'all')) args.push('--all');
  if (checkBoolean(input.amend, 'amend')) args.push('--amend');
  if (checkBoolean(input.allowEmpty, 'allowEmpty')) args.push('--allow-empty');
  try {
    const result = await ctx.run(args, 'local');
    const hash = (await ctx.run(['rev-parse', '--verify', 'HEAD'], 'read')).stdout.trim();
    return { ...done(result), commit: hash };
  } catch (error) {
    if (error instanceof HTTPException && /Please tell me who you are|empty ident/.test(error.message))
      throw refuse(409, 'git does not know who you are: set the user name and email (PUT /git/identity) first');
    throw error;
  }
}

async function add(ctx: Context, input: Input) {
  onlyFields(input, 'add', ['paths', 'all']);
  if (checkBoolean(input.all, 'all')) {
    if (input.paths !== undefined) throw refuse(400, 'give either paths or all: true, not both');
    return done(await ctx.run(['add', '--all'], 'local'));
  }
  return done(await ctx.run(['add', '--', ...(await checkPaths(ctx.root, ctx.cwd, input.paths))], 'local'));
}

async function branch(ctx: Context, input: Input) {
  const action = checkChoice(input.action, 'action', ['list', 'create', 'delete', 'rename'] as const, 'list');
  if (action === 'list') {
    onlyFields(input, 'branch', ['action']);
    return { branches: parseBranches((await ctx.run(['branch', '--list', '--all', `--format=${BRANCH_FORMAT}`], 'read')).stdout) };
  }
  if (action === 'create') {
    onlyFields(input, 'branch', ['action', 'name', 'startPoint']);
    const start = input.startPoint === undefined ? [] : [checkRevision(input.startPoint, 'startPoint')];
    return done(await ctx.run(['branch', checkRefName(input.name, 'branch name'), ...start], 'local'));
  }
  if (action === 'delete') {
    onlyFields(input, 'branch', ['action', 'name', 'force']);
    const force = checkBoolean(input.force, 'force') ? ['--force'] : [];
    return done(await ctx.run(['branch', '--delete', ...force, checkRefName(input.name, 'branch name')], 'local'));
  }
  onlyFields(input, 'branch', ['action', 'name', 'newName']);
  return done(await ctx.run(['branch', '--move', checkRefName(input.name, 'branch name'), checkRefName(input.newName, 'newName')], 'local'));
}

async function checkout(ctx: Context, input: Input) {
  onlyFields(input, 'checkout', ['branch', 'create', 'startPoint', 'paths', 'ref']);
  if (input.paths !== undefined) {
    // put files back as they are in the index (or in `ref`): discards their changes
    if (input.branch !== undefined) throw refuse(400, 'give either branch or paths, not both');
    const source = input.ref === undefined ? [] : [checkRevision(input.ref)];
    return done(await ctx.run(['checkout', ...source, '--', ...(await checkPaths(ctx.root, ctx.cwd, input.paths))], 'local'));
  }
  if (checkBoolean(input.create, 'create')) {
    const start = input.startPoint === undefined ? [] : [checkRevision(input.startPoint, 'startPoint')];
    return done(await ctx.run(['checkout', '-b', checkRefName(input.branch, 'branch'), ...start], 'local'));
  }
  if (input.startPoint !== undefined) throw refuse(400, 'startPoint only goes with create: true');
  // the trailing -- makes git read the name as a branch or commit, never as a file
  return done(await ctx.run(['checkout', checkRevision(input.branch, 'branch'), '--'], 'local'));
}

async function stash(ctx: Context, input: Input) {
  const action = checkChoice(input.action, 'action', ['push', 'pop', 'apply', 'drop', 'list'] as const, 'push');
  if (action === 'list') {
    onlyFields(input, 'stash', ['action']);
    const out = await ctx.run(['stash', 'list', '--format=%gd%x1f%H%x1f%gs%x1f%aI'], 'read');
    return { stashes: parseFields(out.stdout, ['ref', 'hash', 'subject', 'date'] as const) };
  }
  if (action === 'push') {
    onlyFields(input, 'stash', ['action', 'message', 'includeUntracked']);
    const args = ['stash', 'push'];
    if (checkBoolean(input.includeUntracked, 'includeUntracked')) args.push('--include-untracked');
    if (input.message !== undefined) args.push(`--message=${checkMessage(input.message)}`);
    return done(await ctx.run(args, 'local'));
  }
  onlyFields(input, 'stash', ['action', 'index']);
  const entry = input.index === undefined ? [] : [`stash@{${checkInteger(input.index, 'index', 0, 10_000, 0)}}`];
  return done(await ctx.run(['stash', action, ...entry], 'local'));
}

async function reset(ctx: Context, input: Input) {
  onlyFields(input, 'reset', ['mode', 'ref', 'paths']);
  const ref = input.ref === undefined ? [] : [checkRevision(input.ref)];
  if (input.paths !== undefined) {
    // unstage: the index entries of these paths go back to `ref` (HEAD by default)
    if (input.mode !== undefined && input.mode !== 'mixed') throw refuse(400, 'paths can only be reset in mode "mixed" (unstage)');
    return done(await ctx.run(['reset', '--quiet', ...ref, '--', ...(await checkPaths(ctx.root, ctx.cwd, input.paths))], 'local'));
  }
  const mode = checkChoice(input.mode, 'mode', ['soft', 'mixed', 'hard'] as const, 'mixed');
  return done(await ctx.run(['reset', `--${mode}`, ...ref], 'local'));
}

async function merge(ctx: Context, input: Input) {
  if (checkBoolean(input.abort, 'abort')) {
    onlyFields(input, 'merge', ['abort']);
    return done(await ctx.run(['merge', '--abort'], 'local'));
  }
  onlyFields(input, 'merge', ['ref', 'fastForward']);
  const ff = checkChoice(input.fastForward, 'fastForward', ['auto', 'only', 'never'] as const, 'auto');
  const ffArgs = ff === 'only' ? ['--ff-only'] : ff === 'never' ? ['--no-ff'] : [];
  return done(await ctx.run(['merge', '--no-edit', ...ffArgs, checkRevision(input.ref)], 'local'));
}

async function rebase(ctx: Context, input: Input) {
  const action = checkChoice(input.action, 'action', ['start', 'continue', 'abort', 'skip'] as const, 'start');
  if (action !== 'start') {
    onlyFields(input, 'rebase', ['action']);
    return done(await ctx.run(['rebase', `--${action}`], 'local'));
  }
  onlyFields(input, 'rebase', ['action', 'onto']);
  return done(await ctx.run(['rebase', checkRevision(input.onto, 'onto')], 'local'));
}

async function tag(ctx: Context, input: Input) {
  const action = checkChoice(input.action, 'action', ['list', 'create', 'delete'] as const, 'list');
  if (action === 'list') {
    onlyFields(input, 'tag', ['action']);
    const out = await ctx.run(['tag', '--list', '--format=%(refname:short)%1f%(objectname:short)%1f%(subject)'], 'read');
    return { tags: parseFields(out.stdout, ['name', 'object', 'subject'] as const) };
  }
  if (action === 'delete') {
    onlyFields(input, 'tag', ['action', 'name']);
    return done(await ctx.run(['tag', '--delete', checkRefName(input.name, 'tag name')], 'local'));
  }
  onlyFields(input, 'tag', ['action', 'name', 'ref', 'message']);
  const annotation = input.message === undefined ? [] : ['--annotate', `--message=${checkMessage(input.message)}`];
  const target = input.ref === undefined ? [] : [checkRevision(input.ref)];
  return done(await ctx.run(['tag', ...annotation, checkRefName(input.name, 'tag name'), ...target], 'local'));
}

async function remote(ctx: Context, input: Input) {
  const action = checkChoice(input.action, 'action', ['list', 'add', 'remove', 'set-url'] as const, 'list');
  if (action === 'list') {
    onlyFields(input, 'remote', ['action']);
    return { remotes: parseRemotes((await ctx.run(['remote', '--verbose'], 'read')).stdout) };
  }
  if (action === 'remove') {
    onlyFields(input, 'remote', ['action', 'name']);
    return done(await ctx.run(['remote', 'remove', checkRemoteName(input.name)], 'local'));
  }
  onlyFields(input, 'remote', ['action', 'name', 'url']);
  return done(await ctx.run(['remote', action, checkRemoteName(input.name), checkUrl(input.url)], 'local'));
}

async function fetch(ctx: Context, input: Input) {
  onlyFields(input, 'fetch', ['remote', 'all', 'prune', 'tags']);
  const args = ['fetch'];
  if (checkBoolean(input.prune, 'prune')) args.push('--prune');
  if (checkBoolean(input.tags, 'tags')) args.push('--tags');
  if (checkBoolean(input.all, 'all')) {
    if (input.remote !== undefined) throw refuse(400, 'give either remote or all: true, not both');
    args.push('--all');
  } else if (input.remote !== undefined) args.push(checkRemoteName(input.remote));
  return done(await ctx.run(args, 'network'));
}

async function pull(ctx: Context, input: Input) {
  onlyFields(input, 'pull', ['remote', 'branch', 'mode']);
  const args = ['pull', '--no-edit'];
  const mode = input.mode === undefined ? null : checkChoice(input.mode, 'mode', ['merge', 'rebase', 'ff-only'] as const, 'merge');
  if (mode) args.push(mode === 'merge' ? '--no-rebase' : mode === 'rebase' ? '--rebase' : '--ff-only');
  if (input.branch !== undefined && input.remote === undefined) throw refuse(400, 'branch needs a remote');
  if (input.remote !== undefined) args.push(checkRemoteName(input.remote));
  if (input.branch !== undefined) args.push(checkRefName(input.branch, 'branch'));
  return done(await ctx.run(args, 'network'));
}

async function push(ctx: Context, input: Input) {
  onlyFields(input, 'push', ['remote', 'branch', 'setUpstream', 'forceWithLease', 'tags']);
  const args = ['push'];
  if (checkBoolean(input.setUpstream, 'setUpstream')) args.push('--set-upstream');
  if (checkBoolean(input.forceWithLease, 'forceWithLease')) args.push('--force-with-lease');
  if (checkBoolean(input.tags, 'tags')) args.push('--tags');
  if (input.branch !== undefined && input.remote === undefined) throw refuse(400, 'branch needs a remote');
  if (input.remote !== undefined) args.push(checkRemoteName(input.remote));
  // a plain branch name: no ":" refspecs, so a push never deletes or renames remote refs
  if (input.branch !== undefined) args.push(checkRefName(input.branch, 'branch'));
  return done(await ctx.run(args, 'network'));
}

async function revParse(ctx: Context, input: Input) {
  onlyFields(input, 'rev-parse', ['ref', 'short', 'abbrevRef']);
  const ref = input.ref === undefined ? 'HEAD' : checkRevision(input.ref);
  const args = ['rev-parse'];
  if (checkBoolean(input.short, 'short')) args.push('--short');
  if (checkBoolean(input.abbrevRef, 'abbrevRef')) args.push('--abbrev-ref');
  try {
    return { value: (await ctx.run([...args, '--verify', ref], 'read')).stdout.trim() };
  } catch (error) {
    if (error instanceof HTTPException && error.status === 409) throw refuse(404, `"${ref}" is not a revision in this repo`);
    throw error;
  }
}

async function show(ctx: Context, input: Input) {
  onlyFields(input, 'show', ['ref', 'path']);
  const ref = input.ref === undefined ? 'HEAD' : checkRevision(input.ref);
  if (input.path !== undefined) {
    // a file as it is in a commit
    const path = checkTreePath(input.path);
    const out = await ctx.run(['show', `${ref}:${path}`], 'read', { maxOutputBytes: MAX_FILE_BYTES + 1 });
    if (out.truncated) throw refuse(413, `"${path}" at ${ref} is larger than ${MAX_FILE_BYTES} bytes`);
    const binary = out.bytes.subarray(0, 8000).includes(0) || !isUtf8(out.bytes);
    return { ref, path, encoding: binary ? 'base64' : 'utf8', content: out.bytes.toString(binary ? 'base64' : 'utf8') };
  }
  const out = await ctx.run(['show', `--format=${LOG_FORMAT}`, '--patch', '--no-ext-diff', '--find-renames', ref, '--'], 'read');
  const end = out.stdout.indexOf('\x1e');
  const [entry] = parseLog(out.stdout.slice(0, end + 1));
  if (!entry) throw refuse(400, `"${ref}" is not a commit`);
  return { commit: entry, files: parseDiff(out.stdout.slice(end + 1)), truncated: out.truncated };
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The config keys a repo's settings may read and write, with what each accepts. */
const CONFIG_KEYS: Record<string, (value: unknown) => string> = {
  'user.name': (v) => checkPersonName(v),
  'user.email': (v) => checkEmail(v),
  'pull.rebase': (v) => checkChoice(String(v), 'pull.rebase', ['true', 'false', 'merges'] as const, 'false'),
  'pull.ff': (v) => checkChoice(String(v), 'pull.ff', ['true', 'false', 'only'] as const, 'true'),
  'push.autosetupremote': (v) => checkChoice(String(v), 'push.autoSetupRemote', ['true', 'false'] as const, 'false'),
  'core.autocrlf': (v) => checkChoice(String(v), 'core.autocrlf', ['true', 'false', 'input'] as const, 'false'),
  'core.filemode': (v) => checkChoice(String(v), 'core.fileMode', ['true', 'false'] as const, 'true'),
};

async function config(ctx: Context, input: Input) {
  onlyFields(input, 'config', ['key', 'value', 'unset', 'scope']);
  if (input.scope !== undefined && input.scope !== 'local')
    throw refuse(403, "only this repo's own config can be read or changed here; --global and --system are refused");
  const key = checkValue(input.key, 'key').toLowerCase();
  const check = Object.hasOwn(CONFIG_KEYS, key) ? CONFIG_KEYS[key] : null;
  if (!check) throw refuse(403, `config key "${input.key}" is not one Homeport changes; allowed: ${Object.keys(CONFIG_KEYS).join(', ')}`);
  if (checkBoolean(input.unset, 'unset')) {
    if (input.value !== undefined) throw refuse(400, 'give either value or unset: true, not both');
    await ctx.run(['config', '--local', '--unset', key], 'local', { okCodes: [5] });
    return { key, value: null };
  }
  if (input.value !== undefined) {
    const value = check(input.value);
    await ctx.run(['config', '--local', key, value], 'local');
    return { key, value };
  }
  const out = await ctx.run(['config', '--local', '--get', key], 'read', { okCodes: [1] });
  return { key, value: out.code === 1 ? null : out.stdout.trim() };
}

export function checkPersonName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw refuse(400, 'name must be a non-empty string');
  if (value.length > 128) throw refuse(400, 'name is longer than 128 characters');
  if (/[<>\x00-\x1f\x7f]/.test(value)) throw refuse(400, 'name must not contain "<", ">" or control characters');
  if (value.startsWith('-')) throw refuse(400, 'name must not start with "-"');
  return value.trim();
}

export function checkEmail(value: unknown): string {
  if (typeof value !== 'string' || !/^[^\s<>@,;"-][^\s<>@,;"]*@[^\s<>@,;"]+$/.test(value) || value.length > 254)
    throw refuse(400, 'email must look like name@example.com');
  return value;
}

const OPERATIONS: Record<Exclude<GitCommand, 'clone'>, (ctx: Context, input: Input) => Promise<unknown>> = {
  status: (ctx, input) => (onlyFields(input, 'status', []), status(ctx)),
  add,
  commit,
  push,
  pull,
  fetch,
  branch,
  checkout,
  log,
  diff,
  stash,
  reset,
  merge,
  rebase,
  tag,
  remote,
  'rev-parse': revParse,
  config,
  show,
};

async function contextFor(root: string, op: string, options: OperationOptions): Promise<Context> {
  const cwd = await realRoot(root);
  if (!(await stat(join(cwd, '.git')).catch(() => null)))
    throw refuse(409, 'this folder is not a git repository (no .git at its top)');
  return {
    op,
    root,
    cwd,
    run: (args, kind, extra = {}) =>
      runGit(cwd, args, {
        label: `git ${op}`,
        timeoutMs: options.timeoutMs ?? TIMEOUTS[kind],
        read: kind === 'read',
        env: kind === 'network' ? options.networkEnv : undefined,
        ...extra,
      }),
  };
}

/**
 * Runs one structured git operation (`{op, …values}`) in the repo at `root`. Unknown
 * commands are 403, bad values 400 (403 for ones that could run commands), git's own
 * failures 409 with its message, timeouts 504.
 */
export async function runOperation(root: string, input: unknown, options: OperationOptions = {}): Promise<unknown> {
  if (!input || typeof input !== 'object' || Array.isArray(input))
    throw refuse(400, 'expected {"op": "<git command>", …its values}');
  const { op } = input as Input;
  if (typeof op !== 'string' || op === '') throw refuse(400, `"op" must name a git command: ${GIT_WHITELIST.join(', ')}`);
  if (op === 'clone') throw refuse(400, 'clone makes a new repo: clone it through the repo registry (Repos screen, or `homeport clone <url>`)');
  if (!Object.hasOwn(OPERATIONS, op))
    throw refuse(403, `git ${JSON.stringify(op.slice(0, 40))} is not allowed here; allowed: ${GIT_WHITELIST.filter((c) => c !== 'clone').join(', ')}`);
  const ctx = await contextFor(root, op, options);
  return OPERATIONS[op as keyof typeof OPERATIONS](ctx, input as Input);
}

export const repoStatus = (root: string, options: OperationOptions = {}) => runOperation(root, { op: 'status' }, options) as Promise<RepoStatus>;

export interface Identity {
  name: string | null;
  email: string | null;
}

/** The repo's own user.name/email, and what git would use (global config included). */
export async function getIdentity(root: string): Promise<Identity & { effective: Identity }> {
  const ctx = await contextFor(root, 'config', {});
  const get = async (scope: string[], key: string) => {
    const out = await ctx.run(['config', ...scope, '--get', key], 'read', { okCodes: [1] });
    return out.code === 1 ? null : out.stdout.trim();
  };
  return {
    name: await get(['--local'], 'user.name'),
    email: await get(['--local'], 'user.email'),
    effective: { name: await get([], 'user.name'), email: await get([], 'user.email') },
  };
}

/** Sets (string) or removes (null) the repo's own user.name and user.email; undefined leaves one alone. */
export async function setIdentity(root: string, input: unknown) {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw refuse(400, 'expected {"name": "…", "email": "…"}');
  const { name, email, ...rest } = input as Input;
  if (Object.keys(rest).length) throw refuse(400, `identity takes only name and email, not ${Object.keys(rest).join(', ')}`);
  if (name === undefined && email === undefined) throw refuse(400, 'give name, email or both');
  // check both before changing either
  const changes: [string, string | null][] = [];
  if (name !== undefined) changes.push(['user.name', name === null ? null : checkPersonName(name)]);
  if (email !== undefined) changes.push(['user.email', email === null ? null : checkEmail(email)]);
  for (const [key, value] of changes)
    await runOperation(root, value === null ? { op: 'config', key, unset: true } : { op: 'config', key, value });
  return getIdentity(root);
}
