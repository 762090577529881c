/**
 * @module
 * NodeHub: one Durable Object per home node. It holds the node's tunnel socket
 * (hibernatable), forwards share and API traffic through it, keeps the last known
 * picture of the node (its ports) so the dashboard renders while the node is offline,
 * and keeps the node's shares and access log in SQLite with one alarm for the earliest
 * share expiry (and log retention).
 */
import { DurableObject } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/durable-sqlite';
import migrations from '../../migrations/edge/node-hub/migrations.js';
import {
  FrameError,
  FrameType,
  PROTOCOL_VERSION,
  decodeFrame,
  encode,
  isPortInfoList,
  isValidPort,
  pages,
  type PortInfo,
  type RequestHead,
  type ShareRoute,
} from '@homeport/shared';
import { migrateOrRefuse } from './db/migrate.ts';
import { configOf, shareUrlsFrom, shareUrlsOf, type Env } from './env.ts';
import { StreamTable, pageResponse, type StreamTag } from './relay.ts';
import { commandView } from './sync/commands.ts';
import { HubSync } from './sync/hub-sync.ts';
import { counted, countedBody } from './shares/access-log.ts';
import { gate } from './shares/gate.ts';
import { OwnerAccess, ownerLinkOf } from './shares/owner-access.ts';
import { OWNER_PATH, PRUNE_EVERY_MS, PolicyError, revokesVisitors, withoutShareCookie } from './shares/policy.ts';
import { ShareService } from './shares/service.ts';
import { ShareStore } from './shares/store.ts';
import { commandNoticeOf, taskNoticesOf, tellWebhooks, type HubNotice } from './webhooks/hub-hook.ts';

/** Internal headers the Worker sets when it calls this object; stripped from visitor requests. */
export const HUB_ROUTE = 'x-homeport-route';
export const HUB_TARGET = 'x-homeport-target';
export const HUB_NODE = 'x-homeport-node';
/** share traffic: JSON ShareRequestInfo */
export const HUB_SHARE = 'x-homeport-share';
/** tunnel: the owner's user id ('' for a node no account owns yet) */
export const HUB_OWNER = 'x-homeport-owner';

/** Who owns this hub's node and whether the owner revoked it (storage key 'identity'). */
export interface HubIdentity {
  ownerId: string | null;
  revoked: boolean;
}

/** What the Worker decided about a share request before handing it to the hub. */
export interface ShareRequestInfo {
  /** the local owner of a local-mode edge, by its key */
  local: boolean;
  /** the user an `hpt_` API token on the request names (the Worker resolved it), else null */
  userId: string | null;
  form: ShareRoute['mode'];
  slug: string | null;
  secure: boolean;
}

const MAX_LOGGED_PATH = 1024;
const MAX_LOGGED_AGENT = 256;

/** A node that sent nothing for this long is taken as gone (it pings every 25 s). */
const SILENCE_LIMIT_MS = 75_000;

interface NodeRecord {
  nodeId: string;
  ports: PortInfo[];
  lastSeen: number | null;
  agent: string | null;
}

export class NodeHub extends DurableObject<Env> {
  #streams = new StreamTable(() => this.#tunnel());
  #lastFrameAt = Date.now();
  readonly #shares: ShareStore;
  #pruneScheduled = false;
  #identityCache: HubIdentity | null = null;
  readonly #owners = new OwnerAccess(this.ctx.storage);

  readonly #sync: HubSync;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const db = drizzle(ctx.storage);
    this.#shares = new ShareStore(db);
    this.#sync = new HubSync({
      ctx,
      db,
      nodeId: async () => (await this.#record()).nodeId,
      online: () => this.#tunnel() !== null,
      callNode: async (request, head) => {
        request.headers.set(HUB_NODE, (await this.#record()).nodeId);
        return this.#forward(request, head);
      },
      onSettled: (command) => this.#tellWebhooks([commandNoticeOf(command)]),
    });
    void ctx.blockConcurrencyWhile(() => migrateOrRefuse(ctx.storage, db, migrations, 'this node hub'));
  }

  #tunnel(): WebSocket | null {
    // The newest open socket: one the hub closed itself (replaced, silent, wrong protocol)
    // stays listed until the node answers the close, which a half-open node never does.
    return this.ctx.getWebSockets('tunnel').findLast((ws) => ws.readyState === WebSocket.OPEN) ?? null;
  }

  async fetch(request: Request): Promise<Response> {
    const route = request.headers.get(HUB_ROUTE);
    const identity = await this.#identity();
    if (identity.revoked) return this.#revokedAnswer(route);
    switch (route) {
      case 'tunnel':
        await this.#setIdentity({ ownerId: request.headers.get(HUB_OWNER) || null, revoked: false });
        return this.#acceptTunnel(request);
      case 'set-owner': {
        const { ownerId } = (await request.json()) as { ownerId: string | null };
        await this.#setIdentity({ ownerId: ownerId || null, revoked: false });
        return Response.json({ ok: true });
      }
      case 'revoke':
        await this.#revoke();
        return Response.json({ revoked: true });
      case 'state':
        return Response.json(await this.#state());
      case 'forward':
        return this.#forward(request, JSON.parse(request.headers.get(HUB_TARGET)!) as RequestHead);
      case 'share':
        return this.#share(request);
      case 'owner-ticket': {
        // The dashboard asks on behalf of a signed-in user; only this node's owner gets a ticket.
        const { userId, origin } = (await request.json()) as { userId: string | null; origin: string };
        if (!userId || userId !== identity.ownerId) return Response.json({ error: "only this node's owner may open its private shares this way" }, { status: 403 });
        return Response.json({ ticket: await this.#owners.ticket(userId, origin) });
      }
      case 'mirror': {
        const state = await this.#state();
        return Response.json({ online: state.online, lastSeen: state.lastSeen, ...this.#sync.mirror.snapshot() });
      }
      case 'live':
        return this.#sync.acceptLive();
      case 'commands':
        return this.#commands(request);
      case 'rpc': {
        const { method, params } = (await request.json()) as { method: string; params: Record<string, unknown> };
        const answer = await this.#rpc(method, params ?? {}, request.headers.get(HUB_NODE)!);
        return Response.json(answer.ok ? answer.result : { error: answer.error }, { status: answer.ok ? 200 : answer.status });
      }
      default:
        return new Response('unknown hub route', { status: 400 });
    }
  }

  /** POST {id?, method, path, body?} queues (or runs) a node API call; GET lists; DELETE {id} cancels. */
  async #commands(request: Request): Promise<Response> {
    if (request.method === 'GET') return Response.json({ commands: this.#sync.commands.list().map(commandView) });
    const input = (await request.json().catch(() => null)) as Record<string, unknown> | null;
    if (!input || typeof input !== 'object') return Response.json({ error: 'expected a JSON object' }, { status: 400 });
    if (request.method === 'DELETE') {
      const row = typeof input.id === 'string' ? this.#sync.commands.cancel(input.id) : null;
      if (row) this.#tellWebhooks([commandNoticeOf(commandView(row))]);
      return row ? Response.json({ command: commandView(row) }) : Response.json({ error: 'no queued command with that id' }, { status: 404 });
    }
    const { status, body } = await this.#sync.submit(input);
    return Response.json(body, { status });
  }

  /** Webhook-started tasks report back where they came from (webhooks/hub-hook.ts); never holds up the node. */
  #tellWebhooks(notices: (HubNotice | null)[]) {
    const relevant = notices.filter((n): n is HubNotice => n !== null);
    if (relevant.length) this.ctx.waitUntil(this.#record().then((r) => tellWebhooks(this.env, r.nodeId, relevant)));
  }

  async #identity(): Promise<HubIdentity> {
    this.#identityCache ??= (await this.ctx.storage.get<HubIdentity>('identity')) ?? { ownerId: null, revoked: false };
    return this.#identityCache;
  }

  async #setIdentity(identity: HubIdentity) {
    this.#identityCache = identity;
    await this.ctx.storage.put('identity', identity);
  }

  /** The owner revoked the node: the tunnel closes now, shares and the node API stop for good. */
  async #revoke() {
    const identity = await this.#identity();
    await this.#setIdentity({ ...identity, revoked: true });
    for (const ws of this.ctx.getWebSockets('tunnel')) this.#closeTunnel(ws, 4003, 'this node was revoked by its owner; pair it again');
    // Anything still open (visitor WebSockets) ends with the node.
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(1008, 'home node revoked');
      } catch {
        // already closing
      }
    }
    await this.ctx.storage.deleteAlarm();
  }

  #revokedAnswer(route: string | null): Response {
    switch (route) {
      case 'share':
        return pageResponse(pages.notFound('This home node was removed by its owner; its shares no longer answer.'));
      case 'state':
        return Response.json({ nodeId: '', ports: [], lastSeen: null, agent: null, online: false, revoked: true, shares: [] });
      case 'tunnel':
        return new Response('this node was revoked', { status: 403 });
      default:
        return Response.json({ error: 'this node was revoked by its owner' }, { status: 404 });
    }
  }

  async #record(): Promise<NodeRecord> {
    return (await this.ctx.storage.get<NodeRecord>('node')) ?? { nodeId: '', ports: [], lastSeen: null, agent: null };
  }

  async #state() {
    const record = await this.#record();
    const online = this.#tunnel() !== null;
    return { ...record, online, lastSeen: online ? Date.now() : record.lastSeen, shares: this.#shares.list().map(({ port, mode, expiresAt }) => ({ port, mode, expiresAt })) };
  }

  /** The owner's share operations, from the dashboard API or the node's own tunnel. */
  async #rpc(method: string, params: Record<string, unknown>, node: string): Promise<{ ok: true; result: unknown } | { ok: false; error: string; status: number }> {
    try {
      const port = Number(params.port);
      const changes = (method === 'share.set' || method === 'share.remove') && isValidPort(port);
      // Raw rows (expired ones too): whoever got in under the old share is judged against the new one.
      const before = changes ? this.#shares.byPort(port, -Infinity) : null;
      const result = await new ShareService(this.#shares, configOf(this.env), node).call(method, params);
      if (method === 'share.set' || method === 'share.remove') {
        if (changes && revokesVisitors(before, this.#shares.byPort(port, -Infinity))) this.#closeVisitorSockets(port, 'share revoked');
        await this.#schedule();
        await this.#publishShares(method === 'share.set' ? 'share.updated' : 'share.removed', [port]);
      }
      return { ok: true, result };
    } catch (error) {
      if (error instanceof PolicyError) return { ok: false, error: error.message, status: error.status };
      console.error('share rpc failed', error instanceof Error ? error.message : 'unknown');
      return { ok: false, error: 'internal error', status: 500 };
    }
  }

  /** One alarm: the earliest share expiry, or the next log pruning when there is a log. */
  async #schedule() {
    const expiry = this.#shares.earliestExpiry();
    const prune = this.#shares.hasLog() ? Date.now() + PRUNE_EVERY_MS : null;
    const next = expiry === null ? prune : prune === null ? expiry : Math.min(expiry, prune);
    this.#pruneScheduled = prune !== null;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  /** Revocation reaches open connections too: visitors' WebSockets on that port close now; the owner's stay. */
  #closeVisitorSockets(port: number, reason: string) {
    this.#streams.closeWebSockets((tag) => tag.port === port && !tag.owner, 1008, reason);
  }

  async alarm() {
    const expired = this.#shares.removeExpired();
    for (const port of expired) this.#closeVisitorSockets(port, 'share expired');
    this.#shares.pruneLog();
    await this.#schedule();
    if (expired.length) await this.#publishShares('share.expired', expired);
  }

  /** Browsers showing this node learn of share changes at once (live only, seq 0). */
  async #publishShares(type: string, ports: number[]) {
    const shares = this.#shares.list().map(({ port, mode, expiresAt }) => ({ port, mode, expiresAt }));
    await this.#sync.publish('shares', type, { ports, shares });
  }

  /** Share traffic: the share's policy first, then the node; every request lands in the access log. */
  async #share(request: Request): Promise<Response> {
    const info = JSON.parse(request.headers.get(HUB_SHARE)!) as ShareRequestInfo;
    const head = JSON.parse(request.headers.get(HUB_TARGET)!) as RequestHead;
    if (head.target.kind !== 'port') return new Response('not a share request', { status: 400 });
    const target = head.target;
    const share = info.form === 'slug' ? this.#shares.bySlug(info.slug ?? '') : this.#shares.byPort(target.port);
    if (info.form === 'slug') {
      // An unknown, revoked or expired link: nothing to log it against, nothing to say about it.
      if (!share) return pageResponse(pages.notFound('No share lives at this link. It may have been revoked or expired.'));
      target.port = share.port;
    }
    const url = new URL(request.url);
    const clientIp = head.clientIp ?? '';
    const { ownerId } = await this.#identity();
    const origin = head.origin ?? url.origin;
    const node = request.headers.get(HUB_NODE)!;
    // The path form puts every port on one origin: no credential a browser holds counts there.
    const pathForm = info.form === 'path';
    // The owner: an owner's API token (resolved by the Worker) or the local owner's key, both
    // bearer tokens a browser never attaches by itself; off the path form also the owner's
    // handshake cookie, minted for this very origin.
    const owner =
      (info.userId !== null && info.userId === ownerId) || info.local || (!pathForm && (await this.#owners.isOwner(request.headers.get('cookie'), ownerId, origin)));
    const handshake = url.pathname.slice(target.prefix.length) === OWNER_PATH;
    const ownUrl = shareUrlsFrom(configOf(this.env), node).subdomainUrl(target.port).slice(0, -1) + url.pathname.slice(target.prefix.length) + url.search;
    const result = handshake
      ? pathForm
        ? { pass: false as const, ok: false, response: pageResponse(pages.ownOrigin(ownUrl)) }
        : { pass: false as const, ...(await this.#owners.redeem(request, { ownerId, origin, prefix: target.prefix, secure: info.secure })) }
      : await gate(request, share, this.#shares, {
          prefix: target.prefix,
          owner,
          pathForm,
          ownUrl,
          clientIp,
          secure: info.secure,
          ownerLink: ownerLinkOf(configOf(this.env), node, origin + url.pathname + url.search),
        });
    const entry = {
      at: Date.now(),
      port: target.port,
      shareId: share?.id ?? null,
      mode: share?.mode ?? 'private',
      form: info.form,
      clientIp,
      userAgent: (request.headers.get('user-agent') ?? '').slice(0, MAX_LOGGED_AGENT),
      method: request.method,
      // The handshake's query holds a ticket: not for the log.
      path: (handshake ? url.pathname : url.pathname + url.search).slice(0, MAX_LOGGED_PATH),
      authenticated: 'ok' in result ? result.ok : result.authenticated,
    };
    let response: Response;
    let relayed = false;
    const finish = (bytes: number | null, outcome: string) => this.#log({ ...entry, status: response.status, bytes, outcome });
    if (!result.pass) response = result.response;
    else {
      // The share's own credentials stay at the edge: the app never sees our cookie or token.
      head.headers = head.headers.flatMap(([name, value]): [string, string][] => {
        if (name === 'cookie') {
          const rest = withoutShareCookie(value);
          return rest === null ? [] : [[name, rest]];
        }
        if (name === 'authorization' && result.usedToken) return [];
        return [[name, value]];
      });
      response = await this.#forward(
        request,
        head,
        (body) => {
          relayed = true;
          return countedBody(body, finish);
        },
        { port: target.port, owner },
      );
    }
    return relayed ? response : counted(response, finish);
  }

  #log(row: Parameters<ShareStore['log']>[0]) {
    try {
      this.#shares.log(row);
    } catch (error) {
      console.error('access log write failed', error instanceof Error ? error.message : 'unknown');
      return;
    }
    if (!this.#pruneScheduled) {
      this.#pruneScheduled = true;
      void this.ctx.storage.getAlarm().then((at) => (at === null ? this.ctx.storage.setAlarm(Date.now() + PRUNE_EVERY_MS) : undefined));
    }
  }

  #acceptTunnel(request: Request): Response {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('expected a WebSocket upgrade', { status: 426 });
    // A reconnecting node replaces its old, possibly half-open, socket.
    for (const old of this.ctx.getWebSockets('tunnel')) {
      this.#streams.dropAll();
      old.close(4000, 'replaced by a newer connection');
    }
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], ['tunnel']);
    pair[1].serializeAttachment({ nodeId: request.headers.get(HUB_NODE), connectedAt: Date.now() });
    this.#lastFrameAt = Date.now();
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  async #forward(request: Request, head: RequestHead, wrapBody?: (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>, tag?: StreamTag): Promise<Response> {
    const config = configOf(this.env);
    const node = request.headers.get(HUB_NODE)!;
    let tunnel = this.#tunnel();
    if (tunnel && Date.now() - this.#lastFrameAt > SILENCE_LIMIT_MS) {
      // Half-open: the node stopped pinging. Treat it as gone rather than wait for a timeout.
      this.#closeTunnel(tunnel, 4001, 'no ping from the node');
      tunnel = null;
    }
    if (!tunnel) return pageResponse(pages.nodeOffline(node));
    const options = {
      port: head.target.kind === 'port' ? head.target.port : 0,
      maxBodyBytes: config.maxBodyBytes,
      timeoutMs: config.upstreamTimeoutMs,
      wrapBody,
      tag,
    };
    if (request.headers.get('upgrade')?.toLowerCase() === 'websocket') return this.#streams.forwardWebSocket(head, options);
    return this.#streams.forward(request, head, options);
  }

  #closeTunnel(ws: WebSocket, code: number, reason: string) {
    this.#streams.dropAll();
    try {
      ws.close(code, reason);
    } catch {
      // already closing
    }
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer) {
    if (this.#sync.isLive(ws)) return this.#sync.onLiveMessage(ws, message);
    this.#lastFrameAt = Date.now();
    if (typeof message === 'string') {
      ws.send(encode.control({ t: 'protocol-error', message: 'the tunnel carries binary frames only' }));
      return;
    }
    let frame;
    try {
      frame = decodeFrame(message);
    } catch (error) {
      // A bad frame is reported and dropped; the tunnel and its other streams go on.
      const detail = error instanceof FrameError ? error.message : 'undecodable frame';
      ws.send(encode.control({ t: 'protocol-error', message: detail }));
      return;
    }
    switch (frame.type) {
      case FrameType.Ping:
        ws.send(encode.pong(frame.data));
        return;
      case FrameType.Pong:
        return;
      case FrameType.Control:
        await this.#onControl(ws, frame.message);
        return;
      case FrameType.GoAway:
        this.#closeTunnel(ws, 1000, 'node said goodbye');
        return;
      case FrameType.Open:
        ws.send(encode.reset(frame.streamId, 'refused', 'only the edge opens streams'));
        return;
      default:
        this.#streams.onFrame(frame);
    }
  }

  async #onControl(ws: WebSocket, message: Record<string, unknown> & { t: string }) {
    const record = await this.#record();
    if (message.t === 'hello') {
      const { nodeId } = ws.deserializeAttachment() as { nodeId: string };
      if (message.protocol !== PROTOCOL_VERSION) {
        ws.close(4002, `protocol ${String(message.protocol)} not supported; the edge speaks ${PROTOCOL_VERSION}`);
        return;
      }
      record.nodeId = nodeId;
      record.agent = typeof message.agent === 'string' ? message.agent.slice(0, 100) : null;
      if (isPortInfoList(message.ports)) record.ports = message.ports;
      record.lastSeen = Date.now();
      await this.ctx.storage.put('node', record);
      ws.send(encode.control({ t: 'welcome', nodeId, ...shareUrlsOf(configOf(this.env), nodeId), ...this.#sync.welcome() }));
      await this.#sync.publish('node', 'node.online', { online: true, ports: record.ports });
      // Commands queued while the node was away go out now, in order.
      void this.#sync.deliver();
    } else if (message.t === 'events') {
      const applied = await this.#sync.onEvents(ws, message);
      this.#tellWebhooks(taskNoticesOf(applied, (topic, key) => this.#sync.mirror.entity(topic, key)));
    } else if (message.t === 'rpc') {
      // The node manages its own shares only: this hub is that node's.
      const { nodeId } = ws.deserializeAttachment() as { nodeId: string };
      const id = Number(message.id);
      const answer = await this.#rpc(String(message.method), (message.params as Record<string, unknown>) ?? {}, nodeId);
      ws.send(encode.control({ t: 'rpc-result', id, ...answer }));
    } else if (message.t === 'ports' && isPortInfoList(message.ports)) {
      record.ports = message.ports;
      record.lastSeen = Date.now();
      await this.ctx.storage.put('node', record);
      await this.#sync.publish('ports', 'ports.changed', { ports: record.ports });
    }
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string) {
    if (!this.#sync.isLive(ws)) await this.#onTunnelGone(ws);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  async webSocketError(ws: WebSocket) {
    if (!this.#sync.isLive(ws)) await this.#onTunnelGone(ws);
  }

  async #onTunnelGone(ws: WebSocket) {
    // Only the current tunnel's streams die with it; a replaced socket's were dropped already.
    if (this.#tunnel() === null || this.#tunnel() === ws) this.#streams.dropAll();
    const record = await this.#record();
    record.lastSeen = Date.now();
    await this.ctx.storage.put('node', record);
    if (this.#tunnel() === null) await this.#sync.publish('node', 'node.offline', { online: false, lastSeen: record.lastSeen });
  }
}
