/**
 * Agent tasks on a real homeportd (paired to the local edge), with a real Docker engine
 * and the fake Anthropic server: `homeport task` streams a run in the terminal and the
 * edge's live socket carries it; Ctrl-C cancels; a homeportd killed mid-run marks the
 * task interrupted when it starts again, with its sandbox removed and its work committed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FakeAnthropic, text, toolUse } from './fakes/anthropic.ts';
import { ensureDocker, ensureTestImage } from './helpers/docker.ts';
import { makeRepo, nodeApi, ownerRequest as request, ROOT, startTestStack, waitFor, type TestStack } from './helpers/stack.ts';

let stack: TestStack;
let anthropic: FakeAnthropic;
let docker: Docker;
let repo: string;

/** The CLI with stdin, and the whole run's output (it streams until the task ends). */
function cli(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'homenode/bin/homeport.js'), ...args], { env: { ...process.env, HOMEPORT_HOME: stack.dataDir }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(input ?? '');
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Task {
  id: string;
  status: string;
  reason: string | null;
  branch: string | null;
  commitSha: string | null;
}

const task = async (id: string) => (await nodeApi<{ task: Task }>(stack.socketPath, `/api/tasks/${id}`)).task;
const events = async (id: string) => (await nodeApi<{ events: { seq: number; type: string; payload: Record<string, unknown> }[] }>(stack.socketPath, `/api/tasks/${id}/events`)).events;
const containersOf = (id: string) => docker.listContainers({ all: true, filters: { label: [`homeport.task=${id}`] } });

beforeAll(async () => {
  docker = await ensureDocker();
  const image = await ensureTestImage(docker);
  anthropic = await FakeAnthropic.start();
  stack = await startTestStack();
  repo = makeRepo('agent-demo');
  execFileSync('sh', ['-c', 'echo "# demo" > README.md && git add -A && git -c user.email=t@e.st -c user.name=t commit -qm init'], { cwd: repo });
  await nodeApi(stack.socketPath, '/api/repos', 'POST', { path: repo });
  await nodeApi(stack.socketPath, '/api/settings', 'PUT', { anthropicBaseUrl: anthropic.url, agentImage: image });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await anthropic?.stop();
});

describe('agent tasks from the CLI', () => {
  it('should stream a task in the terminal, carry it through the edge live, and list and replay it', async () => {
    // No key yet: a clear failure, nothing run.
    const noKey = await cli(['task', 'Say hi', '--repo', 'agent-demo']);
    expect(noKey.code).toBe(1);
    expect(noKey.stdout).toMatch(/no Anthropic API key is set.*homeport anthropic-key/);
    expect(anthropic.requests).toHaveLength(0);
    // The key from stdin, never argv.
    expect((await cli(['anthropic-key', anthropic.apiKey])).code).toBe(2);
    const stored = await cli(['anthropic-key'], `${anthropic.apiKey}\n`);
    expect(stored.code).toBe(0);
    expect(stored.stdout).not.toContain(anthropic.apiKey);
    expect((await cli(['anthropic-key', '--status'])).stdout).toMatch(/an Anthropic API key is set/);

    // The edge's live socket, as the dashboard opens it (the loopback owner in local mode).
    const live: { topic: string; type: string; payload: any }[] = [];
    const socket = new WebSocket(`ws://127.0.0.1:${stack.edgePort}/api/nodes/${stack.nodeId}/live`, { headers: { host: `localhost:${stack.edgePort}`, origin: stack.dashboardUrl, ...stack.ownerHeaders } });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.on('message', (data) => live.push(JSON.parse(String(data))));
    socket.send(JSON.stringify({ type: 'subscribe', topics: ['*'] }));

    anthropic.enqueue(
      { content: [text('I will write the file now.'), toolUse('write_file', { path: 'hello.txt', content: 'hello from the agent\n' })] },
      { content: [toolUse('bash', { command: 'cat hello.txt' })] },
      { content: [text('Wrote hello.txt and checked it.')] },
    );
    const run = await cli(['task', 'Write', 'a', 'hello', 'file', '--repo', 'agent-demo', '--budget', '0.50', '--max-turns', '5', '--timeout', '2m']);
    expect(run.stderr).toMatch(/task task_\w+ on agent-demo/);
    expect(run.code).toBe(0);
    const id = /task (task_\w+): completed/.exec(run.stdout)![1];
    expect(run.stdout).toContain('I will write the file now.');
    expect(run.stdout).toContain('⚙ write hello.txt (21 bytes)');
    expect(run.stdout).toContain('⚙ $ cat hello.txt');
    expect(run.stdout).toContain('↳ exit code 0');
    expect(run.stdout).toMatch(new RegExp(`✓ committed [0-9a-f]{7} on homeport/${id} \\(1 files, \\+1 −0\\)`));
    expect(run.stdout).toContain('the repo has no GitHub remote: the branch stays on this machine');
    expect(run.stdout).toMatch(/in \/ \d+ out tokens, \$0\.\d+/);
    expect(execFileSync('git', ['show', `homeport/${id}:hello.txt`], { cwd: repo, encoding: 'utf8' })).toBe('hello from the agent\n');
    // The CLI's limits reached the task.
    expect(anthropic.requests[0].body.model).toBe('claude-sonnet-5-5');
    expect((await events(id)).find((e) => e.type === 'run.started')).toMatchObject({ payload: { limits: { maxTurns: 5, maxCostUsd: 0.5, wallClockMs: 120_000 } } });

    // Through the edge: the run's events and the task's summary, live and in the mirror.
    await waitFor('the run through the edge', async () => live.some((e) => e.topic === 'tasks' && e.payload.id === id && e.payload.status === 'completed'), 20_000);
    const runTypes = live.filter((e) => e.topic === `run:${id}`).map((e) => e.type);
    expect(runTypes).toEqual(expect.arrayContaining(['run.started', 'tool.call', 'tool.result', 'completed']));
    expect(runTypes).not.toContain('assistant.delta');
    socket.close();
    const mirror = await request(stack, `/api/nodes/${stack.nodeId}/state`, { host: `localhost:${stack.edgePort}`, headers: { origin: stack.dashboardUrl } });
    const mirrored = (JSON.parse(mirror.text).topics.tasks as { id: string; status: string; branch: string }[]).find((t) => t.id === id);
    expect(mirrored).toMatchObject({ status: 'completed', branch: `homeport/${id}` });
    expect(mirror.text).not.toContain(anthropic.apiKey);

    // The list and the replay.
    const list = await cli(['tasks', '--repo', 'agent-demo']);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+agent-demo\\s+completed`));
    const show = await cli(['task', 'show', id]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('Wrote hello.txt and checked it.');
    expect(show.stdout).toContain(`task ${id}: completed`);
  }, 120_000);

  it('should cancel the task on Ctrl-C and still commit its work', async () => {
    anthropic.enqueue({ content: [toolUse('write_file', { path: 'started.txt', content: 'started\n' })] }, { content: [toolUse('bash', { command: 'sleep 60' })] });
    const child = spawn(process.execPath, [join(ROOT, 'homenode/bin/homeport.js'), 'task', 'A slow one', '--repo', 'agent-demo'], { env: { ...process.env, HOMEPORT_HOME: stack.dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await waitFor('the sleep to start', async () => stdout.includes('⚙ $ sleep 60'), 30_000);
    const id = /task (task_\w+) on/.exec(stderr)![1];
    expect(await containersOf(id)).toHaveLength(1);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(1);
    expect(stdout).toContain('■ cancelled: cancelled by the owner');
    expect(stdout).toContain(`task ${id}: cancelled`);
    expect(await task(id)).toMatchObject({ status: 'cancelled' });
    expect(await containersOf(id)).toEqual([]);
    expect(execFileSync('git', ['show', `homeport/${id}:started.txt`], { cwd: repo, encoding: 'utf8' })).toBe('started\n');
  }, 90_000);

  it('should mark a run interrupted after homeportd was killed mid-run, remove its sandbox and keep its work', async () => {
    anthropic.enqueue({ content: [toolUse('write_file', { path: 'wip.txt', content: 'work in progress\n' })] }, { content: [toolUse('bash', { command: 'sleep 120' })] });
    const { task: created } = await nodeApi<{ task: Task }>(stack.socketPath, '/api/tasks', 'POST', { repo: 'agent-demo', prompt: 'Something long' });
    await waitFor('the long command', async () => (await events(created.id)).some((e) => e.type === 'tool.call' && e.payload.name === 'bash'), 30_000);
    expect(await containersOf(created.id)).toHaveLength(1);
    await stack.stopNode('SIGKILL');
    // The crash left the container running.
    expect(await containersOf(created.id)).toHaveLength(1);
    await stack.startNode();
    const after = await task(created.id);
    expect(after.status).toBe('interrupted');
    expect(after.reason).toMatch(/homeportd stopped while the task was running/);
    expect(execFileSync('git', ['show', `homeport/${created.id}:wip.txt`], { cwd: repo, encoding: 'utf8' })).toBe('work in progress\n');
    await waitFor('the orphan sandbox to go', async () => (await containersOf(created.id)).length === 0, 20_000);
    expect((await events(created.id)).at(-1)).toMatchObject({ type: 'status', payload: { status: 'interrupted', final: true } });
  }, 120_000);
});
