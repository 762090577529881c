import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitApi } from './api.ts';
import { git, gitSandbox, identify, type Sandbox } from './fixtures.ts';
import { refNameProblem } from './validate.ts';

let box: Sandbox;

beforeEach(async () => {
  box = await gitSandbox();
});
afterEach(() => box.cleanup());

/** The node's git route over HTTP, as the dashboard and CLI reach it. */
function post(body: unknown) {
  const app = gitApi(async (name) => (name === 'demo' ? { root: box.repo } : null));
  return app.request('/api/repos/demo/git', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function commitIn(dir: string, file: string) {
  await writeFile(join(dir, file), `${file}\n`);
  git(dir, 'add', file);
  git(dir, 'commit', '--quiet', '-m', file);
  return git(dir, 'rev-parse', 'HEAD').trim();
}

describe('attack: force push through a refspec', () => {
  it('should refuse "+main" with 400 and leave the upstream commit in place', async () => {
    // someone else pushed a commit this clone does not have
    const other = join(box.dir, 'other');
    git(box.dir, 'clone', '--quiet', box.remote, other);
    identify(other);
    const theirs = await commitIn(other, 'theirs.txt');
    git(other, 'push', '--quiet', 'origin', 'main');
    await commitIn(box.repo, 'mine.txt');

    const res = await post({ op: 'push', remote: 'origin', branch: '+main' });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/\+.*forceWithLease/);
    expect(git(box.remote, 'rev-parse', 'main').trim()).toBe(theirs);
  });

  it.each([
    ['push', { op: 'push', remote: 'origin', branch: 'main:refs/heads/other' }],
    ['push', { op: 'push', remote: 'origin', branch: ':main' }],
    ['push', { op: 'push', remote: 'origin', branch: '+refs/heads/main:refs/heads/main' }],
    ['push', { op: 'push', remote: 'origin', branch: 'main^' }],
    ['push', { op: 'push', remote: 'origin', branch: 'main~1' }],
    ['push', { op: 'push', remote: 'origin', branch: 'a..b' }],
    ['push', { op: 'push', remote: 'origin', branch: 'refs/heads/*' }],
    ['pull', { op: 'pull', remote: 'origin', branch: '+main' }],
    ['pull', { op: 'pull', remote: 'origin', branch: 'main:main' }],
    ['branch', { op: 'branch', action: 'create', name: '+main' }],
    ['branch', { op: 'branch', action: 'rename', name: 'main', newName: '+x' }],
    ['checkout', { op: 'checkout', branch: '+x', create: true }],
    ['tag', { op: 'tag', action: 'create', name: '+v1' }],
  ])('should refuse a refspec as a ref name in %s: %j', async (_op, body) => {
    const before = git(box.remote, 'show-ref');
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(git(box.remote, 'show-ref')).toBe(before);
  });

  it('should still force only through forceWithLease', async () => {
    const rewritten = await commitIn(box.repo, 'mine.txt');
    git(box.repo, 'push', '--quiet', 'origin', 'main');
    git(box.repo, 'commit', '--quiet', '--amend', '-m', 'rewritten');
    const amended = git(box.repo, 'rev-parse', 'HEAD').trim();
    expect(amended).not.toBe(rewritten);
    expect((await post({ op: 'push', remote: 'origin', branch: 'main' })).status).toBe(409);
    expect((await post({ op: 'push', remote: 'origin', branch: 'main', forceWithLease: true })).status).toBe(200);
    expect(git(box.remote, 'rev-parse', 'main').trim()).toBe(amended);
  });
});

describe('ref names against git check-ref-format --branch', () => {
  const parts = ['main', 'x+y', '+', '-', '.', '..', '/', '//', ':', '^', '~', '?', '*', '[', '\\', '@', '@{', '{', ' ', '\t', '\x7f', '.lock', 'é', 'HEAD', 'refs/heads/', '#', '='];
  const names = new Set<string>(parts);
  for (const a of parts) for (const b of parts) names.add(a + b);
  for (const b of parts) for (const c of ['x', '/x']) names.add('v1.0' + b + c);

  /** git's verdict on each name, from one shell running git per name (a process per name from node is slow here). */
  function gitAccepts(list: string[]): boolean[] {
    const script = 'for n do git check-ref-format --branch "$n" >/dev/null 2>&1 && echo 1 || echo 0; done';
    const out = spawnSync('sh', ['-c', script, 'sh', ...list], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(out).toHaveLength(list.length);
    return out.map((line) => line === '1');
  }

  it(`should accept no name git refuses, and refuse beyond git only a leading "+" and "@"`, { timeout: 120_000 }, () => {
    const list = [...names];
    const verdicts = gitAccepts(list);
    const disagreements: string[] = [];
    list.forEach((name, i) => {
      const ours = refNameProblem(name) === null;
      if (ours && !verdicts[i]) disagreements.push(`accepted but git refuses: ${JSON.stringify(name)}`);
      // stricter only for a forced refspec ("+main") and "@", git's shorthand for HEAD
      if (!ours && verdicts[i] && !name.startsWith('+') && name !== '@') disagreements.push(`refused but git accepts: ${JSON.stringify(name)}`);
    });
    expect(verdicts.filter(Boolean).length).toBeGreaterThan(20);
    expect(disagreements).toEqual([]);
  });
});
