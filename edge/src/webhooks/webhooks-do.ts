/**
 * @module
 * Webhooks: one Durable Object (named "webhooks") holding the delivery log, GitHub repo
 * mappings and generic endpoints. The Worker checks signatures and sizes and answers the
 * sender at once; this object records every delivery, decides what it can decide locally
 * (replays, unknown repos) and does the slow part after, from its alarm: the sender's
 * permission on GitHub, the task queued on the home node through the node's command
 * queue (so an offline node gets it on reconnect), and one tracking comment on the issue,
 * updated from what the node's hub reports (`nodeChanged`) until the run has ended.
 */
import { DurableObject } from 'cloudflare:workers';
import { drizzle, type DrizzleSqliteDODatabase } from 'drizzle-orm/durable-sqlite';
import { migrate } from 'drizzle-orm/durable-sqlite/migrator';
import migrations from '../../../migrations/edge/webhooks/migrations.js';
import { configOf, type Env } from '../env.ts';
import { hubOf, hubRequest } from '../hub-client.ts';
import { directoryOf } from '../identity/directory.ts';
import { randomId } from '../identity/secrets.ts';
import { ConfigStore, endpointView, mappingOf, type EndpointView, type RepoMapping } from './config-store.ts';
import { DeliveryLog, TAKEN, isRedeliverable, summaryOf, type DeliveryRow, type DeliverySummary, type NewDelivery } from './delivery-log.ts';
import { GitHubApi, GitHubError } from './github-api.ts';
import { endpointRequestOf } from './endpoint-request.ts';
import { classify, promptOf, type Classified } from './github-events.ts';
import { WEBHOOK_COMMAND_PREFIX, WEBHOOK_SOURCE_PREFIX, type HubNotice } from './hub-hook.ts';
import type { DeliveryStatus } from './schema.ts';
import { isFinalTaskStatus, renderDenied, renderTracking, taskUrlOf, nodeUrlOf } from './tracking-comment.ts';

/** Tries of one run before it is marked failed (GitHub or the hub unreachable). */
const MAX_TRIES = 6;
const BACKOFF_MS = [2_000, 10_000, 30_000, 120_000, 600_000];
const COMMENT_MAX_TRIES = 8;

/** Who asks: a user id, and whether they may see everyone's (admins, the local owner). */
export interface Viewer {
  userId: string;
  all: boolean;
}

/** An answer for the webhook's sender. */
export interface Answer {
  httpStatus: number;
  body: {
    delivery?: string;
    /** a replay: the delivery it repeats */
    original?: string;
    status?: DeliveryStatus;
    note?: string;
    error?: string;
    node?: string | null;
    repo?: string | null;
    command?: { id: string | null };
    task?: { id: string; status: string | null } | null;
    url?: string;
  };
}

/** A request the Worker refused before this object saw a verified body. */
export type RefusedEntry = Pick<NewDelivery, 'source' | 'endpointId' | 'externalId' | 'event' | 'bytes' | 'clientIp' | 'note' | 'httpStatus'> & {
  status: Extract<DeliveryStatus, 'refused' | 'too_large' | 'invalid' | 'rate_limited'>;
  /** kept for signed but malformed bodies only */
  payload?: string | null;
  ownerId?: string | null;
};

/** What the node's POST /api/tasks answered, as the command queue recorded it. */
interface CommandView {
  id: string;
  state: 'queued' | 'delivered' | 'failed' | 'cancelled';
  status: number | null;
  result: unknown;
}

class Retry extends Error {}

const TASK_RANK: Record<string, number> = { queued: 0, running: 1 };
const rankOf = (status: string | null) => (status === null ? -1 : isFinalTaskStatus(status) ? 2 : (TASK_RANK[status] ?? 1));

function taskOf(result: unknown): { id: string; status: string | null } | null {
  const task = (result as { task?: { id?: unknown; status?: unknown } } | null)?.task;
  return task && typeof task.id === 'string' ? { id: task.id, status: typeof task.status === 'string' ? task.status : null } : null;
}

function errorOf(result: unknown, status: number | null): string {
  const error = (result as { error?: unknown } | null)?.error;
  return `the home node refused the task (${status ?? '?'}): ${typeof error === 'string' ? error : 'no reason given'}`;
}

export class Webhooks extends DurableObject<Env> {
  readonly #log: DeliveryLog;
  readonly #config: ConfigStore;
  /** runs and comment syncs in progress, one at a time per delivery */
  readonly #busy = new Map<string, Promise<void>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const db = drizzle(ctx.storage) as DrizzleSqliteDODatabase<Record<string, never>>;
    this.#log = new DeliveryLog(db);
    this.#config = new ConfigStore(db);
    void ctx.blockConcurrencyWhile(() => migrate(db, migrations));
  }

  get #dashboardUrl(): string {
    const config = configOf(this.env);
    return `${config.scheme}://${config.dashboardHost}`;
  }

  #github(): GitHubApi | null {
    return this.env.GITHUB_TOKEN ? new GitHubApi((this.env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''), this.env.GITHUB_TOKEN) : null;
  }

  // ---- receiving ----

  logRefused(entry: RefusedEntry): DeliverySummary {
    return summaryOf(this.#log.insert({ id: `dl_${randomId()}`, payload: null, ...entry }));
  }

  /**
   * A signed GitHub delivery. Refuses a replay of one that was taken (409); a redelivery
   * of one that failed runs again under the same id. Triggers for mapped repos become
   * pending work for the alarm.
   */
  async receiveGitHub(input: { externalId: string; event: string; payload: string; bytes: number; clientIp: string; classified: Classified }): Promise<Answer> {
    const id = `gh-${input.externalId}`;
    const { classified } = input;
    const existing = this.#log.get(id);
    const base = { source: 'github' as const, externalId: input.externalId, event: input.event, bytes: input.bytes, clientIp: input.clientIp };
    if (existing && TAKEN.includes(existing.status)) {
      const replay = this.#log.insert({ ...base, id: `dl_${randomId()}`, status: 'replay', httpStatus: 409, note: `a replay of delivery ${id}, which was processed already`, ownerId: existing.ownerId, repo: existing.repo, sender: existing.sender, action: existing.action });
      return { httpStatus: 409, body: { error: 'this delivery was processed already', delivery: replay.id, original: id } };
    }
    let row: Omit<NewDelivery, 'id'>;
    if (classified.kind === 'invalid') row = { ...base, status: 'invalid', httpStatus: 400, note: classified.note, payload: input.payload };
    else if (classified.kind === 'ignore')
      row = { ...base, status: 'ignored', httpStatus: classified.httpStatus, note: classified.note, repo: classified.repo, action: classified.action, sender: classified.sender, ownerId: this.#config.mapping(classified.repo ?? '')?.ownerId ?? null, payload: input.payload };
    else {
      const mapping = this.#config.mapping(classified.repo);
      const common = { ...base, repo: classified.repo, action: classified.action, sender: classified.sender, issueNumber: classified.issue.number, payload: input.payload };
      row = mapping
        ? { ...common, status: 'pending', httpStatus: 202, note: 'accepted: starting a task', ownerId: mapping.ownerId, node: mapping.node, localRepo: mapping.repo, nextTryAt: Date.now() }
        : { ...common, status: 'unknown_repo', httpStatus: 202, note: `${classified.repo} is not mapped to a home node: nothing started (map it in Homeport, then redeliver)` };
    }
    const saved = this.#store(id, existing, row);
    if (saved.status === 'pending') await this.#schedule();
    return { httpStatus: saved.httpStatus, body: { delivery: id, status: saved.status, note: saved.note } };
  }

  /** Inserts a delivery, or starts a new run of an existing row (a redelivery): the old run's command and task are forgotten. */
  #store(id: string, existing: DeliveryRow | null, row: Omit<NewDelivery, 'id'>): DeliveryRow {
    const fresh = { commandId: null, taskId: null, taskStatus: null, taskReason: null, prUrl: null, branch: null, tries: 0, nextTryAt: null, ...row };
    if (!existing) return this.#log.insert({ id, ...fresh, runs: 1 });
    // The tracking comment (commentId) stays: a new run updates the same comment.
    return this.#log.update(id, { ...fresh, runs: existing.runs + 1, commentRetryAt: null, commentTries: 0 })!;
  }

  /** A generic endpoint's config for checking a request (its sealed secret included), or null. */
  endpointForRequest(id: string) {
    return this.#config.endpoint(id);
  }

  /**
   * A verified generic request `{repo?, prompt, model?, limits?}`: refuses a replayed
   * signature, then queues the task on the endpoint's node now, so the answer carries
   * the command (and the task, when the node is online).
   */
  async receiveEndpoint(input: { endpointId: string; signature: string; expiresAt: number; payload: string; bytes: number; clientIp: string }): Promise<Answer> {
    const endpoint = this.#config.endpoint(input.endpointId);
    if (!endpoint) return { httpStatus: 404, body: { error: 'no such webhook endpoint' } };
    const base = { source: 'endpoint' as const, endpointId: endpoint.id, ownerId: endpoint.ownerId, bytes: input.bytes, clientIp: input.clientIp };
    if (!this.#config.claimSignature(`${endpoint.id}:${input.signature}`, input.expiresAt)) {
      const replay = this.#log.insert({ ...base, id: `dl_${randomId()}`, status: 'replay', httpStatus: 409, note: 'this signed request was received already (a replay)' });
      return { httpStatus: 409, body: { error: 'this request was received already: sign each request with a fresh timestamp', delivery: replay.id } };
    }
    this.#config.touchEndpoint(endpoint.id);
    const id = `dl_${randomId()}`;
    this.#log.insert({ ...base, id, status: 'pending', httpStatus: 202, note: 'accepted: starting a task', node: endpoint.node, payload: input.payload, runs: 1 });
    await this.#runExclusive(id);
    await this.#schedule();
    const row = this.#log.get(id)!;
    return { httpStatus: row.httpStatus, body: this.#endpointAnswer(row) };
  }

  #endpointAnswer(row: DeliveryRow): Answer['body'] {
    if (row.status === 'pending') return { delivery: row.id, status: row.status, note: row.note };
    if (row.status === 'queued' || row.status === 'started') {
      const url = row.taskId ? taskUrlOf(this.#dashboardUrl, row.node!, row.taskId) : nodeUrlOf(this.#dashboardUrl, row.node!);
      return { delivery: row.id, status: row.status, node: row.node, repo: row.localRepo, command: { id: row.commandId }, task: row.taskId ? { id: row.taskId, status: row.taskStatus } : null, url };
    }
    return { error: row.note, delivery: row.id, status: row.status };
  }

  // ---- the work ----

  async alarm() {
    const now = Date.now();
    for (const row of this.#log.due(now)) await this.#runExclusive(row.id);
    for (const row of this.#log.commentsDue(now)) await this.#syncComment(row.id);
    this.#config.pruneSignatures();
    await this.#schedule();
  }

  async #schedule() {
    const next = this.#log.nextDue();
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  /** Runs a pending delivery unless a run of it is under way already. */
  async #runExclusive(id: string) {
    if (this.#busy.has(`run:${id}`)) return;
    const running = this.#run(id).finally(() => this.#busy.delete(`run:${id}`));
    this.#busy.set(`run:${id}`, running);
    await running;
  }

  async #run(id: string) {
    const row = this.#log.get(id);
    if (!row || row.status !== 'pending') return;
    try {
      if (row.source === 'github') await this.#runGitHub(row);
      else await this.#runEndpoint(row);
    } catch (error) {
      const message = error instanceof Error ? error.message : 'unknown error';
      if (error instanceof Retry && row.tries + 1 < MAX_TRIES) {
        this.#log.update(id, { tries: row.tries + 1, nextTryAt: Date.now() + BACKOFF_MS[Math.min(row.tries, BACKOFF_MS.length - 1)], note: `will try again: ${message}` });
      } else {
        if (!(error instanceof Retry)) console.error('webhook delivery failed', message);
        this.#settle(id, 'failed', error instanceof Retry ? message : 'internal error while starting the task');
      }
    }
    await this.#syncComment(id);
  }

  /**
   * Ends a run (or moves it to queued/started). `answer` is the HTTP status a generic
   * endpoint's caller gets for it; GitHub was answered 202 at once, and the log keeps that.
   */
  #settle(id: string, status: DeliveryStatus, note: string, changes: Partial<Omit<DeliveryRow, 'id'>> & { answer?: number } = {}) {
    const { answer, ...rest } = changes;
    const row = this.#log.get(id);
    const httpStatus = row?.source === 'endpoint' ? (answer ?? (status === 'failed' ? 502 : 202)) : row?.httpStatus;
    this.#log.update(id, { status, note, nextTryAt: null, httpStatus, ...rest });
  }

  async #runGitHub(row: DeliveryRow) {
    let payload: unknown;
    try {
      payload = JSON.parse(row.payload!);
    } catch {
      return this.#settle(row.id, 'invalid', 'the body is not JSON');
    }
    const classified = classify(row.event ?? '', payload);
    if (classified.kind !== 'trigger') return this.#settle(row.id, classified.kind === 'invalid' ? 'invalid' : 'ignored', classified.note);
    const mapping = this.#config.mapping(classified.repo);
    if (!mapping) return this.#settle(row.id, 'unknown_repo', `${classified.repo} is not mapped to a home node: nothing started`);
    this.#log.update(row.id, { node: mapping.node, localRepo: mapping.repo, ownerId: mapping.ownerId });
    if (!(await this.#nodeIsLive(mapping.node))) return this.#settle(row.id, 'node_revoked', `the home node "${mapping.node}" was removed: nothing started (map ${classified.repo} to another node, then redeliver)`);

    const github = this.#github();
    const sender = classified.sender.toLowerCase();
    if (github && classified.via === 'comment' && sender === (await this.#tokenLogin(github))) return this.#settle(row.id, 'ignored', "Homeport's own comment");
    const allowed = mappingOf(mapping).allowedUsers.includes(sender) || (mapping.allowCollaborators && github !== null && (await this.#retrying(() => github.canWrite(classified.repo, classified.sender))));
    if (!allowed) {
      const why = github || !mapping.allowCollaborators ? `@${classified.sender} is not allowed to start tasks here` : `@${classified.sender} is not on the allow list (collaborators cannot be checked without GITHUB_TOKEN)`;
      if (mapping.onDenied === 'reply' && github) {
        await github.createComment(classified.repo, classified.issue.number, renderDenied(row.id, classified.sender)).catch((e: Error) => console.error('webhook reply failed', e.message));
      }
      return this.#settle(row.id, 'denied', `${why}: nothing started${mapping.onDenied === 'reply' && github ? ' (a polite reply was posted)' : ''}`);
    }
    await this.#submit(row, mapping.node, { repo: mapping.repo, prompt: promptOf(classified) });
  }

  async #runEndpoint(row: DeliveryRow) {
    const endpoint = row.endpointId ? this.#config.endpoint(row.endpointId) : null;
    if (!endpoint) return this.#settle(row.id, 'failed', 'the endpoint was deleted', { answer: 404 });
    const request = endpointRequestOf(row.payload!, endpoint.repo);
    if ('error' in request) return this.#settle(row.id, 'invalid', request.error, { answer: 400 });
    this.#log.update(row.id, { node: endpoint.node, localRepo: request.task.repo, repo: request.task.repo });
    if (!(await this.#nodeIsLive(endpoint.node))) return this.#settle(row.id, 'node_revoked', `the home node "${endpoint.node}" was removed: nothing started`, { answer: 410 });
    await this.#submit(row, endpoint.node, request.task);
  }

  async #nodeIsLive(node: string): Promise<boolean> {
    const info = await this.#retrying(() => directoryOf(this.env).node(node));
    return info !== null && info.revokedAt === null;
  }

  /** The GitHub login of the edge's token (lower-cased), remembered. */
  async #tokenLogin(github: GitHubApi): Promise<string> {
    const cached = await this.ctx.storage.get<string>('token-login');
    if (cached) return cached;
    const login = (await this.#retrying(() => github.login())).toLowerCase();
    await this.ctx.storage.put('token-login', login);
    return login;
  }

  /** Runs a call to GitHub or another object; failures that may pass become Retry. */
  async #retrying<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof GitHubError && !error.retry) throw new Retry(error.message);
      throw new Retry(error instanceof Error ? error.message : 'unreachable');
    }
  }

  /** Queues POST /api/tasks on the node (runs now when it is online) and records what became of it. */
  async #submit(row: DeliveryRow, node: string, task: { repo: string; prompt: string; model?: string; limits?: Record<string, unknown> }) {
    const commandId = `${WEBHOOK_COMMAND_PREFIX}${row.id}-${row.runs}`;
    this.#log.update(row.id, { commandId });
    const command = { id: commandId, method: 'POST', path: '/api/tasks', body: { ...task, source: `${WEBHOOK_SOURCE_PREFIX}${row.id}` } };
    const res = await this.#retrying(() => hubOf(this.env, node).fetch(hubRequest('https://hub/commands', 'commands', node, { method: 'POST', body: JSON.stringify(command) })));
    const answer = (await res.json().catch(() => null)) as { command?: CommandView; error?: string } | null;
    if (res.status === 404 && answer?.error?.includes('revoked')) return this.#settle(row.id, 'node_revoked', `the home node "${node}" was removed: nothing started`, { answer: 410 });
    if (!answer?.command) return this.#settle(row.id, 'failed', answer?.error ?? `the node's hub answered ${res.status}`, { answer: res.status === 429 ? 429 : 502 });
    this.#applyCommand(row.id, answer.command);
  }

  /** What the command queue says about a delivery's command: queued, delivered (task started), failed or cancelled. */
  #applyCommand(id: string, command: CommandView) {
    const row = this.#log.get(id);
    if (!row || row.commandId !== command.id) return;
    if (command.state === 'queued') {
      if (row.status === 'pending') this.#settle(id, 'queued', `queued: the home node "${row.node}" is offline; the task starts when it is back`, { answer: 202 });
    } else if (command.state === 'delivered') {
      const task = taskOf(command.result);
      const taskStatus = task && rankOf(task.status) > rankOf(row.taskStatus) ? task.status : row.taskStatus;
      this.#settle(id, 'started', `the task ${task?.id ?? ''} was started on "${row.node}"`, { taskId: row.taskId ?? task?.id ?? null, taskStatus, answer: 201 });
    } else if (command.state === 'failed') {
      this.#settle(id, 'failed', errorOf(command.result, command.status), { answer: command.status !== null && command.status < 500 ? 422 : 502 });
    } else if (command.state === 'cancelled') {
      this.#settle(id, 'cancelled', 'the queued task was cancelled before the node came back');
    }
  }

  // ---- reports from the node's hub ----

  /** A node's hub reports a webhook command settling or a webhook task changing. */
  async nodeChanged(node: string, notice: HubNotice) {
    let id: string | null = null;
    if ('command' in notice) {
      const row = this.#log.byCommand(notice.command.id);
      if (!row || row.node !== node) return;
      id = row.id;
      this.#applyCommand(id, notice.command as CommandView);
    } else {
      const { task } = notice;
      id = task.source.slice(WEBHOOK_SOURCE_PREFIX.length);
      const row = this.#log.get(id);
      if (!row || row.node !== node || (row.taskId !== null && row.taskId !== task.id)) return;
      if (rankOf(task.status) < rankOf(row.taskStatus)) return;
      this.#log.update(id, {
        taskId: task.id,
        taskStatus: task.status,
        taskReason: task.reason ?? row.taskReason,
        prUrl: task.prUrl ?? row.prUrl,
        branch: task.branch ?? row.branch,
        ...(row.status === 'pending' || row.status === 'queued' ? { status: 'started' as const, note: `the task ${task.id} was started on "${node}"`, nextTryAt: null } : {}),
      });
    }
    await this.#syncComment(id);
  }

  /**
   * The owner revoked a node: deliveries still waiting for it (queued, or started and not
   * ended) will never hear from it again, so they end now, comments included.
   */
  async nodeRevoked(node: string) {
    for (const row of this.#log.openOn(node)) {
      this.#settle(row.id, 'node_revoked', `the home node "${node}" was removed${row.status === 'started' ? ' during the run' : ' before the task could start'}`, { answer: 410 });
      await this.#syncComment(row.id);
    }
  }

  // ---- the tracking comment ----

  /** Brings the delivery's tracking comment up to date; one sync per delivery at a time. */
  async #syncComment(id: string) {
    const key = `comment:${id}`;
    const previous = this.#busy.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#writeComment(id));
    this.#busy.set(key, next);
    try {
      await next;
    } finally {
      if (this.#busy.get(key) === next) this.#busy.delete(key);
    }
  }

  async #writeComment(id: string) {
    const github = this.#github();
    // Re-read after each write: the task may have moved on while GitHub answered.
    for (let round = 0; round < 4; round++) {
      const row = this.#log.get(id);
      if (!github || !row || row.source !== 'github' || row.issueNumber === null || !row.repo || !row.node) return;
      // Only deliveries that got as far as starting something have a tracking comment.
      if (!['pending', 'queued', 'started', 'cancelled', 'failed', 'node_revoked'].includes(row.status) || (row.status === 'node_revoked' && row.commentId === null)) return;
      // A start that failed before any comment existed (e.g. GitHub down) gets one too.
      const body = renderTracking({ deliveryId: row.id, status: row.status, note: row.note, node: row.node, sender: row.sender, taskId: row.taskId, taskStatus: row.taskStatus, taskReason: row.taskReason, prUrl: row.prUrl, branch: row.branch }, this.#dashboardUrl);
      if (body === null || (row.commentId !== null && body === row.commentBody)) {
        if (row.commentRetryAt !== null) this.#log.update(id, { commentRetryAt: null, commentTries: 0 });
        return;
      }
      try {
        if (row.commentId === null) {
          const created = await github.createComment(row.repo, row.issueNumber, body);
          this.#log.update(id, { commentId: created.id, commentBody: body, commentRetryAt: null, commentTries: 0 });
        } else {
          await github.updateComment(row.repo, row.commentId, body);
          this.#log.update(id, { commentBody: body, commentRetryAt: null, commentTries: 0 });
        }
      } catch (error) {
        const tries = row.commentTries + 1;
        console.error('tracking comment update failed', error instanceof Error ? error.message : 'unknown');
        this.#log.update(id, { commentTries: tries, commentRetryAt: tries < COMMENT_MAX_TRIES ? Date.now() + BACKOFF_MS[Math.min(tries - 1, BACKOFF_MS.length - 1)] : null });
        await this.#schedule();
        return;
      }
    }
  }

  // ---- the owner's API ----

  deliveries(viewer: Viewer, options: { before?: number; limit: number }): DeliverySummary[] {
    return this.#log.list({ ownerId: viewer.all ? undefined : viewer.userId, ...options }).map(summaryOf);
  }

  delivery(viewer: Viewer, id: string): (DeliverySummary & { payload: string | null; bytes: number; clientIp: string | null; externalId: string | null; commentId: number | null }) | null {
    const row = this.#log.get(id);
    if (!row || (!viewer.all && row.ownerId !== viewer.userId)) return null;
    return { ...summaryOf(row), payload: row.payload, bytes: row.bytes, clientIp: row.clientIp, externalId: row.externalId, commentId: row.commentId };
  }

  /** Runs a stored delivery again (a new run: new command, same tracking comment). */
  async redeliver(viewer: Viewer, id: string): Promise<{ delivery: DeliverySummary } | { error: string; status: 404 | 409 }> {
    const row = this.#log.get(id);
    if (!row || (!viewer.all && row.ownerId !== viewer.userId)) return { error: 'no such delivery', status: 404 };
    if (!isRedeliverable(row)) {
      return { error: row.payload === null ? 'this delivery was refused before its body was trusted, so there is nothing to run again' : `this delivery is ${row.status}: it started a task already`, status: 409 };
    }
    const { id: _, runs: __, receivedAt: ___, updatedAt: ____, ...stored } = row;
    const updated = this.#store(id, row, { ...stored, status: 'pending', note: 'redelivered by the owner: starting a task', nextTryAt: Date.now() });
    await this.#schedule();
    return { delivery: summaryOf(updated) };
  }

  repoMappings(viewer: Viewer): RepoMapping[] {
    return this.#config.mappings(viewer.all ? undefined : viewer.userId).map(mappingOf);
  }

  repoMapping(repo: string): RepoMapping | null {
    const row = this.#config.mapping(repo);
    return row ? mappingOf(row) : null;
  }

  putRepoMapping(viewer: Viewer, input: Omit<RepoMapping, 'createdAt' | 'updatedAt' | 'ownerId'>) {
    const result = this.#config.putMapping({ ...input, ownerId: viewer.userId }, viewer.all);
    return 'takenBy' in result ? { error: `${input.repo} is mapped by another account`, status: 409 as const } : result;
  }

  deleteRepoMapping(viewer: Viewer, repo: string): boolean {
    const row = this.#config.mapping(repo);
    if (!row || (!viewer.all && row.ownerId !== viewer.userId)) return false;
    return this.#config.deleteMapping(repo);
  }

  endpoints(viewer: Viewer): EndpointView[] {
    return this.#config.endpoints(viewer.all ? undefined : viewer.userId).map(endpointView);
  }

  createEndpoint(viewer: Viewer, input: { id: string; name: string; node: string; repo: string | null; sealedSecret: string; ratePerMinute: number }): EndpointView {
    return endpointView(this.#config.createEndpoint({ ...input, ownerId: viewer.userId }));
  }

  #ownEndpoint(viewer: Viewer, id: string) {
    const row = this.#config.endpoint(id);
    return row && (viewer.all || row.ownerId === viewer.userId) ? row : null;
  }

  setEndpointSecret(viewer: Viewer, id: string, sealedSecret: string): EndpointView | null {
    if (!this.#ownEndpoint(viewer, id)) return null;
    const row = this.#config.setEndpointSecret(id, sealedSecret);
    return row && endpointView(row);
  }

  deleteEndpoint(viewer: Viewer, id: string): boolean {
    return this.#ownEndpoint(viewer, id) !== null && this.#config.deleteEndpoint(id);
  }
}

export function webhooksOf(env: Env) {
  return env.WEBHOOKS.get(env.WEBHOOKS.idFromName('webhooks'));
}
