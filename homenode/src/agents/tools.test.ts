import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDocker, ensureTestImage } from '../../../test/helpers/docker.ts';
import { git, makeWorkTree, tempDir } from '../repos/git-fixtures.ts';
import { Sandbox } from './sandbox.ts';
import { sandboxTools, type AgentTool } from './tools.ts';

let root: string;
let worktree: string;
let gitDir: string;
let sandbox: Sandbox;
let tools: Map<string, AgentTool>;

const ctx = () => ({ signal: new AbortController().signal });
const call = (name: string, input: unknown, context = ctx()) => tools.get(name)!.run(input, context);

beforeAll(async () => {
  const docker = await ensureDocker();
  const image = await ensureTestImage(docker);
  root = tempDir('homeport-tools-');
  // A repo and a task worktree on its own branch, as the task manager makes them: the
  // worktree's git dir lives in the repo's .git, outside what the sandbox mounts.
  const repo = makeWorkTree(join(root, 'repo'), { 'src/a.ts': 'export const a = 1;\n', 'README.md': '# demo\n' });
  worktree = join(root, 'task-wt');
  git(repo, 'worktree', 'add', '-q', '-b', 'homeport/t1', worktree);
  gitDir = join(repo, '.git/worktrees/task-wt');
  sandbox = await Sandbox.create({ docker, image, taskId: `tools-${randomBytes(4).toString('hex')}`, owner: 'tools-test', workspace: worktree });
  tools = new Map(sandboxTools(sandbox, { bashTimeoutMs: 1500, bashIdleMs: 800, hostGit: { worktree, gitDir } }).map((t) => [t.name, t]));
}, 60_000);

afterAll(async () => {
  await sandbox?.destroy();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('sandboxTools', { timeout: 30_000 }, () => {
  it('should offer the file, bash and git tools with schemas the model can follow', () => {
    expect([...tools.keys()]).toEqual(['read_file', 'write_file', 'list_files', 'bash', 'git_status', 'git_diff']);
    for (const tool of tools.values()) {
      expect(tool.description.length).toBeGreaterThan(60);
      expect(tool.input_schema).toMatchObject({ type: 'object', additionalProperties: false });
    }
    expect(tools.get('write_file')!.input_schema.required).toEqual(['path', 'content']);
    expect(tools.get('bash')!.description).toContain('1.5 s');
    expect(tools.get('bash')!.description).toContain('0.8 s without any output');
    // no host git without a worktree to run it against
    expect(sandboxTools(sandbox).map((t) => t.name)).toEqual(['read_file', 'write_file', 'list_files', 'bash']);
  });

  it('should read, write and list files in the workspace', async () => {
    expect(await call('read_file', { path: 'src/a.ts' })).toEqual({ content: 'export const a = 1;\n' });
    expect(await call('write_file', { path: 'src/new.ts', content: 'export const b = 2;\n' })).toEqual({ content: 'wrote 20 bytes to src/new.ts' });
    expect(readFileSync(join(worktree, 'src/new.ts'), 'utf8')).toBe('export const b = 2;\n');
    const listing = await call('list_files', {});
    expect(listing.isError).toBeUndefined();
    expect(listing.content.split('\n')).toEqual(['README.md', 'src/', 'src/a.ts', 'src/new.ts']);
    expect((await call('list_files', { path: 'src', depth: 1 })).content).toBe('src/a.ts\nsrc/new.ts');
  });

  it('should answer bad input and refused paths as tool errors the model can act on', async () => {
    expect(await call('read_file', { path: '../repo/.git/config' })).toMatchObject({ isError: true, content: expect.stringContaining('outside /workspace') });
    expect(await call('read_file', { path: 'nope.ts' })).toEqual({ isError: true, content: 'nope.ts does not exist' });
    expect(await call('read_file', {})).toEqual({ isError: true, content: 'read_file needs "path" as a string' });
    expect(await call('read_file', 'src/a.ts')).toEqual({ isError: true, content: 'read_file takes a JSON object as input' });
    expect(await call('write_file', { path: 'x', content: 'y', mode: 644 })).toMatchObject({ isError: true, content: expect.stringContaining('no parameter "mode"') });
    expect(await call('list_files', { depth: 'deep' })).toMatchObject({ isError: true });
    expect(await call('bash', { command: '  ' })).toMatchObject({ isError: true });
    writeFileSync(join(worktree, 'blob.bin'), Buffer.from([1, 0, 2, 3]));
    expect(await call('read_file', { path: 'blob.bin' })).toEqual({ isError: true, content: 'blob.bin looks binary (4 bytes): not shown' });
    rmSync(join(worktree, 'blob.bin'));
  });

  it('should run bash and say how it ended', async () => {
    expect(await call('bash', { command: 'echo hi; cat src/a.ts' })).toEqual({ content: 'exit code 0\n\nhi\nexport const a = 1;\n', isError: false });
    expect(await call('bash', { command: 'exit 4' })).toEqual({ content: 'exit code 4\n\n(no output)', isError: true });
    const talking = await call('bash', { command: 'while true; do echo tick; sleep 0.2; done' });
    expect(talking.isError).toBe(true);
    expect(talking.content).toMatch(/^timed out after 1\.5 s: the command was killed \(exit code 137\)\n\ntick\n/);
    const silent = await call('bash', { command: 'echo once; sleep 100' });
    expect(silent).toEqual({ isError: true, content: 'no output for 0.8 s: the command was killed (exit code 137)\n\nonce\n' });
  });

  it('should stop bash when the run is cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const result = await call('bash', { command: 'while true; do echo tick; sleep 0.1; done' }, { signal: controller.signal });
    expect(result.isError).toBe(true);
    expect(result.content).toMatch(/^cancelled: the command was killed/);
  });

  it('should show git status and diff from the host, whatever the sandbox did to .git', async () => {
    await call('write_file', { path: 'src/a.ts', content: 'export const a = 2;\n' });
    // the sandbox points the worktree's .git file elsewhere; host git keeps the real git dir
    expect((await call('bash', { command: 'echo "gitdir: /tmp/elsewhere" > .git && cat .git' })).content).toContain('gitdir: /tmp/elsewhere');
    const status = await call('git_status', {});
    expect(status.isError).toBeUndefined();
    expect(status.content.split('\n')).toEqual(['## homeport/t1', ' M src/a.ts', '?? src/new.ts']);

    const diff = await call('git_diff', {});
    expect(diff.content).toContain('-export const a = 1;\n+export const a = 2;');
    expect(diff.content).toContain('New files, not tracked yet (1):\nsrc/new.ts');
    expect((await call('git_diff', { path: 'README.md' })).content).toBe('(no changes to tracked files)');
    expect((await call('git_diff', { path: '/workspace/src' })).content).toContain('+export const a = 2;');
    expect(await call('git_diff', { path: '../repo' })).toMatchObject({ isError: true, content: expect.stringContaining('outside /workspace') });
    expect(await call('git_status', { all: true })).toMatchObject({ isError: true });
  });

  it('should keep homeportd\'s GIT_* variables away from host git', async () => {
    const other = makeWorkTree(join(root, 'other'), { 'other.txt': 'x\n' });
    process.env.GIT_DIR = join(other, '.git');
    process.env.GIT_WORK_TREE = other;
    try {
      expect((await call('git_status', {})).content).toContain('src/a.ts');
    } finally {
      delete process.env.GIT_DIR;
      delete process.env.GIT_WORK_TREE;
    }
  });

  it('should refuse host git when the git dir is inside the workspace', async () => {
    const clone = makeWorkTree(join(root, 'plain-clone'), { 'f.txt': 'f\n' });
    const unsafe = new Map(sandboxTools(sandbox, { hostGit: { worktree: clone, gitDir: join(clone, '.git') } }).map((t) => [t.name, t]));
    for (const name of ['git_status', 'git_diff']) {
      const result = await unsafe.get(name)!.run({}, ctx());
      expect(result).toMatchObject({ isError: true, content: expect.stringContaining("git directory is inside the sandbox's workspace") });
    }
  });
});
