/**
 * @module
 * The task manager: agent tasks from creation to their commit. A task waits `queued`
 * until fewer than `agentConcurrency` tasks run; its run gets a git worktree on the
 * branch `homeport/<task id>`, a Docker sandbox over it, and the agent loop with the
 * sandbox's tools and the owner's Anthropic key. Whatever the ending (completed, a
 * limit, an error, a cancel) homeportd then commits the work on the host, measures the
 * diff and, for a GitHub remote with a token, pushes the branch and opens a pull
 * request. The sandbox is always destroyed. Follow-ups continue the conversation on
 * the same worktree; a homeportd restart marks runs it did not finish `interrupted`.
 *
 * Every event (the loop's and the manager's `status` events) goes through TaskEvents:
 * redacted, stored, then published. The last event of a run is a `status` event with
 * `final: true` and the task's end state.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type Docker from 'dockerode';
import { desc, eq, inArray } from 'drizzle-orm';
import { recordChange, schema, type Store, type Tx } from '../db/index.ts';
import { DockerUnavailable, requireEngine } from '../docker/engine.ts';
import type { NodeSettings } from '../node-settings.ts';
import { RepoError, type RepoRow, type RepoService } from '../repos/service.ts';
import type { SecretName, SecretStore } from '../vault.ts';
import { runAgent, type AgentEvent, type AgentTool, type RunResult } from './loop.ts';
import { makeRedactor } from './redact.ts';
import { Sandbox } from './sandbox.ts';
import { redactDeep, TaskEvents, type TaskEvent } from './task-events.ts';
import { parseCreate, parseLimits, parsePrompt, TaskError, type TaskLimits } from './task-input.ts';
import { sandboxTools } from './tools.ts';
import { commitMessage, commitWork, publishWork } from './task-ending.ts';
import { diffPatch, diffStat, findWorktree, openWorktree, type DiffStat, type Worktree } from './worktree.ts';

export type TaskRow = typeof schema.tasks.$inferSelect;
export type TaskStatus = TaskRow['status'];

/** A task as the API, the CLI and the edge's mirror see it (no conversation, secrets redacted). */
export interface TaskView {
  id: string;
  repo: { id: string; name: string };
  prompt: string;
  model: string;
  limits: TaskLimits;
  status: TaskStatus;
  reason: string | null;
  source: string;
  branch: string | null;
  baseBranch: string | null;
  baseSha: string | null;
  commitSha: string | null;
  prUrl: string | null;
  diffStat: Omit<DiffStat, 'changes'> | null;
  usage: { inputTokens: number; outputTokens: number };
  costUsd: number;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

/** Where a run ended, as a task status. */
const STATUS_OF: Record<RunResult['outcome'], TaskStatus> = { completed: 'completed', limit: 'stopped', error: 'failed', cancelled: 'cancelled' };
const ACTIVE: TaskStatus[] = ['queued', 'running'];
/** prompts in the outbox copy of a task are cut here (the full one: GET /api/tasks/:id) */
const OUTBOX_PROMPT_CHARS = 1000;
/** how long POST /cancel waits for the run to wind down before answering */
const CANCEL_WAIT_MS = 20_000;
/** how long homeportd's stop waits for running tasks to commit */
const CLOSE_WAIT_MS = 2500;

export const SYSTEM_PROMPT = [
  'You are a coding agent working on a git repository checked out at /workspace, inside a sandbox (a Docker container).',
  'Use the tools to read, change and run things there. Work in /workspace only; the sandbox may have no network.',
  'Do not commit, push or create branches: Homeport commits everything in /workspace to the task branch when you finish.',
  'When you are done, say briefly what you changed and how you checked it.',
].join('\n');

export interface TaskManagerOptions {
  store: Store;
  repos: RepoService;
  settings: NodeSettings;
  secrets: SecretStore;
  dataDir: string;
  /** the Docker engine (dockerClient() in homeportd) */
  docker: Docker;
  /** extra tools for every run (the enabled MCP servers' tools) */
  tools?: () => AgentTool[] | Promise<AgentTool[]>;
  log?: (message: string) => void;
}

interface Active {
  abort: AbortController;
  done: Promise<void>;
  /** the final event is being written: the task counts as ended from here */
  ending: boolean;
}

interface Queued {
  taskId: string;
  prompt: string;
}

function newTaskId(): string {
  return `task_${randomBytes(6).toString('hex')}`;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : String(error);
}

export class TaskManager {
  readonly events: TaskEvents;
  readonly #queue: Queued[] = [];
  readonly #active = new Map<string, Active>();
  readonly #log: (message: string) => void;
  #closing = false;
  #pumping = false;
  #pumpAgain = false;

  constructor(readonly options: TaskManagerOptions) {
    this.events = new TaskEvents(options.store);
    const log = options.log ?? (() => {});
    // Reasons quote errors, and errors can quote secrets.
    this.#log = (message) => log(this.events.redact(message));
    // A repo goes with its tasks (the rows cascade): not while one of them runs.
    const before = options.repos.beforeRemove;
    options.repos.beforeRemove = async (repo) => {
      const rows = await this.#store.db.select({ id: schema.tasks.id }).from(schema.tasks).where(eq(schema.tasks.repoId, repo.id));
      const busy = rows.find((r) => this.isActive(r.id));
      if (busy) throw new RepoError(409, `task ${busy.id} is running on ${repo.name}: cancel it (\`homeport task cancel ${busy.id}\`) before removing the repo`);
      await before?.(repo);
      if (rows.length) await this.#store.write(async (tx) => {
        for (const r of rows) await recordChange(tx, 'tasks', 'task.removed', { id: r.id, reason: `its repo ${repo.name} was removed` });
      });
    };
  }

  get #store() {
    return this.options.store;
  }

  // ---------------------------------------------------------------- reading

  /** The redacted view of a row (the prompt and reason could quote a secret). */
  #view(row: TaskRow, repo: { id: string; name: string }): TaskView {
    const stat = row.diffStat ? (JSON.parse(row.diffStat) as DiffStat) : null;
    return redactDeep(
      {
        id: row.id,
        repo,
        prompt: row.prompt,
        model: row.model,
        limits: JSON.parse(row.limits) as TaskLimits,
        status: row.status,
        reason: row.reason,
        source: row.source,
        branch: row.branch,
        baseBranch: row.baseBranch,
        baseSha: row.baseSha,
        commitSha: row.commitSha,
        prUrl: row.prUrl,
        diffStat: stat ? { files: stat.files, insertions: stat.insertions, deletions: stat.deletions } : null,
        usage: { inputTokens: row.inputTokens, outputTokens: row.outputTokens },
        costUsd: row.costMicroUsd / 1e6,
        createdAt: row.createdAt,
        startedAt: row.startedAt,
        endedAt: row.endedAt,
      },
      this.events.redact,
    );
  }

  async #rowWithRepo(db: Pick<Tx, 'select'>, id: string): Promise<{ row: TaskRow; repo: { id: string; name: string } } | null> {
    const [found] = await db
      .select({ row: schema.tasks, repoName: schema.repos.name })
      .from(schema.tasks)
      .innerJoin(schema.repos, eq(schema.repos.id, schema.tasks.repoId))
      .where(eq(schema.tasks.id, id));
    return found ? { row: found.row, repo: { id: found.row.repoId, name: found.repoName } } : null;
  }

  async #find(id: string): Promise<{ row: TaskRow; repo: { id: string; name: string } }> {
    const found = await this.#rowWithRepo(this.#store.db, id);
    if (!found) throw new TaskError(404, `no task "${id}" (\`homeport tasks\` lists them)`);
    return found;
  }

  async get(id: string): Promise<TaskView> {
    const { row, repo } = await this.#find(id);
    return this.#view(row, repo);
  }

  /** Newest first; `repo` (name or id) narrows to one repo. */
  async list(options: { repo?: string; limit?: number } = {}): Promise<TaskView[]> {
    const repoId = options.repo ? (await this.options.repos.find(options.repo).catch(() => null))?.id : undefined;
    if (options.repo && !repoId) throw new TaskError(404, `no repo "${options.repo}" (\`homeport repos\` lists them)`);
    const rows = await this.#store.db
      .select({ row: schema.tasks, repoName: schema.repos.name })
      .from(schema.tasks)
      .innerJoin(schema.repos, eq(schema.repos.id, schema.tasks.repoId))
      .where(repoId ? eq(schema.tasks.repoId, repoId) : undefined)
      .orderBy(desc(schema.tasks.createdAt))
      .limit(Math.min(options.limit ?? 200, 1000));
    return rows.map((r) => this.#view(r.row, { id: r.row.repoId, name: r.repoName }));
  }

  /** Whether the task waits or runs right now. */
  isActive(id: string): boolean {
    const active = this.#active.get(id);
    return (!!active && !active.ending) || this.#queue.some((q) => q.taskId === id);
  }

  // ---------------------------------------------------------------- changing

  /** Updates the row and sends its new view to the outbox (topic `tasks`), inside `tx`. */
  async #update(tx: Tx, id: string, patch: Partial<TaskRow>, type = 'task.updated'): Promise<void> {
    if (Object.keys(patch).length) await tx.update(schema.tasks).set(patch).where(eq(schema.tasks.id, id));
    const found = await this.#rowWithRepo(tx, id);
    if (!found) return;
    const view = this.#view(found.row, found.repo);
    await recordChange(tx, 'tasks', type, { ...view, prompt: view.prompt.length > OUTBOX_PROMPT_CHARS ? `${view.prompt.slice(0, OUTBOX_PROMPT_CHARS)}…` : view.prompt });
  }

  /** Appends an event, changing the row in the same transaction. */
  #event(id: string, type: string, payload: unknown, patch?: Partial<TaskRow>): Promise<TaskEvent> {
    return this.events.append(id, type, payload, patch ? (tx) => this.#update(tx, id, patch) : undefined);
  }

  /** Hides every secret in the vault (Anthropic key, GitHub token, MCP secrets) from events and views. */
  async refreshSecrets(): Promise<void> {
    const rows = await this.#store.db.select({ name: schema.secrets.name }).from(schema.secrets);
    const values: string[] = [];
    for (const { name } of rows) {
      const value = await this.options.secrets.get(name as SecretName).catch(() => null);
      if (value) values.push(value);
    }
    this.events.redact = makeRedactor(values);
  }

  async create(body: Record<string, unknown>): Promise<TaskView> {
    const input = parseCreate(body, await this.options.settings.get('agentModel'));
    const repo = await this.#repo(input.repo);
    // A secret pasted into a prompt would reach the web app, the commit and the pull request.
    await this.refreshSecrets();
    input.prompt = this.events.redact(input.prompt);
    const id = newTaskId();
    const now = Date.now();
    await this.events.append(id, 'status', { status: 'queued' }, async (tx) => {
      await tx.insert(schema.tasks).values({ id, repoId: repo.id, prompt: input.prompt, model: input.model, limits: JSON.stringify(input.limits), status: 'queued', source: input.source, createdAt: now });
      await this.#update(tx, id, {}, 'task.created');
    });
    this.#queue.push({ taskId: id, prompt: input.prompt });
    this.#log(`task ${id} on ${repo.name}: queued`);
    void this.#pump();
    return this.get(id);
  }

  async #repo(ref: string): Promise<RepoRow> {
    const repo = await this.options.repos.find(ref).catch(() => null);
    if (!repo) throw new TaskError(404, `no repo "${ref}" (\`homeport repos\` lists them)`);
    if (repo.state !== 'ready') throw new TaskError(409, `${repo.name} is still being cloned; start the task when the clone is done`);
    return repo;
  }

  /** A follow-up prompt for a task that has ended: the same conversation, worktree and branch. */
  async followUp(id: string, rawPrompt: unknown): Promise<TaskView> {
    await this.refreshSecrets();
    const prompt = this.events.redact(parsePrompt(rawPrompt));
    const { row } = await this.#find(id);
    if (this.isActive(id) || ACTIVE.includes(row.status)) throw new TaskError(409, `task ${id} is still ${row.status}: wait for it to end, or cancel it, before sending a follow-up`);
    await this.#repo(row.repoId);
    await this.#event(id, 'status', { status: 'queued', followUp: true }, { status: 'queued', reason: null, endedAt: null });
    this.#queue.push({ taskId: id, prompt });
    void this.#pump();
    return this.get(id);
  }

  /** Cancels a queued or running task; answers once it has ended (or after CANCEL_WAIT_MS). */
  async cancel(id: string, reason = 'cancelled by the owner'): Promise<TaskView> {
    const { row } = await this.#find(id);
    const queuedAt = this.#queue.findIndex((q) => q.taskId === id);
    if (queuedAt !== -1) {
      this.#queue.splice(queuedAt, 1);
      await this.#event(id, 'cancelled', { reason });
      await this.#event(id, 'status', { status: 'cancelled', final: true, reason }, { status: 'cancelled', reason, endedAt: Date.now() });
      return this.get(id);
    }
    const active = this.#active.get(id);
    if (!active) throw new TaskError(409, `task ${id} is not running (it is ${row.status}); only queued or running tasks can be cancelled`);
    active.abort.abort(reason);
    await Promise.race([active.done, new Promise((r) => setTimeout(r, CANCEL_WAIT_MS).unref())]);
    return this.get(id);
  }

  // ---------------------------------------------------------------- running

  /** Starts queued runs while fewer than `agentConcurrency` run. */
  async #pump(): Promise<void> {
    // Asked again while a pump is reading the setting: that pump looks once more.
    this.#pumpAgain = true;
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#pumpAgain) {
        this.#pumpAgain = false;
        await this.#startWhileFree();
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #startWhileFree(): Promise<void> {
    for (;;) {
      const limit = await this.options.settings.get('agentConcurrency');
      if (this.#closing || !this.#queue.length || this.#active.size >= limit) return;
      const next = this.#queue.shift()!;
      const entry: Active = { abort: new AbortController(), done: Promise.resolve(), ending: false };
      this.#active.set(next.taskId, entry);
      entry.done = this.#run(next, entry)
        .catch((error) => this.#log(`task ${next.taskId}: ${messageOf(error)}`))
        .finally(() => {
          // A follow-up sent right after the final event may already run under this id.
          if (this.#active.get(next.taskId) === entry) this.#active.delete(next.taskId);
          void this.#pump();
        });
    }
  }

  async #run({ taskId, prompt }: Queued, entry: Active): Promise<void> {
    const { abort } = entry;
    const { row, repo: repoRef } = await this.#find(taskId);
    const limits = parseLimits(JSON.parse(row.limits));
    const before = { inputTokens: row.inputTokens, outputTokens: row.outputTokens, costMicroUsd: row.costMicroUsd };
    let result: Omit<RunResult, 'messages'> & { messages: RunResult['messages'] | null } = { outcome: 'error', reason: null, messages: null, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 } };
    let ended = false;
    let tree: Worktree | null = null;
    let sandbox: Sandbox | null = null;
    const emit = async (event: AgentEvent) => {
      const { type, ...payload } = event;
      if (type === 'completed' || type === 'error' || type === 'cancelled' || (type === 'status' && event.status === 'limit')) ended = true;
      const patch =
        type === 'usage'
          ? { inputTokens: before.inputTokens + event.totalInputTokens, outputTokens: before.outputTokens + event.totalOutputTokens, costMicroUsd: before.costMicroUsd + Math.round(event.totalCostUsd * 1e6) }
          : undefined;
      await this.#event(taskId, type, payload, patch);
    };
    this.#log(`task ${taskId} on ${repoRef.name}: running`);
    try {
      await this.refreshSecrets();
      await this.#event(taskId, 'status', { status: 'running' }, { status: 'running', reason: null, startedAt: row.startedAt ?? Date.now() });
      const key = await this.options.secrets.get('anthropic-key');
      if (!key) throw new TaskError(409, 'no Anthropic API key is set on this node: set it with `homeport anthropic-key` (or PUT /api/secrets/anthropic-key)');
      await requireEngine(this.options.docker);
      abort.signal.throwIfAborted();
      const repo = await this.#repo(row.repoId);
      const branch = row.branch ?? `homeport/${taskId}`;
      const opened = await openWorktree({ repoPath: repo.path, path: row.worktreePath ?? join(this.options.dataDir, 'worktrees', taskId), branch });
      tree = opened;
      if (opened.created)
        await this.#event(taskId, 'status', { status: 'worktree', branch, baseBranch: opened.baseBranch, baseSha: opened.baseSha }, { branch, worktreePath: opened.path, baseBranch: opened.baseBranch, baseSha: opened.baseSha });
      abort.signal.throwIfAborted();
      const settings = await this.options.settings.all();
      sandbox = await Sandbox.create({ docker: this.options.docker, image: settings.agentImage, taskId, owner: this.options.dataDir, workspace: opened.path, network: settings.agentNetwork });
      abort.signal.throwIfAborted();
      const tools = [...sandboxTools(sandbox, { bashTimeoutMs: limits.bashTimeoutMs, bashIdleMs: limits.bashIdleMs, hostGit: { worktree: opened.path, gitDir: opened.gitDir } }), ...((await this.options.tools?.()) ?? [])];
      const client = new Anthropic({ apiKey: key, baseURL: settings.anthropicBaseUrl.replace(/\/+$/, '') });
      result = await runAgent({
        client,
        model: row.model,
        system: SYSTEM_PROMPT,
        history: JSON.parse(row.conversation),
        prompt,
        tools,
        limits: { maxTurns: limits.maxTurns, maxTokens: limits.maxTokens, maxCostUsd: limits.maxCostUsd, wallClockMs: limits.wallClockMs },
        signal: abort.signal,
        emit,
        redact: this.events.redact,
      });
    } catch (error) {
      const cancelled = abort.signal.aborted;
      const reason = cancelled ? messageOf(abort.signal.reason) : error instanceof DockerUnavailable ? error.message : messageOf(error);
      result = { ...result, outcome: cancelled ? 'cancelled' : 'error', reason };
      if (!ended) await emit(cancelled ? { type: 'cancelled', reason } : { type: 'error', message: reason }).catch((e) => this.#log(`task ${taskId}: ${messageOf(e)}`));
    } finally {
      if (sandbox)
        await sandbox.destroy().catch(async (error) => {
          this.#log(`task ${taskId}: removing its sandbox failed: ${messageOf(error)}`);
          await this.#event(taskId, 'status', { status: 'sandbox-not-removed', detail: messageOf(error) }).catch(() => {});
        });
    }
    await this.#finish(taskId, prompt, tree, result, entry);
  }

  /**
   * The end of a run: commit the work (whatever the outcome), measure the diff, push and
   * open the pull request when the repo is on GitHub and a token is set; then the final
   * state. homeportd stopping ends a run as `interrupted` without pushing.
   */
  async #finish(taskId: string, prompt: string, tree: Worktree | null, result: Omit<RunResult, 'messages'> & { messages: RunResult['messages'] | null }, entry: Active): Promise<void> {
    const interrupted = this.#closing;
    const status: TaskStatus = interrupted ? 'interrupted' : STATUS_OF[result.outcome];
    const reason = interrupted ? 'homeportd stopped during the run' : result.reason;
    const patch: Partial<TaskRow> = {};
    const event = (type: string, payload: unknown, change?: Partial<TaskRow>) => this.#event(taskId, type, payload, change);
    if (tree) {
      Object.assign(patch, await commitWork({ tree, row: (await this.#find(taskId)).row, event }, commitMessage(taskId, prompt, status, reason)));
      if (patch.commitSha && !interrupted) {
        const { row } = await this.#find(taskId);
        const repo = await this.options.repos.find(row.repoId);
        const publish = { tree, row, event, repo, settings: await this.options.settings.all(), auth: await this.options.repos.gitAuth(), prompt, status, reason, redact: this.events.redact };
        Object.assign(patch, await publishWork(publish));
      }
    }
    if (result.messages) patch.conversation = JSON.stringify(redactDeep(result.messages, this.events.redact));
    const { row } = await this.#find(taskId);
    const final = { ...patch, status, reason, endedAt: Date.now() };
    entry.ending = true;
    await this.#event(
      taskId,
      'status',
      { status, final: true, reason, branch: row.branch, commitSha: final.commitSha ?? row.commitSha, prUrl: final.prUrl ?? row.prUrl, usage: { inputTokens: row.inputTokens, outputTokens: row.outputTokens }, costUsd: row.costMicroUsd / 1e6 },
      final,
    );
    this.#log(`task ${taskId}: ${status}${reason ? ` (${reason})` : ''}`);
  }

  // ---------------------------------------------------------------- reading work

  /** The task's diff: from its base to its commit, or to the work tree while it runs. */
  async diff(id: string): Promise<{ base: string | null; head: string | null; live: boolean; stat: DiffStat | null; patch: string; truncated: boolean; untracked: string[] }> {
    const { row } = await this.#find(id);
    const empty = { base: row.baseSha, head: row.commitSha, live: false, stat: null, patch: '', truncated: false, untracked: [] as string[] };
    if (!row.baseSha || !row.worktreePath || !row.branch) return empty;
    const repo = await this.options.repos.find(row.repoId);
    const tree = await findWorktree({ repoPath: repo.path, path: row.worktreePath, branch: row.branch });
    if (!tree) throw new TaskError(409, `task ${id}'s worktree ${row.worktreePath} is gone; its commits are on the branch ${row.branch}`);
    const live = this.#active.has(id) || !row.commitSha;
    const head = live ? null : row.commitSha;
    const { patch, truncated, untracked } = await diffPatch(tree, row.baseSha, head);
    const stat = head ? await diffStat(tree, row.baseSha, head) : null;
    return redactDeep({ base: row.baseSha, head, live, stat, patch, truncated, untracked }, this.events.redact);
  }

  // ---------------------------------------------------------------- start and stop

  /**
   * At homeportd's start: tasks a crash left `queued` or `running` are marked
   * `interrupted`, their work so far committed. (removeOrphans() then clears their sandboxes.)
   */
  async recover(): Promise<string[]> {
    await this.refreshSecrets();
    const stale = await this.#store.db.select().from(schema.tasks).where(inArray(schema.tasks.status, ACTIVE));
    const interrupted: string[] = [];
    for (const row of stale) {
      if (this.isActive(row.id)) continue;
      const reason = `homeportd stopped while the task was ${row.status}; send a follow-up to go on`;
      let tree: Worktree | null = null;
      if (row.worktreePath && row.branch) {
        const repo = await this.options.repos.find(row.repoId).catch(() => null);
        tree = repo ? await findWorktree({ repoPath: repo.path, path: row.worktreePath, branch: row.branch }).catch(() => null) : null;
      }
      const event = (type: string, payload: unknown, change?: Partial<TaskRow>) => this.#event(row.id, type, payload, change);
      const patch = tree ? await commitWork({ tree, row, event }, commitMessage(row.id, row.prompt, 'interrupted', 'homeportd stopped during the run')) : {};
      await this.#event(row.id, 'status', { status: 'interrupted', final: true, reason, commitSha: patch.commitSha ?? row.commitSha }, { ...patch, status: 'interrupted', reason, endedAt: Date.now() });
      interrupted.push(row.id);
    }
    if (interrupted.length) this.#log(`tasks marked interrupted: ${interrupted.join(', ')}`);
    return interrupted;
  }

  /** Removes sandbox containers no running task owns (a crashed homeportd's); no engine: nothing to do. */
  async removeOrphans(): Promise<string[]> {
    try {
      // Only this homeportd's (its data dir labels them): another one may share the engine.
      const removed = await Sandbox.removeOrphans(this.options.docker, this.#active.keys(), { owner: this.options.dataDir });
      if (removed.length) this.#log(`orphan sandboxes removed: ${removed.join(', ')}`);
      return removed;
    } catch (error) {
      if (!(error instanceof DockerUnavailable)) throw error;
      this.#log(`agent sandboxes: ${error.message}`);
      return [];
    }
  }

  /** homeportd is stopping: running tasks end `interrupted` with their work committed; queued ones too. */
  async close(): Promise<void> {
    this.#closing = true;
    const running = [...this.#active.values()];
    for (const run of running) run.abort.abort('homeportd stopped');
    await Promise.race([Promise.all(running.map((r) => r.done)), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())]);
    for (const queued of this.#queue.splice(0)) {
      const reason = 'homeportd stopped before the task ran; send a follow-up to run it';
      await this.#event(queued.taskId, 'status', { status: 'interrupted', final: true, reason }, { status: 'interrupted', reason, endedAt: Date.now() }).catch(() => {});
    }
  }
}
