import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HTTPException } from 'hono/http-exception';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { git, gitSandbox, identify, type Sandbox } from './fixtures.ts';
import { getIdentity, runOperation, setIdentity } from './git.ts';
import type { RepoStatus } from './parse.ts';
import { runGit } from './runner.ts';

let box: Sandbox;
let repo: string;

beforeEach(async () => {
  box = await gitSandbox();
  repo = box.repo;
});

afterEach(() => box.cleanup());

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const op = (input: Record<string, unknown>, options = {}) => runOperation(repo, input, options) as Promise<any>;

async function refusal(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HTTPException) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

const head = (dir = repo) => git(dir, 'rev-parse', 'HEAD').trim();

describe('status, add, commit, log, diff', () => {
  it('should report a clean repo on main with its upstream', async () => {
    const status: RepoStatus = await op({ op: 'status' });
    expect(status).toEqual({
      branch: { head: 'main', oid: head(), upstream: 'origin/main', ahead: 0, behind: 0 },
      files: [],
      clean: true,
    });
  });

  it('should list changed files with their states', async () => {
    await writeFile(join(repo, 'README.md'), '# changed\n');
    await writeFile(join(repo, 'new file.txt'), 'new\n');
    await writeFile(join(repo, 'staged.txt'), 'staged\n');
    git(repo, 'add', 'staged.txt');
    git(repo, 'mv', 'README.md', 'READ ME.md');
    const status: RepoStatus = await op({ op: 'status' });
    expect(status.clean).toBe(false);
    expect(status.files).toEqual(
      expect.arrayContaining([
        { path: 'READ ME.md', from: 'README.md', x: 'R', y: 'M', state: 'renamed', staged: true, unstaged: true },
        { path: 'staged.txt', x: 'A', y: '.', state: 'added', staged: true, unstaged: false },
        { path: 'new file.txt', x: '?', y: '?', state: 'untracked', staged: false, unstaged: true },
      ]),
    );
    expect(status.files).toHaveLength(3);
  });

  it('should add paths, commit with a message and show it in the log', async () => {
    await writeFile(join(repo, 'a.txt'), 'a\n');
    await writeFile(join(repo, 'b.txt'), 'b\n');
    await op({ op: 'add', paths: ['a.txt'] });
    const committed = await op({ op: 'commit', message: '-a message that starts with a dash' });
    expect(committed.ok).toBe(true);
    expect(committed.commit).toBe(head());
    expect(git(repo, 'show', '--name-only', '--format=%s', 'HEAD').trim().split('\n')).toEqual(['-a message that starts with a dash', '', 'a.txt']);

    const { commits } = await op({ op: 'log', limit: 1 });
    expect(commits).toHaveLength(1);
    expect(commits[0]).toMatchObject({ hash: head(), subject: '-a message that starts with a dash', author: { name: 'Test Owner', email: 'owner@example.com' } });
    expect((await op({ op: 'log' })).commits.map((c: { subject: string }) => c.subject)).toEqual(['-a message that starts with a dash', 'first commit']);
    expect((await op({ op: 'log', path: 'README.md' })).commits).toHaveLength(1);

    await op({ op: 'add', all: true });
    expect(git(repo, 'diff', '--cached', '--name-only').trim()).toBe('b.txt');
  });

  it('should give diffs per file: worktree, staged and a new untracked file', async () => {
    await writeFile(join(repo, 'README.md'), '# hello\nmore\n');
    await writeFile(join(repo, 'fresh.txt'), 'one\ntwo\n');
    const worktree = await op({ op: 'diff' });
    expect(worktree.files).toHaveLength(1);
    expect(worktree.files[0]).toMatchObject({ path: 'README.md', status: 'modified', additions: 1, deletions: 0, binary: false, truncated: false });
    expect(worktree.files[0].patch).toContain('+more');
    expect((await op({ op: 'diff', staged: true })).files).toEqual([]);

    git(repo, 'add', 'README.md');
    expect((await op({ op: 'diff', staged: true })).files.map((f: { path: string }) => f.path)).toEqual(['README.md']);

    const untracked = await op({ op: 'diff', path: 'fresh.txt' });
    expect(untracked.files).toHaveLength(1);
    expect(untracked.files[0]).toMatchObject({ path: 'fresh.txt', status: 'added', additions: 2 });
  });

  it('should read an empty history as no commits', async () => {
    const empty = join(box.dir, 'empty');
    git(box.dir, 'init', '--quiet', empty);
    expect(await runOperation(empty, { op: 'log' })).toEqual({ commits: [] });
  });

  it('should say how to set an identity when git does not know who commits', async () => {
    git(repo, 'config', '--unset', 'user.name');
    git(repo, 'config', '--unset', 'user.email');
    await writeFile(join(repo, 'a.txt'), 'a\n');
    await op({ op: 'add', paths: ['a.txt'] });
    const { status, message } = await refusal(op({ op: 'commit', message: 'x' }));
    expect(status).toBe(409);
    expect(message).toContain('/git/identity');
  });
});

describe('branch, checkout, stash, tag, reset, merge, rebase, show, rev-parse', () => {
  it('should create, list, rename and delete branches and switch between them', async () => {
    await op({ op: 'branch', action: 'create', name: 'feature/x' });
    await op({ op: 'checkout', branch: 'feature/x' });
    expect(git(repo, 'branch', '--show-current').trim()).toBe('feature/x');
    const { branches } = await op({ op: 'branch' });
    expect(branches).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'feature/x', remote: false, current: true }),
        expect.objectContaining({ name: 'main', remote: false, current: false, upstream: 'origin/main' }),
        expect.objectContaining({ name: 'origin/main', remote: true }),
      ]),
    );
    await op({ op: 'checkout', branch: 'topic', create: true, startPoint: 'main' });
    expect(git(repo, 'branch', '--show-current').trim()).toBe('topic');
    await op({ op: 'branch', action: 'rename', name: 'feature/x', newName: 'feature/y' });
    await op({ op: 'branch', action: 'delete', name: 'feature/y' });
    expect(git(repo, 'branch', '--format=%(refname:short)').trim().split('\n').sort()).toEqual(['main', 'topic']);
  });

  it('should discard a file’s changes with checkout paths and unstage with reset paths', async () => {
    await writeFile(join(repo, 'README.md'), 'scribbles\n');
    await op({ op: 'checkout', paths: ['README.md'] });
    expect(await readFile(join(repo, 'README.md'), 'utf8')).toBe('# hello\n');
    await writeFile(join(repo, 'README.md'), 'staged\n');
    git(repo, 'add', 'README.md');
    await op({ op: 'reset', paths: ['README.md'] });
    expect(git(repo, 'diff', '--cached', '--name-only').trim()).toBe('');
    expect(await readFile(join(repo, 'README.md'), 'utf8')).toBe('staged\n');
  });

  it('should stash, list and pop changes', async () => {
    await writeFile(join(repo, 'README.md'), 'wip\n');
    await op({ op: 'stash', message: 'half done' });
    expect(await readFile(join(repo, 'README.md'), 'utf8')).toBe('# hello\n');
    const { stashes } = await op({ op: 'stash', action: 'list' });
    expect(stashes).toHaveLength(1);
    expect(stashes[0].ref).toBe('stash@{0}');
    expect(stashes[0].subject).toContain('half done');
    await op({ op: 'stash', action: 'pop', index: 0 });
    expect(await readFile(join(repo, 'README.md'), 'utf8')).toBe('wip\n');
  });

  it('should create, list and delete tags', async () => {
    await op({ op: 'tag', action: 'create', name: 'v1.0.0', message: 'first release' });
    await op({ op: 'tag', action: 'create', name: 'light' });
    const { tags } = await op({ op: 'tag' });
    expect(tags.map((t: { name: string }) => t.name).sort()).toEqual(['light', 'v1.0.0']);
    expect(git(repo, 'cat-file', '-t', 'v1.0.0').trim()).toBe('tag');
    await op({ op: 'tag', action: 'delete', name: 'light' });
    expect(git(repo, 'tag', '--list').trim()).toBe('v1.0.0');
  });

  it('should reset soft, mixed and hard', async () => {
    const first = head();
    await writeFile(join(repo, 'a.txt'), 'a\n');
    git(repo, 'add', 'a.txt');
    git(repo, 'commit', '--quiet', '-m', 'second');
    await op({ op: 'reset', mode: 'soft', ref: 'HEAD~1' });
    expect(head()).toBe(first);
    expect(git(repo, 'diff', '--cached', '--name-only').trim()).toBe('a.txt');
    await op({ op: 'reset' });
    expect(git(repo, 'diff', '--cached', '--name-only').trim()).toBe('');
    await writeFile(join(repo, 'README.md'), 'changed\n');
    await op({ op: 'reset', mode: 'hard' });
    expect(await readFile(join(repo, 'README.md'), 'utf8')).toBe('# hello\n');
  });

  it('should merge a branch, and report a conflict as 409 that merge abort undoes', async () => {
    git(repo, 'checkout', '--quiet', '-b', 'topic');
    await writeFile(join(repo, 'topic.txt'), 'topic\n');
    git(repo, 'add', 'topic.txt');
    git(repo, 'commit', '--quiet', '-m', 'topic work');
    git(repo, 'checkout', '--quiet', 'main');
    await op({ op: 'merge', ref: 'topic', fastForward: 'only' });
    expect(existsSync(join(repo, 'topic.txt'))).toBe(true);

    git(repo, 'checkout', '--quiet', '-b', 'clash');
    await writeFile(join(repo, 'README.md'), 'clash side\n');
    git(repo, 'commit', '--quiet', '-am', 'clash');
    git(repo, 'checkout', '--quiet', 'main');
    await writeFile(join(repo, 'README.md'), 'main side\n');
    git(repo, 'commit', '--quiet', '-am', 'main');
    const { status, message } = await refusal(op({ op: 'merge', ref: 'clash' }));
    expect(status).toBe(409);
    expect(message).toContain('CONFLICT');
    expect(((await op({ op: 'status' })) as RepoStatus).files).toEqual([expect.objectContaining({ path: 'README.md', state: 'conflicted' })]);
    await op({ op: 'merge', abort: true });
    expect(await readFile(join(repo, 'README.md'), 'utf8')).toBe('main side\n');
  });

  it('should rebase a branch onto another', async () => {
    git(repo, 'checkout', '--quiet', '-b', 'topic');
    await writeFile(join(repo, 'topic.txt'), 'topic\n');
    git(repo, 'add', 'topic.txt');
    git(repo, 'commit', '--quiet', '-m', 'topic work');
    git(repo, 'checkout', '--quiet', 'main');
    await writeFile(join(repo, 'main.txt'), 'main\n');
    git(repo, 'add', 'main.txt');
    git(repo, 'commit', '--quiet', '-m', 'main work');
    const mainHead = head();
    git(repo, 'checkout', '--quiet', 'topic');
    await op({ op: 'rebase', onto: 'main' });
    expect(git(repo, 'rev-parse', 'HEAD~1').trim()).toBe(mainHead);
  });

  it('should show a commit with its diff and a file as it was', async () => {
    await writeFile(join(repo, 'README.md'), '# hello again\n');
    git(repo, 'commit', '--quiet', '-am', 'say it again');
    const shown = await op({ op: 'show' });
    expect(shown.commit).toMatchObject({ hash: head(), subject: 'say it again' });
    expect(shown.files).toEqual([expect.objectContaining({ path: 'README.md', additions: 1, deletions: 1 })]);
    expect(await op({ op: 'show', ref: 'HEAD~1', path: 'README.md' })).toEqual({ ref: 'HEAD~1', path: 'README.md', encoding: 'utf8', content: '# hello\n' });
  });

  it('should rev-parse refs, and answer 404 for unknown ones', async () => {
    expect(await op({ op: 'rev-parse' })).toEqual({ value: head() });
    expect(await op({ op: 'rev-parse', ref: 'HEAD', abbrevRef: true })).toEqual({ value: 'main' });
    expect((await refusal(op({ op: 'rev-parse', ref: 'no-such-branch' }))).status).toBe(404);
  });
});

describe('remotes: fetch, pull, push, remote', () => {
  it('should push to the bare remote, and fetch and pull into another clone', async () => {
    const other = join(box.dir, 'other');
    git(box.dir, 'clone', '--quiet', box.remote, other);
    identify(other);

    await writeFile(join(repo, 'pushed.txt'), 'pushed\n');
    git(repo, 'add', 'pushed.txt');
    git(repo, 'commit', '--quiet', '-m', 'to be pushed');
    expect(((await op({ op: 'status' })) as RepoStatus).branch).toMatchObject({ ahead: 1, behind: 0 });
    await op({ op: 'push', remote: 'origin', branch: 'main' });
    expect(git(box.remote, 'rev-parse', 'main').trim()).toBe(head());

    await runOperation(other, { op: 'fetch', remote: 'origin' });
    expect(((await runOperation(other, { op: 'status' })) as RepoStatus).branch).toMatchObject({ ahead: 0, behind: 1 });
    await runOperation(other, { op: 'pull', mode: 'ff-only' });
    expect(head(other)).toBe(head());

    await op({ op: 'checkout', branch: 'shared', create: true });
    await op({ op: 'push', remote: 'origin', branch: 'shared', setUpstream: true });
    expect(git(repo, 'rev-parse', '--abbrev-ref', 'shared@{upstream}').trim()).toBe('origin/shared');
  });

  it('should use the registry’s network environment for fetch, pull and push only', async () => {
    const mirror = join(box.dir, 'mirror.git');
    git(box.dir, 'init', '--bare', '--quiet', mirror);
    const networkEnv = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'remote.origin.pushurl', GIT_CONFIG_VALUE_0: mirror };
    await runOperation(repo, { op: 'push', remote: 'origin', branch: 'main' }, { networkEnv });
    expect(git(mirror, 'rev-parse', 'main').trim()).toBe(head());
    expect(await op({ op: 'config', key: 'user.name' }, { networkEnv })).toEqual({ key: 'user.name', value: 'Test Owner' });
  });

  it('should list, add, change and remove remotes, hiding passwords in URLs', async () => {
    await op({ op: 'remote', action: 'add', name: 'upstream', url: 'https://someone:hunter2@example.com/x.git' });
    await op({ op: 'remote', action: 'set-url', name: 'upstream', url: 'git@example.com:owner/x.git' });
    git(repo, 'remote', 'add', 'secret', 'https://me:s3cret@example.com/y.git');
    const { remotes } = await op({ op: 'remote' });
    expect(remotes).toEqual([
      { name: 'origin', fetchUrl: box.remote, pushUrl: box.remote },
      { name: 'secret', fetchUrl: 'https://me:***@example.com/y.git', pushUrl: 'https://me:***@example.com/y.git' },
      { name: 'upstream', fetchUrl: 'git@example.com:owner/x.git', pushUrl: 'git@example.com:owner/x.git' },
    ]);
    await op({ op: 'remote', action: 'remove', name: 'upstream' });
    expect(git(repo, 'remote').trim().split('\n')).toEqual(['origin', 'secret']);
  });
});

describe('config and identity', () => {
  it('should get, set and unset allowed repo-level keys', async () => {
    expect(await op({ op: 'config', key: 'pull.rebase' })).toEqual({ key: 'pull.rebase', value: null });
    await op({ op: 'config', key: 'pull.rebase', value: true });
    expect(git(repo, 'config', '--local', 'pull.rebase').trim()).toBe('true');
    await op({ op: 'config', key: 'pull.rebase', unset: true });
    expect(await op({ op: 'config', key: 'pull.rebase' })).toEqual({ key: 'pull.rebase', value: null });
  });

  it('should read and set the repo’s user name and email', async () => {
    expect(await getIdentity(repo)).toEqual({
      name: 'Test Owner',
      email: 'owner@example.com',
      effective: { name: 'Test Owner', email: 'owner@example.com' },
    });
    await setIdentity(repo, { name: 'Grace Hopper', email: 'grace@example.com' });
    expect(git(repo, 'config', '--local', 'user.name').trim()).toBe('Grace Hopper');
    expect(git(repo, 'config', '--local', 'user.email').trim()).toBe('grace@example.com');
    const cleared = await setIdentity(repo, { email: null });
    expect(cleared).toMatchObject({ name: 'Grace Hopper', email: null });
  });

  it('should refuse bad identities without changing anything', async () => {
    expect((await refusal(setIdentity(repo, { name: 'Ok Name', email: 'not an email' }))).status).toBe(400);
    expect((await refusal(setIdentity(repo, { name: 'Eve <evil@example.com>' }))).status).toBe(400);
    expect((await refusal(setIdentity(repo, { name: 'x', colour: 'red' }))).status).toBe(400);
    expect(git(repo, 'config', '--local', 'user.name').trim()).toBe('Test Owner');
  });
});

describe('refusals', () => {
  it.each(['gc', 'filter-branch', 'daemon', 'archive', 'submodule', '__proto__', 'toString'])('should refuse the non-whitelisted command "%s"', async (command) => {
    const { status, message } = await refusal(op({ op: command }));
    expect(status).toBe(403);
    expect(message).toContain('not allowed');
  });

  it('should refuse config outside the repo and keys it does not manage', async () => {
    expect(await refusal(op({ op: 'config', key: 'user.name', value: 'x', scope: 'global' }))).toMatchObject({ status: 403 });
    expect(await refusal(op({ op: 'config', key: 'core.sshCommand', value: 'touch /tmp/pwned' }))).toMatchObject({ status: 403 });
    expect(await refusal(op({ op: 'config', key: 'core.hooksPath', value: '/tmp' }))).toMatchObject({ status: 403 });
    expect(git(repo, 'config', '--list', '--local')).not.toMatch(/sshcommand|hookspath/i);
  });

  it('should refuse ext:: URLs, --upload-pack, --exec and -c however they are passed, running nothing', async () => {
    const marker = join(box.dir, 'pwned');
    const attempts: Record<string, unknown>[] = [
      { op: 'remote', action: 'add', name: 'evil', url: `ext::sh -c touch% ${marker}` },
      { op: 'remote', action: 'add', name: 'evil', url: `ext::sh` },
      { op: 'remote', action: 'add', name: 'evil', url: `fd::3` },
      { op: 'remote', action: 'add', name: 'evil', url: `--upload-pack=touch ${marker}` },
      { op: 'fetch', remote: `--upload-pack=touch ${marker}` },
      { op: 'fetch', remote: 'origin--upload-pack=x' },
      { op: 'push', remote: `--receive-pack=touch` },
      { op: 'pull', remote: '--exec=touch' },
      { op: 'checkout', branch: '-c' },
      { op: 'checkout', branch: `-ccore.sshCommand=touch` },
      { op: 'log', ref: '--output=/tmp/x' },
      { op: 'branch', action: 'create', name: '-D' },
      { op: 'branch', action: 'create', name: '--help' },
      { op: 'merge', ref: '-Xours' },
      { op: 'push', remote: 'origin', branch: 'main:refs/heads/other' },
      { op: 'push', remote: 'origin', branch: ':main' },
      { op: 'show', ref: 'HEAD:../x' },
      { op: 'log', args: ['--all'] },
    ];
    for (const attempt of attempts) {
      const { status } = await refusal(op(attempt));
      expect([400, 403], JSON.stringify(attempt)).toContain(status);
    }
    expect((await refusal(op({ op: 'remote', action: 'add', name: 'evil', url: `ext::sh -c touch% ${marker}` }))).status).toBe(403);
    expect((await refusal(op({ op: 'checkout', branch: '-ccore.sshCommand=x' }))).message).toContain('must not start with "-"');
    expect(existsSync(marker)).toBe(false);
    expect(git(repo, 'remote').trim()).toBe('origin');
    expect(git(repo, 'branch', '--format=%(refname:short)').trim()).toBe('main');
  });

  it('should refuse paths that leave the repo or enter .git', async () => {
    await mkdir(join(box.dir, 'outside'));
    await writeFile(join(box.dir, 'outside', 'x.txt'), 'x');
    for (const paths of [['../outside/x.txt'], ['/etc/passwd'], ['.git/config'], ['ok.txt', 'a/../../x']]) {
      expect((await refusal(op({ op: 'add', paths }))).status, paths.join()).toBe(403);
    }
    expect((await refusal(op({ op: 'diff', path: '../outside/x.txt' }))).status).toBe(403);
    expect((await refusal(op({ op: 'show', path: '../x' }))).status).toBe(403);
  });

  it('should not run git for a repo above a folder that has no .git of its own', async () => {
    await mkdir(join(repo, 'sub'));
    expect(await refusal(runOperation(join(repo, 'sub'), { op: 'status' }))).toMatchObject({ status: 409 });
  });

  it('should ignore GIT_DIR and friends inherited from the environment', async () => {
    const other = join(box.dir, 'other');
    git(box.dir, 'init', '--quiet', other);
    const ours = head();
    process.env.GIT_DIR = join(other, '.git');
    try {
      expect(((await op({ op: 'status' })) as RepoStatus).branch.oid).toBe(ours);
    } finally {
      delete process.env.GIT_DIR;
    }
  });
});

describe('runner limits', () => {
  it('should kill a command that exceeds its timeout, hooks included', async () => {
    const pidFile = join(box.dir, 'hook.pid');
    await writeFile(join(repo, '.git', 'hooks', 'pre-commit'), `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 30\n`);
    await chmod(join(repo, '.git', 'hooks', 'pre-commit'), 0o755);
    await writeFile(join(repo, 'a.txt'), 'a\n');
    git(repo, 'add', 'a.txt');
    const { status, message } = await refusal(op({ op: 'commit', message: 'slow' }, { timeoutMs: 3000 }));
    expect(status).toBe(504);
    expect(message).toBe('git commit took longer than 3 s and was stopped');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(await gone(pid)).toBe(true);
  }, 15_000);

  it('should cut output at the cap and say it was truncated', async () => {
    const result = await runGit(repo, ['log', '--format=%H%n%H%n%H'], { label: 'git log', timeoutMs: 10_000, read: true, maxOutputBytes: 50 });
    expect(result.truncated).toBe(true);
    expect(result.stdout).toHaveLength(50);
    const whole = await runGit(repo, ['log', '--format=%H'], { label: 'git log', timeoutMs: 10_000, read: true });
    expect(whole).toMatchObject({ truncated: false, stdout: `${head()}\n` });
  });
});

/** True once `pid` no longer runs (a zombie waiting for its reaper counts as gone). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (state === null || / Z /.test(state)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
