/**
 * @module
 * A task's own git worktree: a new branch `homeport/<task id>` checked out under
 * `<data dir>/worktrees/<task id>`, mounted into the task's sandbox at /workspace. Every
 * git command here runs on the host, by homeportd, and never trusts the work tree: the
 * sandbox can rewrite its `.git` file or plant files, so git is always told the real
 * git dir (inside the repo's own `.git`, which is not mounted), with hooks and fsmonitor
 * off (they would run the agent's code on the host).
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { GitError, runGit, type GitAuth } from '../repos/git.ts';

/** Commits made for a task carry this identity (author and committer). */
export const AGENT_NAME = 'Homeport agent';
export const AGENT_EMAIL = 'agent@homeport.invalid';

const LOCAL_TIMEOUT_MS = 60_000;
const PUSH_TIMEOUT_MS = 5 * 60_000;
/** the largest patch GET /api/tasks/:id/diff answers with */
export const MAX_PATCH_BYTES = 1024 * 1024;

/** Settings that keep host-side git from running anything the work tree supplies. */
const SAFE = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'commit.gpgsign=false', '-c', 'core.quotePath=false'];

export class WorktreeError extends Error {}

export interface Worktree {
  /** the work tree on the host (mounted at /workspace) */
  path: string;
  /** its git dir inside the repo's `.git/worktrees/` */
  gitDir: string;
  branch: string;
}

export interface DiffStat {
  files: number;
  insertions: number;
  deletions: number;
  /** per file: path, lines added and removed (null for binary files) */
  changes: { path: string; insertions: number | null; deletions: number | null }[];
}

async function git(args: string[], options: { cwd?: string; auth?: GitAuth | null; timeoutMs?: number; what: string }): Promise<string> {
  try {
    const { stdout } = await runGit(args, { cwd: options.cwd, auth: options.auth, timeoutMs: options.timeoutMs ?? LOCAL_TIMEOUT_MS });
    return stdout;
  } catch (error) {
    if (error instanceof GitError) throw new WorktreeError(`${options.what} failed: ${error.message}`);
    throw error;
  }
}

/** git inside a task's worktree, with its git dir given explicitly (never read from the work tree). */
function inTree(tree: Worktree, args: string[], what: string, options: { auth?: GitAuth | null; timeoutMs?: number } = {}): Promise<string> {
  return git([`--git-dir=${tree.gitDir}`, `--work-tree=${tree.path}`, ...SAFE, ...args], { cwd: tree.path, what, ...options });
}

/** The repo's common git dir (`<repo>/.git` for a normal clone), absolute. */
async function commonDirOf(repoPath: string): Promise<string> {
  const out = (await git(['rev-parse', '--git-common-dir'], { cwd: repoPath, what: 'finding the repo’s git dir' })).trim();
  return isAbsolute(out) ? out : resolve(repoPath, out);
}

/**
 * Finds the git dir of the worktree at `path` in the repo's `.git/worktrees/`, checking
 * that it names that path (its `gitdir` file is written by git, outside the sandbox).
 */
async function gitDirOf(repoPath: string, path: string, name: string): Promise<string> {
  const gitDir = join(await commonDirOf(repoPath), 'worktrees', name);
  const back = await readFile(join(gitDir, 'gitdir'), 'utf8').catch(() => null);
  if (back === null || resolve(dirname(back.trim())) !== resolve(path)) throw new WorktreeError(`the worktree at ${path} is not registered in ${repoPath} (was it removed with \`git worktree prune\`?)`);
  return gitDir;
}

/**
 * Creates the worktree for a task on a new branch from the repo's current HEAD, or
 * opens the one it already has (a follow-up). Returns where it started from.
 */
export async function openWorktree(options: { repoPath: string; path: string; branch: string }): Promise<Worktree & { baseSha: string; baseBranch: string | null; created: boolean }> {
  const { repoPath, path, branch } = options;
  const name = path.split('/').pop()!;
  if (await stat(path).catch(() => null)) {
    const gitDir = await gitDirOf(repoPath, path, name);
    const tree = { path, gitDir, branch };
    const head = (await inTree(tree, ['rev-parse', 'HEAD'], 'reading the task branch')).trim();
    return { ...tree, baseSha: head, baseBranch: null, created: false };
  }
  const baseSha = (await git(['rev-parse', '--verify', '-q', 'HEAD^{commit}'], { cwd: repoPath, what: 'reading the repo’s HEAD' }).catch(() => '')).trim();
  if (!baseSha) throw new WorktreeError(`${repoPath} has no commits yet, so there is nothing to branch from; commit something first`);
  const baseBranch = (await git(['symbolic-ref', '--short', '-q', 'HEAD'], { cwd: repoPath, what: 'reading the repo’s branch' }).catch(() => '')).trim() || null;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await git([...SAFE, 'worktree', 'add', '--quiet', '-b', branch, '--', path, baseSha], { cwd: repoPath, what: `creating the worktree ${path}` });
  return { path, gitDir: await gitDirOf(repoPath, path, name), branch, baseSha, baseBranch, created: true };
}

/** The worktree a task already has, or null when its folder is gone. */
export async function findWorktree(options: { repoPath: string; path: string; branch: string }): Promise<Worktree | null> {
  if (!(await stat(options.path).catch(() => null))) return null;
  return { path: options.path, gitDir: await gitDirOf(options.repoPath, options.path, options.path.split('/').pop()!), branch: options.branch };
}

/**
 * Commits everything in the work tree (`git add -A`) on the task's branch. Returns the
 * branch's head afterwards, whether a commit was made (nothing changed: none), and what
 * git could not add, if anything.
 */
export async function commitAll(tree: Worktree, message: string): Promise<{ sha: string; committed: boolean; warning: string | null }> {
  // --ignore-errors: a path git cannot add (a nested repo without commits, say) must not lose the rest.
  const warning = await inTree(tree, ['add', '-A', '--ignore-errors'], 'staging the task’s changes').then(
    () => null,
    (error: Error) => error.message,
  );
  const staged = await inTree(tree, ['diff', '--cached', '--name-only', '-z'], 'listing the staged changes');
  let committed = false;
  if (staged.length) {
    const identity = ['-c', `user.name=${AGENT_NAME}`, '-c', `user.email=${AGENT_EMAIL}`];
    await inTree(tree, [...identity, 'commit', '--quiet', '--no-verify', '--cleanup=strip', '-m', message], 'committing the task’s changes');
    committed = true;
  }
  return { sha: (await inTree(tree, ['rev-parse', 'HEAD'], 'reading the commit')).trim(), committed, warning };
}

/** Lines added and removed between two commits. */
export async function diffStat(tree: Worktree, base: string, head: string): Promise<DiffStat> {
  const out = await inTree(tree, ['diff', '--numstat', '-z', '--no-renames', base, head, '--'], 'measuring the diff');
  const changes: DiffStat['changes'] = [];
  for (const entry of out.split('\0').filter(Boolean)) {
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(entry);
    if (!m) continue;
    changes.push({ path: m[3], insertions: m[1] === '-' ? null : Number(m[1]), deletions: m[2] === '-' ? null : Number(m[2]) });
  }
  return {
    files: changes.length,
    insertions: changes.reduce((a, c) => a + (c.insertions ?? 0), 0),
    deletions: changes.reduce((a, c) => a + (c.deletions ?? 0), 0),
    changes,
  };
}

/**
 * The patch from `base` to `head` (a commit), or to the work tree as it is now when
 * `head` is null (a run still going: tracked changes, plus the names of new files).
 */
export async function diffPatch(tree: Worktree, base: string, head: string | null): Promise<{ patch: string; truncated: boolean; untracked: string[] }> {
  const args = head ? ['diff', '--no-color', '--no-ext-diff', '--no-textconv', base, head, '--'] : ['diff', '--no-color', '--no-ext-diff', '--no-textconv', base, '--'];
  let patch = await inTree(tree, args, 'reading the diff');
  const untracked = head ? [] : (await inTree(tree, ['ls-files', '--others', '--exclude-standard', '-z'], 'listing new files')).split('\0').filter(Boolean);
  const truncated = Buffer.byteLength(patch) > MAX_PATCH_BYTES;
  if (truncated) patch = Buffer.from(patch).subarray(0, MAX_PATCH_BYTES).toString('utf8');
  return { patch, truncated, untracked };
}

/** Pushes the task's branch to `origin` (the GitHub token, if any, rides in git's environment). */
export async function pushBranch(tree: Worktree, auth: GitAuth | null): Promise<void> {
  await inTree(tree, ['push', '--quiet', '--no-verify', 'origin', `refs/heads/${tree.branch}:refs/heads/${tree.branch}`], `pushing ${tree.branch}`, { auth, timeoutMs: PUSH_TIMEOUT_MS });
}
