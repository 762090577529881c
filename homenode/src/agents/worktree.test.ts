import { chmodSync, existsSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, makeRemote, makeWorkTree, tempDir } from '../repos/git-fixtures.ts';
import { AGENT_NAME, commitAll, diffPatch, diffStat, openWorktree, pushBranch, WorktreeError } from './worktree.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const root = tempDir('homeport-worktree-');
  dirs.push(root);
  const repo = makeWorkTree(join(root, 'repo'), { 'README.md': 'hello\n', 'src/a.txt': 'one\ntwo\n', 'old.txt': 'bye\n' });
  return { root, repo, path: join(root, 'worktrees', 'task_1') };
}

describe('task worktrees', () => {
  it('should branch from HEAD, commit every change as the agent and measure the diff', async () => {
    const { repo, path } = setup();
    const tree = await openWorktree({ repoPath: repo, path, branch: 'homeport/task_1' });
    expect(tree).toMatchObject({ created: true, baseBranch: 'main', baseSha: git(repo, 'rev-parse', 'HEAD').trim(), branch: 'homeport/task_1' });
    writeFileSync(join(path, 'src/a.txt'), 'one\nTWO\nthree\n');
    writeFileSync(join(path, 'new.txt'), 'fresh\n');
    unlinkSync(join(path, 'old.txt'));
    const live = await diffPatch(tree, tree.baseSha, null);
    expect(live.patch).toContain('+TWO');
    expect(live.untracked).toEqual(['new.txt']);

    const { sha, committed } = await commitAll(tree, 'Make a change\n\nOutcome: completed');
    expect(committed).toBe(true);
    expect(git(repo, 'rev-parse', 'homeport/task_1').trim()).toBe(sha);
    expect(git(repo, 'log', '-1', '--format=%an|%cn|%s', 'homeport/task_1').trim()).toBe(`${AGENT_NAME}|${AGENT_NAME}|Make a change`);
    // The owner's checkout is untouched.
    expect(git(repo, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('main');
    expect(git(repo, 'status', '--porcelain')).toBe('');

    const stat = await diffStat(tree, tree.baseSha, sha);
    expect(stat).toMatchObject({ files: 3, insertions: 3, deletions: 2 });
    expect(stat.changes.map((c) => c.path).sort()).toEqual(['new.txt', 'old.txt', 'src/a.txt']);
    expect((await diffPatch(tree, tree.baseSha, sha)).patch).toContain('+fresh');

    // Nothing changed since: no empty commit.
    expect(await commitAll(tree, 'again')).toEqual({ sha, committed: false, warning: null });
    // A follow-up opens the same worktree.
    const again = await openWorktree({ repoPath: repo, path, branch: 'homeport/task_1' });
    expect(again).toMatchObject({ created: false, gitDir: tree.gitDir, baseSha: sha });
  });

  it('should refuse a repo without commits', async () => {
    const root = tempDir('homeport-worktree-');
    dirs.push(root);
    const repo = join(root, 'empty');
    mkdirSync(repo);
    git(repo, 'init', '-q');
    await expect(openWorktree({ repoPath: repo, path: join(root, 'wt'), branch: 'homeport/x' })).rejects.toThrow(/no commits yet/);
  });

  it("should not be steered by the work tree's .git file, nor run hooks or fsmonitor on the host", async () => {
    const { root, repo, path } = setup();
    const marker = join(root, 'pwned');
    const hook = `#!/bin/sh\ntouch ${marker}\n`;
    // The owner's own pre-commit hook would run the agent's code (a linter on its files): off.
    writeFileSync(join(repo, '.git/hooks/pre-commit'), hook);
    chmodSync(join(repo, '.git/hooks/pre-commit'), 0o755);
    const tree = await openWorktree({ repoPath: repo, path, branch: 'homeport/task_1' });
    // What a sandboxed agent could do: point .git at a git dir of its own with a command in its config.
    const evil = join(path, 'evil');
    git(path, 'init', '-q', '--separate-git-dir', evil, join(path, 'decoy'));
    writeFileSync(join(evil, 'config'), `[core]\n\tfsmonitor = touch ${marker}\n\thooksPath = ${join(evil, 'hooks')}\n`);
    writeFileSync(join(path, '.git'), `gitdir: ${evil}\n`);
    writeFileSync(join(path, 'work.txt'), 'done\n');

    const { sha, committed, warning } = await commitAll(tree, 'work');
    expect(committed).toBe(true);
    // The nested repository without commits cannot be added; the rest still is.
    expect(warning).toContain("'decoy/' does not have a commit checked out");
    expect(git(repo, 'rev-parse', 'homeport/task_1').trim()).toBe(sha);
    expect(git(repo, 'show', '--name-only', '--format=', sha)).toContain('work.txt');
    expect(existsSync(marker)).toBe(false);
  });

  it('should push the task branch to origin', async () => {
    const remote = makeRemote('pushme', { 'a.txt': 'a\n' });
    dirs.push(remote.bare.replace(/\/pushme\.git$/, ''));
    const root = tempDir('homeport-worktree-');
    dirs.push(root);
    const repo = join(root, 'clone');
    git(root, 'clone', '-q', remote.url, repo);
    const tree = await openWorktree({ repoPath: repo, path: join(root, 'wt', 'task_2'), branch: 'homeport/task_2' });
    writeFileSync(join(tree.path, 'b.txt'), 'b\n');
    const { sha } = await commitAll(tree, 'add b');
    await pushBranch(tree, null);
    expect(git(remote.bare, 'rev-parse', 'refs/heads/homeport/task_2').trim()).toBe(sha);
    // A worktree whose registration is gone is said plainly.
    rmSync(join(repo, '.git/worktrees/task_2'), { recursive: true });
    await expect(openWorktree({ repoPath: repo, path: tree.path, branch: 'homeport/task_2' })).rejects.toThrow(WorktreeError);
  });
});
