/**
 * @module
 * Test fixtures for the files and git tests: throwaway repos with real git, a bare repo
 * as their remote, and a git config of their own (the machine's global config is not read).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Plain git for setting up fixtures (not the runner under test). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Sandbox {
  dir: string;
  /** a bare repo to push to and fetch from */
  remote: string;
  /** a clone of `remote` with one commit on main and an identity */
  repo: string;
  cleanup(): Promise<void>;
}

/** A temp dir with an isolated git config, a bare remote and a clone of it. */
export async function gitSandbox(): Promise<Sandbox> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'homeport-git-')));
  const globalConfig = join(dir, 'gitconfig');
  // useConfigOnly: no identity guessed from the host, so "who are you?" is the same everywhere
  await writeFile(globalConfig, '[init]\n\tdefaultBranch = main\n[user]\n\tuseConfigOnly = true\n');
  process.env.GIT_CONFIG_GLOBAL = globalConfig;
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  const remote = join(dir, 'remote.git');
  git(dir, 'init', '--bare', '--quiet', remote);
  const seed = join(dir, 'seed');
  git(dir, 'init', '--quiet', seed);
  identify(seed);
  await writeFile(join(seed, 'README.md'), '# hello\n');
  git(seed, 'add', 'README.md');
  git(seed, 'commit', '--quiet', '-m', 'first commit');
  git(seed, 'push', '--quiet', remote, 'main');
  const repo = join(dir, 'repo');
  git(dir, 'clone', '--quiet', remote, repo);
  identify(repo);
  return { dir, remote, repo, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function identify(repo: string) {
  git(repo, 'config', 'user.name', 'Test Owner');
  git(repo, 'config', 'user.email', 'owner@example.com');
}
