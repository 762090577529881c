/**
 * @module
 * The sync side of a NodeHub: the node's outbox events applied to the mirror and acked,
 * commands queued while the node is offline and delivered on reconnect, and browsers'
 * live sockets (hibernatable, tag `live`), which get every change of the topics they
 * subscribed to and can resume after a reconnect from the last sequence number they saw.
 *
 * Live protocol (JSON text frames):
 *   browser → hub  {type: 'subscribe', topics: string[] ('*' = all), since?: number}
 *   hub → browser  EventEnvelope  ({v, id, nodeId, topic, type, at, seq, payload}; seq 0 = not resumable)
 *                  {type: 'reset', seq}   events since `since` are gone: reload the snapshot
 *                  {type: 'error', message}
 */
import type { EventEnvelope, OutboxEvent, RequestHead } from '@homeport/shared';
import { encode, isOutboxEventList } from '@homeport/shared';
import type { DrizzleSqliteDODatabase } from 'drizzle-orm/durable-sqlite';
import { CommandQueue, commandView, type CommandView } from './commands.ts';
import { NodeMirror, envelopeOf } from './mirror.ts';

export const LIVE_TAG = 'live';
export const COMMAND_ID_HEADER = 'x-homeport-command-id';
const MAX_LIVE_MESSAGE = 4096;
const MAX_TOPICS = 32;
const COMMAND_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_COMMAND_BODY = 64 * 1024;

interface LiveAttachment {
  topics: string[];
}

export interface HubSyncDeps {
  ctx: DurableObjectState;
  db: DrizzleSqliteDODatabase<Record<string, never>>;
  nodeId: () => Promise<string>;
  online: () => boolean;
  /** a request to the node's API through the tunnel */
  callNode: (request: Request, head: RequestHead) => Promise<Response>;
  /** a queued command got the node's answer (or failed to deliver for good) */
  onSettled?: (command: CommandView) => void;
}

export class HubSync {
  readonly mirror: NodeMirror;
  readonly commands: CommandQueue;
  #delivering = false;

  constructor(private readonly deps: HubSyncDeps) {
    this.mirror = new NodeMirror(deps.db, (fn) => deps.ctx.storage.transactionSync(fn));
    this.commands = new CommandQueue(deps.db);
  }

  /** Part of the welcome: where the node's outbox resumes. */
  welcome() {
    return { ackedSeq: this.mirror.lastSeq() };
  }

  /** node → edge events: apply what is new, ack the last, tell the browsers. Returns the events applied. */
  async onEvents(tunnel: WebSocket, message: Record<string, unknown>): Promise<OutboxEvent[]> {
    if (!isOutboxEventList(message.events)) {
      tunnel.send(encode.control({ t: 'protocol-error', message: 'events must be a list of at most 200 {seq, topic, type, at, payload}' }));
      return [];
    }
    const applied = this.mirror.apply(message.events);
    tunnel.send(encode.control({ t: 'ack', seq: this.mirror.lastSeq() }));
    const nodeId = await this.deps.nodeId();
    for (const event of applied) this.#broadcast(envelopeOf(nodeId, event));
    return applied;
  }

  /** A change that is not in the outbox (ports, shares, node online): live only. */
  async publish(topic: string, type: string, payload: unknown) {
    if (!this.deps.ctx.getWebSockets(LIVE_TAG).length) return;
    this.#broadcast({ v: 1, id: crypto.randomUUID(), nodeId: await this.deps.nodeId(), topic, type, at: Date.now(), seq: 0, payload });
  }

  #broadcast(envelope: EventEnvelope) {
    const text = JSON.stringify(envelope);
    for (const ws of this.deps.ctx.getWebSockets(LIVE_TAG)) {
      const { topics } = (ws.deserializeAttachment() as LiveAttachment | null) ?? { topics: [] };
      if (!topics.includes('*') && !topics.includes(envelope.topic)) continue;
      try {
        ws.send(text);
      } catch {
        // closing; its close handler cleans up
      }
    }
  }

  /** A browser's live socket (the Worker checked who it is). */
  acceptLive(): Response {
    const pair = new WebSocketPair();
    this.deps.ctx.acceptWebSocket(pair[1], [LIVE_TAG]);
    pair[1].serializeAttachment({ topics: [] } satisfies LiveAttachment);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  isLive(ws: WebSocket): boolean {
    return this.deps.ctx.getTags(ws).includes(LIVE_TAG);
  }

  async onLiveMessage(ws: WebSocket, message: string | ArrayBuffer) {
    const error = (text: string) => ws.send(JSON.stringify({ type: 'error', message: text }));
    if (typeof message !== 'string' || message.length > MAX_LIVE_MESSAGE) return error('send JSON text messages of at most 4 KiB');
    let parsed: { type?: unknown; topics?: unknown; since?: unknown };
    try {
      parsed = JSON.parse(message);
    } catch {
      return error('not JSON');
    }
    if (parsed.type !== 'subscribe') return error('the only message is {"type":"subscribe","topics":[…],"since":<seq>}');
    const topics = parsed.topics;
    if (!Array.isArray(topics) || topics.length > MAX_TOPICS || !topics.every((t) => typeof t === 'string' && t.length <= 64)) return error('topics must be a list of at most 32 names');
    ws.serializeAttachment({ topics } satisfies LiveAttachment);
    const { since } = parsed;
    if (since === undefined || since === null) return;
    if (!Number.isSafeInteger(since) || (since as number) < 0) return error('since must be a sequence number');
    // Resume: what the browser missed, then live (the socket is subscribed already, and
    // this object handles one message at a time, so nothing falls between).
    const nodeId = await this.deps.nodeId();
    const wanted = topics.includes('*') ? undefined : topics;
    let seq = since as number;
    for (;;) {
      const page = this.mirror.after(seq, wanted);
      if (!page.complete) return ws.send(JSON.stringify({ type: 'reset', seq: this.mirror.lastSeq() }));
      for (const event of page.events) ws.send(JSON.stringify(envelopeOf(nodeId, event)));
      if (page.events.length < 500) return;
      seq = page.events.at(-1)!.seq;
    }
  }

  // ---- commands ----

  /**
   * Queues a node API call, or runs it now when the node is online. Returns the command
   * as it stands (queued, or delivered with the node's answer).
   */
  async submit(input: { id?: unknown; method?: unknown; path?: unknown; body?: unknown }): Promise<{ status: number; body: unknown }> {
    const id = input.id === undefined ? crypto.randomUUID() : input.id;
    if (typeof id !== 'string' || !COMMAND_ID.test(id)) return { status: 400, body: { error: 'id must be 1-64 letters, digits, - or _' } };
    if (input.method !== 'POST' && input.method !== 'PUT' && input.method !== 'PATCH' && input.method !== 'DELETE') return { status: 400, body: { error: 'method must be POST, PUT, PATCH or DELETE (reads need no queue)' } };
    if (typeof input.path !== 'string' || !/^\/api\/[\x21-\x7e]{1,500}$/.test(input.path)) return { status: 400, body: { error: 'path must be a node API path like /api/repos/app/server/start' } };
    const body = input.body === undefined ? null : JSON.stringify(input.body);
    if (body !== null && body.length > MAX_COMMAND_BODY) return { status: 413, body: { error: 'the command body is larger than 64 KiB' } };
    const queued = this.commands.enqueue({ id, method: input.method, path: input.path, body });
    if ('full' in queued) return { status: 429, body: { error: 'too many commands are waiting for this node; cancel some or wait until it is back' } };
    if (this.deps.online()) await this.deliver();
    const row = this.commands.get(id)!;
    return { status: row.state === 'queued' ? 202 : 200, body: { command: commandView(row) } };
  }

  /** Delivers queued commands in order while the node is online. */
  async deliver() {
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (const row of this.commands.queued()) {
        if (!this.deps.online()) return;
        const head: RequestHead = { method: row.method, url: row.path, headers: [['content-type', 'application/json'], [COMMAND_ID_HEADER, row.id]], target: { kind: 'api' } };
        const request = new Request('https://node' + row.path, { method: row.method, body: row.body, headers: { 'content-type': 'application/json' } });
        const res = await this.deps.callNode(request, head);
        // The node is gone again (the hub's own offline/dropped pages): leave it queued.
        if (res.headers.get('x-homeport-error') && (res.status === 502 || res.status === 503 || res.status === 504)) {
          await res.body?.cancel();
          return;
        }
        const result = await res.json().catch(() => null);
        this.commands.settle(row.id, res.ok ? 'delivered' : 'failed', res.status, result);
        const settled = commandView(this.commands.get(row.id)!);
        this.deps.onSettled?.(settled);
        await this.publish('commands', 'command.settled', settled);
      }
    } finally {
      this.#delivering = false;
    }
  }
}
