/**
 * The task manager with real parts: a real Docker engine (busybox test image), real git
 * (a work tree whose origin is a bare repo served over smart HTTP that demands the
 * GitHub token), the real SDK against the fake Anthropic server, octokit against the
 * fake GitHub, a real libSQL file, and the Hono routes.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeAnthropic, text, toolUse } from '../../../test/fakes/anthropic.ts';
import { FakeGitHub, type FakeRequest } from '../../../test/fakes/github.ts';
import { ensureDocker, ensureTestImage } from '../../../test/helpers/docker.ts';
import { openStore, schema, type Store } from '../db/index.ts';
import { TASK_LABEL } from '../docker/engine.ts';
import { NodeSettings } from '../node-settings.ts';
import { git, makeWorkTree, startGitHttpServer, tempDir } from '../repos/git-fixtures.ts';
import { RepoService } from '../repos/service.ts';
import { SecretStore, Vault } from '../vault.ts';
import { agentsApi } from './api.ts';
import type { TaskEvent } from './task-events.ts';
import { TaskManager, type TaskView } from './tasks.ts';

let docker: Docker;
let image: string;
beforeAll(async () => {
  docker = await ensureDocker();
  image = await ensureTestImage(docker);
}, 120_000);

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Setup {
  dir: string;
  store: Store;
  repos: RepoService;
  tasks: TaskManager;
  anthropic: FakeAnthropic;
  github: FakeGitHub;
  pulls: FakeRequest[];
  token: string;
  repoPath: string;
  bare: string;
  gitServer: Awaited<ReturnType<typeof startGitHttpServer>>;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; text: string }>;
  waitForEnd(id: string, timeoutMs?: number): Promise<TaskView>;
  events(id: string): Promise<TaskEvent[]>;
  containersOf(id: string): Promise<Docker.ContainerInfo[]>;
}

async function setup(options: { anthropicKey?: string | null; concurrency?: number; docker?: Docker } = {}): Promise<Setup> {
  const dir = tempDir('homeport-tasks-');
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(dir);
  cleanup.push(() => store.close());
  const settings = new NodeSettings(store);
  const secrets = new SecretStore(store, Vault.fromDataDir(dir));
  const repos = new RepoService({ store, secrets, settings, reposDir: join(dir, 'repos') });
  await repos.init();

  // GitHub: the REST fake (pull requests) and a git server that wants the same token.
  const github = await FakeGitHub.start();
  cleanup.push(() => github.stop());
  github.addUser({ id: 7, login: 'ada', emails: [] });
  const token = github.issueToken('ada');
  const pulls: FakeRequest[] = [];
  github.route('POST', '/repos/:owner/:repo/pulls', (r) => {
    pulls.push(r);
    if (!r.auth) return { status: 401, body: { message: 'Requires authentication' } };
    return { status: 201, body: { number: pulls.length, html_url: `https://github.example/${r.params.owner}/${r.params.repo}/pull/${pulls.length}`, head: { ref: r.body.head }, base: { ref: r.body.base } } };
  });
  const gitRoot = join(dir, 'remote');
  const bare = join(gitRoot, 'acme', 'shop.git');
  mkdirSync(join(gitRoot, 'acme'), { recursive: true });
  const gitServer = await startGitHttpServer(gitRoot, token);
  cleanup.push(() => gitServer.close());

  const repoPath = makeWorkTree(join(dir, 'work', 'shop'), { 'greeting.txt': 'hello\n', 'README.md': '# shop\n' });
  git(join(dir, 'work'), 'clone', '-q', '--bare', repoPath, bare);
  git(bare, 'config', 'http.receivepack', 'true');
  git(repoPath, 'remote', 'add', 'origin', `${gitServer.url}acme/shop.git`);
  await repos.register({ path: repoPath });

  const anthropic = await FakeAnthropic.start();
  cleanup.push(() => anthropic.stop());
  if (options.anthropicKey !== null) await secrets.set('anthropic-key', options.anthropicKey ?? anthropic.apiKey);
  await secrets.set('github-token', token);
  await settings.update({ anthropicBaseUrl: anthropic.url, githubBaseUrl: gitServer.url, githubApiUrl: github.url, agentImage: image, agentConcurrency: options.concurrency ?? 2 });

  const tasks = new TaskManager({ store, repos, settings, secrets, dataDir: dir, docker: options.docker ?? docker });
  cleanup.push(() => tasks.close());
  const app = agentsApi({ tasks, secrets, log: (m) => console.error(m) });
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(path, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      // SSE or empty
    }
    return { status: res.status, json, text };
  };
  const waitForEnd = async (id: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const task = await tasks.get(id);
      if (!['queued', 'running'].includes(task.status) && !tasks.isActive(id)) return task;
      if (Date.now() > deadline) throw new Error(`task ${id} still ${task.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const containersOf = (id: string) => docker.listContainers({ all: true, filters: { label: [`${TASK_LABEL}=${id}`] } });
  return { dir, store, repos, tasks, anthropic, github, pulls, token, repoPath, bare, gitServer, request, waitForEnd, events: (id) => tasks.events.list(id), containersOf };
}

/** Resolves with the first event of `id` that `match` accepts (stored ones included). */
async function eventOf(tasks: TaskManager, id: string, match: (e: TaskEvent) => boolean, timeoutMs = 30_000): Promise<TaskEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching event of ${id} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = tasks.events.subscribe(id, (e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
    void tasks.events.list(id).then((stored) => {
      const found = stored.find(match);
      if (!found) return;
      clearTimeout(timer);
      off();
      resolve(found);
    });
  });
}

/** Reads an SSE response until `stop(event)` (then cancels the body) or its end. */
async function readSse(res: Response, stop: (e: TaskEvent) => boolean = () => false): Promise<{ events: TaskEvent[]; ids: string[]; ended: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: TaskEvent[] = [];
  const ids: string[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { events, ids, ended: true };
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
      const id = block.split('\n').find((l) => l.startsWith('id:'))?.slice(3).trim();
      if (!data) continue;
      const event = JSON.parse(data) as TaskEvent;
      events.push(event);
      if (id) ids.push(id);
      if (stop(event)) {
        await reader.cancel();
        return { events, ids, ended: false };
      }
    }
  }
}

const types = (events: TaskEvent[]) => events.map((e) => e.type);
const statusesOf = (events: TaskEvent[]) => events.filter((e) => e.type === 'status').map((e) => (e.payload as { status: string }).status);

describe('TaskManager', () => {
  it('should read, edit and run in the sandbox, commit on homeport/<id>, push with the token and open a pull request', async () => {
    const s = await setup();
    s.anthropic.enqueue(
      { content: [text('Let me read it.'), toolUse('read_file', { path: 'greeting.txt' })] },
      (r) => ({ content: [toolUse('write_file', { path: 'greeting.txt', content: r.toolResults[0].content.replace('hello', 'hello, agent') })] }),
      { content: [toolUse('bash', { command: 'cat greeting.txt > copy.txt && wc -l < copy.txt' })] },
      (r) => ({ content: [text(`Done: the greeting is updated (${r.toolResults[0].content.trim().split('\n').pop()} line).`)] }),
    );
    const created = await s.request('POST', '/api/tasks', { repo: 'shop', prompt: 'Make the greeting friendlier\n\nAnd keep a copy.', source: 'cli' });
    expect(created.status).toBe(201);
    const id = created.json.task.id as string;
    expect(created.json.task).toMatchObject({ repo: { name: 'shop' }, status: expect.stringMatching(/queued|running/), model: 'claude-sonnet-5-5', source: 'cli', limits: { maxTurns: 50, maxCostUsd: 2 } });

    const task = await s.waitForEnd(id);
    expect(task).toMatchObject({ status: 'completed', reason: null, branch: `homeport/${id}`, baseBranch: 'main', diffStat: { files: 2, insertions: 2, deletions: 1 } });
    expect(task.usage.inputTokens).toBeGreaterThan(0);
    expect(task.costUsd).toBeGreaterThan(0);

    // The commit: on the task branch, by the agent, with the edit and the command's output.
    const sha = git(s.repoPath, 'rev-parse', `homeport/${id}`).trim();
    expect(task.commitSha).toBe(sha);
    expect(git(s.repoPath, 'log', '-1', '--format=%an%n%s%n%b', sha)).toMatch(new RegExp(`^Homeport agent\\nMake the greeting friendlier\\n[\\s\\S]*Homeport task ${id}: completed`));
    expect(git(s.repoPath, 'show', `${sha}:greeting.txt`)).toBe('hello, agent\n');
    expect(git(s.repoPath, 'show', `${sha}:copy.txt`)).toBe('hello, agent\n');
    expect(git(s.repoPath, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('main');
    // The model saw the tool results.
    expect(s.anthropic.requests[1].toolResults[0].content).toBe('hello\n');
    expect(s.anthropic.requests[3].toolResults[0].content).toMatch(/^exit code 0\n\n1\n?$/);

    // Pushed over HTTP with the token as a header, never in a command line.
    expect(git(s.bare, 'rev-parse', `refs/heads/homeport/${id}`).trim()).toBe(sha);
    expect(s.gitServer.authorizations).toContain(`Basic ${Buffer.from(`x-access-token:${s.token}`).toString('base64')}`);
    expect(s.gitServer.gitCommandLines.join('\n')).not.toContain(s.token);

    // The pull request: head, base, title from the prompt.
    expect(s.pulls).toHaveLength(1);
    expect(s.pulls[0].params).toEqual({ owner: 'acme', repo: 'shop' });
    expect(s.pulls[0].body).toMatchObject({ head: `homeport/${id}`, base: 'main', title: 'Make the greeting friendlier' });
    expect(s.pulls[0].body.body).toContain(`\`${id}\``);
    expect(task.prUrl).toBe('https://github.example/acme/shop/pull/1');

    // The transcript, in order, each event once, ending with the final status.
    const events = await s.events(id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(types(events).filter((t) => t !== 'assistant.delta' && t !== 'usage' && t !== 'status')).toEqual(['run.started', 'user.message', 'assistant.text', 'tool.call', 'tool.result', 'tool.call', 'tool.result', 'tool.call', 'tool.result', 'assistant.text', 'completed']);
    expect(statusesOf(events)).toEqual(['queued', 'running', 'worktree', 'committed', 'pushed', 'pull-request', 'completed']);
    expect(events.at(-1)!.payload).toMatchObject({ status: 'completed', final: true, commitSha: sha, prUrl: task.prUrl });
    // The sandbox is gone.
    expect(await s.containersOf(id)).toEqual([]);

    // The API: the task, the list per repo, events as JSON after a seq, the diff.
    expect((await s.request('GET', `/api/tasks/${id}`)).json.task).toMatchObject({ id, status: 'completed', prUrl: task.prUrl });
    expect((await s.request('GET', '/api/tasks?repo=shop')).json.tasks.map((t: TaskView) => t.id)).toEqual([id]);
    const after = await s.request('GET', `/api/tasks/${id}/events?after=${events.length - 2}`);
    expect(after.json).toMatchObject({ last: events.length, active: false });
    expect(after.json.events.map((e: TaskEvent) => e.seq)).toEqual([events.length - 1, events.length]);
    const diff = await s.request('GET', `/api/tasks/${id}/diff`);
    expect(diff.json).toMatchObject({ live: false, head: sha, stat: { files: 2 } });
    expect(diff.json.patch).toContain('+hello, agent');

    // The outbox carries the summary (topic tasks) and the run (topic run:<id>) without deltas.
    const outbox = await s.store.db.select().from(schema.outbox);
    const summaries = outbox.filter((r) => r.topic === 'tasks').map((r) => JSON.parse(r.payload));
    expect(summaries.at(-1)).toMatchObject({ id, repo: { name: 'shop' }, status: 'completed', branch: `homeport/${id}`, prUrl: task.prUrl, usage: task.usage, costUsd: task.costUsd });
    expect(summaries.at(-1).repoId).toBeUndefined(); // the edge mirror keys entities by repoId first
    const run = outbox.filter((r) => r.topic === `run:${id}`);
    expect(run.map((r) => r.type)).toEqual(types(events).filter((t) => t !== 'assistant.delta'));
    expect(types(events)).toContain('assistant.delta');

    // A follow-up: the same conversation, the same branch; the pull request is not opened again.
    s.anthropic.enqueue({ content: [toolUse('bash', { command: 'echo more >> copy.txt' })] }, { content: [text('Added a line.')] });
    const followUp = await s.request('POST', `/api/tasks/${id}/messages`, { prompt: 'Add a line to the copy' });
    expect(followUp.status).toBe(202);
    const again = await s.waitForEnd(id);
    expect(again.status).toBe('completed');
    const history = s.anthropic.requests[4].body.messages;
    expect(history.length).toBeGreaterThan(8);
    expect(JSON.stringify(history[0])).toContain('Make the greeting friendlier');
    expect(JSON.stringify(history.at(-1))).toContain('Add a line to the copy');
    expect(git(s.repoPath, 'rev-list', '--count', `main..homeport/${id}`).trim()).toBe('2');
    expect(git(s.repoPath, 'show', `homeport/${id}:copy.txt`)).toBe('hello, agent\nmore\n');
    expect(git(s.bare, 'rev-parse', `refs/heads/homeport/${id}`).trim()).toBe(again.commitSha);
    expect(s.pulls).toHaveLength(1);
    expect(again.prUrl).toBe(task.prUrl);
    expect(again.usage.inputTokens).toBeGreaterThan(task.usage.inputTokens);
  }, 120_000);

  it('should cancel mid-run: the tool is stopped, the container removed, the work so far committed', async () => {
    const s = await setup();
    s.anthropic.enqueue({ content: [toolUse('write_file', { path: 'partial.txt', content: 'half done\n' })] }, { content: [text('Now the long part.'), toolUse('bash', { command: 'sleep 60' })] });
    const { json } = await s.request('POST', '/api/tasks', { repo: 'shop', prompt: 'A long job' });
    const id = json.task.id as string;
    await eventOf(s.tasks, id, (e) => e.type === 'tool.call' && (e.payload as { name: string }).name === 'bash');
    expect(await s.containersOf(id)).toHaveLength(1);
    // The answer comes once the task has ended (its status says so).
    const cancelled = await s.request('POST', `/api/tasks/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.task).toMatchObject({ status: 'cancelled', reason: 'cancelled by the owner' });
    expect(await s.containersOf(id)).toEqual([]);
    const events = await s.events(id);
    expect(types(events)).toContain('cancelled');
    expect(events.find((e) => e.type === 'tool.result' && (e.payload as { name: string }).name === 'bash')?.payload).toMatchObject({ isError: true });
    expect(git(s.repoPath, 'show', `homeport/${id}:partial.txt`)).toBe('half done\n');
    expect(git(s.repoPath, 'log', '-1', '--format=%b', `homeport/${id}`)).toContain(`Homeport task ${id}: cancelled (cancelled by the owner)`);
    // Cancelled work is still pushed, and the PR opened: nothing is thrown away.
    expect(cancelled.json.task.prUrl).toMatch(/\/pull\/1$/);
    // Cancelling it again: it is not running.
    const twice = await s.request('POST', `/api/tasks/${id}/cancel`);
    expect(twice.status).toBe(409);
    expect(twice.json.error).toMatch(/is not running/);
  }, 90_000);

  it('should stop a runaway loop at its cost budget and still commit', async () => {
    const s = await setup();
    // Each turn reports 100k input tokens ($0.20 at Sonnet 5.5's list price) and asks for one more command.
    s.anthropic.otherwise({ content: [toolUse('bash', { command: 'echo again >> log.txt' })], usage: { input_tokens: 100_000, output_tokens: 100 } });
    const { json } = await s.request('POST', '/api/tasks', { repo: 'shop', prompt: 'Loop forever', limits: { maxCostUsd: 0.3 } });
    const task = await s.waitForEnd(json.task.id);
    expect(task.status).toBe('stopped');
    expect(task.reason).toMatch(/cost budget of \$0\.30 reached/);
    expect(s.anthropic.requests).toHaveLength(2);
    expect(task.costUsd).toBeGreaterThanOrEqual(0.4);
    expect(git(s.repoPath, 'show', `homeport/${task.id}:log.txt`)).toBe('again\nagain\n');
    expect(statusesOf(await s.events(task.id))).toContain('limit');
  }, 90_000);

  it('should replay then continue live after an SSE reconnect with Last-Event-ID, with no gaps or duplicates', async () => {
    const s = await setup();
    s.anthropic.enqueue(
      { content: [text('First I wait a little.'), toolUse('bash', { command: 'sleep 1.5; echo waited' })] },
      { content: [text('Then I write something down.'), toolUse('write_file', { path: 'notes.txt', content: 'notes\n' })], chunkDelayMs: 20 },
      { content: [text('All done, nothing else to do here.')], chunkDelayMs: 20 },
    );
    const { json } = await s.request('POST', '/api/tasks', { repo: 'shop', prompt: 'Take notes' });
    const id = json.task.id as string;
    const app = agentsApi({ tasks: s.tasks, secrets: null as never });
    const first = await readSse(await app.request(`/api/tasks/${id}/events`, { headers: { accept: 'text/event-stream' } }), (e) => e.type === 'tool.call');
    expect(first.ended).toBe(false);
    const lastId = first.ids.at(-1)!;
    const storedAtReload = (await s.events(id)).length;
    expect(s.tasks.isActive(id)).toBe(true);
    // The browser reloads while the command runs.
    const second = await readSse(await app.request(`/api/tasks/${id}/events`, { headers: { accept: 'text/event-stream', 'last-event-id': lastId } }));
    expect(second.ended).toBe(true);
    const seen = [...first.events, ...second.events];
    const stored = await s.events(id);
    expect(seen.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    expect(seen.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
    expect([...first.ids, ...second.ids]).toEqual(stored.map((e) => String(e.seq)));
    expect(seen.at(-1)!.payload).toMatchObject({ final: true, status: 'completed' });
    // The second stream got events that did not exist yet when it connected (live, not only replay).
    expect(second.events.at(-1)!.seq).toBeGreaterThan(storedAtReload);
    expect(second.events.some((e) => e.type === 'tool.result')).toBe(true);
    // ?after= resumes too, and a finished task's stream replays and ends.
    const tail = await readSse(await app.request(`/api/tasks/${id}/events?after=${stored.length - 1}`, { headers: { accept: 'text/event-stream' } }));
    expect(tail).toMatchObject({ ended: true, ids: [String(stored.length)] });
  }, 90_000);

  it('should queue a second task while concurrency 1 is taken, then run it', async () => {
    const s = await setup({ concurrency: 1 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    s.anthropic.enqueue(async () => (await gate, { content: [text('first done')] }), { content: [text('second done')] });
    const a = (await s.request('POST', '/api/tasks', { repo: 'shop', prompt: 'first' })).json.task.id as string;
    await eventOf(s.tasks, a, (e) => e.type === 'run.started');
    const b = (await s.request('POST', '/api/tasks', { repo: 'shop', prompt: 'second' })).json.task.id as string;
    await new Promise((r) => setTimeout(r, 300));
    expect((await s.request('GET', `/api/tasks/${b}`)).json.task.status).toBe('queued');
    expect((await s.request('GET', `/api/tasks/${a}`)).json.task.status).toBe('running');
    expect(types(await s.events(b))).toEqual(['status']);
    // Its repo cannot go while a task runs on it.
    await expect(s.repos.remove('shop')).rejects.toThrow(new RegExp(`task ${a} is running on shop: cancel it`));
    release();
    const [ta, tb] = [await s.waitForEnd(a), await s.waitForEnd(b)];
    expect([ta.status, tb.status]).toEqual(['completed', 'completed']);
    expect(tb.startedAt!).toBeGreaterThanOrEqual(ta.endedAt!);
    // Nothing changed in either: no commit beyond the base, and nothing pushed.
    expect(ta.commitSha).toBe(ta.baseSha);
    expect(s.pulls).toHaveLength(0);
    // Once they have ended it can; the edge's mirror is told the tasks went with it.
    await s.repos.remove('shop');
    expect(await s.tasks.list()).toEqual([]);
    const removed = (await s.store.db.select().from(schema.outbox)).filter((r) => r.type === 'task.removed').map((r) => JSON.parse(r.payload).id);
    expect(removed.sort()).toEqual([a, b].sort());
  }, 90_000);

  it('should keep the Anthropic key and the GitHub token out of events, the outbox and every API answer', async () => {
    // A key without a recognisable shape: only the vault-based redaction can find it.
    const key = `custom-key-${Date.now()}-0123456789abcdef`;
    const s = await setup({ anthropicKey: key });
    // The fake accepts its own key only; the task's key must be the one it checks.
    await s.anthropic.stop();
    const fake = await FakeAnthropic.start({ apiKey: key });
    cleanup.push(() => fake.stop());
    await new NodeSettings(s.store).update({ anthropicBaseUrl: fake.url });
    const header = Buffer.from(`x-access-token:${s.token}`).toString('base64');
    fake.enqueue(
      { content: [text(`Your key is ${key} and the token ${s.token}.`), toolUse('bash', { command: `echo ${key}; echo ${s.token}; echo ${header}` })] },
      { content: [toolUse('write_file', { path: 'leak.txt', content: `${key}\n${s.token}\n` })] },
      { content: [text('done')] },
    );
    const created = await s.request('POST', '/api/tasks', { repo: 'shop', prompt: `use ${key} please` });
    const id = created.json.task.id as string;
    const task = await s.waitForEnd(id);
    expect(task.status).toBe('completed');
    // The secrets were really in play: the model saw the bash output only redacted.
    expect(fake.requests[1].toolResults[0].content).toContain('[redacted]');

    const secrets = [key, s.token, header];
    const rows = [
      ...(await s.store.db.select().from(schema.taskEvents)).map((r) => r.payload),
      ...(await s.store.db.select().from(schema.outbox)).map((r) => r.payload),
      ...(await s.store.db.select().from(schema.tasks)).map((r) => JSON.stringify({ ...r })),
    ];
    const answers = [
      created.text,
      (await s.request('GET', `/api/tasks/${id}`)).text,
      (await s.request('GET', '/api/tasks')).text,
      (await s.request('GET', `/api/tasks/${id}/events`)).text,
      (await s.request('GET', `/api/tasks/${id}/events`, undefined, { accept: 'text/event-stream' })).text,
      (await s.request('GET', `/api/tasks/${id}/diff`)).text,
      (await s.request('GET', '/api/secrets/anthropic-key')).text,
    ];
    for (const secret of secrets) {
      for (const row of rows) expect(row).not.toContain(secret);
      for (const answer of answers) expect(answer).not.toContain(secret);
    }
    expect(answers[4]).toContain('[redacted]');
    expect(JSON.parse(answers[6])).toMatchObject({ set: true });
  }, 90_000);

  it('should fail at once, running nothing, without a key or without a Docker engine', async () => {
    const noKey = await setup({ anthropicKey: null });
    const { json } = await noKey.request('POST', '/api/tasks', { repo: 'shop', prompt: 'anything' });
    const failed = await noKey.waitForEnd(json.task.id);
    expect(failed).toMatchObject({ status: 'failed', branch: null, commitSha: null });
    expect(failed.reason).toMatch(/no Anthropic API key is set.*homeport anthropic-key/);
    expect(noKey.anthropic.requests).toHaveLength(0);
    expect(await noKey.containersOf(json.task.id)).toEqual([]);
    expect(types(await noKey.events(json.task.id))).toEqual(['status', 'status', 'error', 'status']);

    const noEngine = await setup({ docker: new Docker({ socketPath: '/nonexistent/docker.sock' }) });
    const other = (await noEngine.request('POST', '/api/tasks', { repo: 'shop', prompt: 'anything' })).json.task.id as string;
    const down = await noEngine.waitForEnd(other);
    expect(down.status).toBe('failed');
    expect(down.reason).toMatch(/no Docker engine is reachable.*never runs agent tools on the host/);
    // Nothing ran: no model call, no worktree, no branch.
    expect(noEngine.anthropic.requests).toHaveLength(0);
    expect(down.branch).toBeNull();
    expect(git(noEngine.repoPath, 'branch', '--list', 'homeport/*').trim()).toBe('');
  }, 90_000);

  it('should mark runs a crash left behind as interrupted, commit their work and remove their sandbox', async () => {
    const s = await setup();
    s.anthropic.enqueue({ content: [toolUse('write_file', { path: 'wip.txt', content: 'work in progress\n' })] }, { content: [toolUse('bash', { command: 'sleep 60' })] });
    // The "crashed" homeportd is still in this process: once its sandbox is gone, it hangs on the model.
    s.anthropic.otherwise(() => new Promise(() => {}));
    const id = (await s.request('POST', '/api/tasks', { repo: 'shop', prompt: 'Something long' })).json.task.id as string;
    await eventOf(s.tasks, id, (e) => e.type === 'tool.call' && (e.payload as { name: string }).name === 'bash');
    expect(await s.containersOf(id)).toHaveLength(1);
    // A second homeportd on the same state (the first "crashed": it is simply never asked again).
    const settings = new NodeSettings(s.store);
    const secrets = new SecretStore(s.store, Vault.fromDataDir(s.dir));
    const repos = new RepoService({ store: s.store, secrets, settings, reposDir: join(s.dir, 'repos') });
    await repos.init();
    const restarted = new TaskManager({ store: s.store, repos, settings, secrets, dataDir: s.dir, docker });
    expect(await restarted.recover()).toEqual([id]);
    expect(await restarted.removeOrphans()).toEqual([`homeport-task-${id}`]);
    expect(await s.containersOf(id)).toEqual([]);
    const task = await restarted.get(id);
    expect(task).toMatchObject({ status: 'interrupted' });
    expect(task.reason).toMatch(/homeportd stopped while the task was running/);
    expect(git(s.repoPath, 'show', `homeport/${id}:wip.txt`)).toBe('work in progress\n');
    expect((await restarted.events.list(id)).find((e) => e.type === 'status' && (e.payload as { final?: boolean }).final)?.payload).toMatchObject({ status: 'interrupted', final: true });
  }, 90_000);

  it('should answer bad requests with clear 4xx errors and keep the key write-only', async () => {
    const s = await setup();
    const cases: [unknown, number, RegExp][] = [
      [{ repo: 'nope', prompt: 'x' }, 404, /no repo "nope"/],
      [{ repo: 'shop', prompt: '   ' }, 400, /the prompt is empty/],
      [{ prompt: 'x' }, 400, /say which repo/],
      [{ repo: 'shop', prompt: 'x', limits: { maxTurns: 0 } }, 400, /limits\.maxTurns must be a whole number of model calls from 1 to 1000/],
      [{ repo: 'shop', prompt: 'x', limits: { budget: 1 } }, 400, /unknown limit "budget"/],
      [{ repo: 'shop', prompt: 'x', model: 'no spaces allowed' }, 400, /is not a model name/],
      [{ repo: 'shop', prompt: 'x', colour: 'red' }, 400, /unknown field "colour"/],
    ];
    for (const [body, status, message] of cases) {
      const res = await s.request('POST', '/api/tasks', body);
      expect([res.status, res.json.error]).toEqual([status, expect.stringMatching(message)]);
    }
    expect((await s.request('POST', '/api/tasks', 'not an object')).status).toBe(400);
    expect((await s.tasks.list()).length).toBe(0);
    expect((await s.request('GET', '/api/tasks/task_nope')).status).toBe(404);
    expect((await s.request('GET', '/api/tasks/task_nope/events')).status).toBe(404);
    expect((await s.request('GET', '/api/tasks?repo=nope')).status).toBe(404);

    s.anthropic.enqueue({ content: [text('hi')] });
    const id = (await s.request('POST', '/api/tasks', { repo: 'shop', prompt: 'hello' })).json.task.id as string;
    await s.waitForEnd(id);
    expect((await s.request('GET', `/api/tasks/${id}/events?after=-1`)).status).toBe(400);
    expect((await s.request('POST', `/api/tasks/${id}/messages`, { prompt: '' })).json.error).toMatch(/the prompt is empty/);
    expect((await s.request('POST', `/api/tasks/${id}/cancel`)).status).toBe(409);

    const key = 'sk-ant-api03-written-once-0123456789';
    expect((await s.request('PUT', '/api/secrets/anthropic-key', { key: 'has space' })).status).toBe(400);
    const put = await s.request('PUT', '/api/secrets/anthropic-key', { key });
    expect(put.json).toMatchObject({ set: true });
    expect(put.text).not.toContain(key);
    expect((await s.request('GET', '/api/secrets/anthropic-key')).text).not.toContain(key);
    expect((await s.request('DELETE', '/api/secrets/anthropic-key')).json).toMatchObject({ set: false });
  }, 90_000);
});
