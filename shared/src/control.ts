/**
 * @module
 * Control messages carried on stream 0 of the tunnel (FrameType.Control), and the
 * event envelope used everywhere events travel.
 */

/** A listening port as the node's scanner sees it. */
export interface PortInfo {
  port: number;
  /** the address it listens on (0.0.0.0, 127.0.0.1, ::, ::1) */
  address: string;
  pid: number | null;
  command: string | null;
  cwd: string | null;
  /** the git repository the process runs in, if any; `id` and the registered name when it is a registered repo */
  repo: { root: string; name: string; id?: string } | null;
  firstSeen: number;
}

/** node → edge, first frame after connecting. */
export interface HelloMessage {
  t: 'hello';
  nodeId: string;
  agent: string;
  protocol: number;
  ports: PortInfo[];
}

/** edge → node, the answer to hello: where this node's shares are reachable. */
export interface WelcomeMessage {
  t: 'welcome';
  nodeId: string;
  /** path form base: `${shareBaseUrl}/<port>/` */
  shareBaseUrl: string;
  /** subdomain form, with {port} to fill in */
  subdomainUrlTemplate: string;
  dashboardUrl: string;
  /** the last outbox sequence number the edge has applied: the node resumes after it */
  ackedSeq?: number;
}

/** One row of the node's outbox: a change to its state (repos, servers, settings…). */
export interface OutboxEvent {
  seq: number;
  topic: string;
  type: string;
  at: number;
  payload: unknown;
}

/** node → edge: outbox rows in sequence order; the edge applies them once and acks. */
export interface EventsMessage {
  t: 'events';
  events: OutboxEvent[];
}

/** edge → node: everything up to `seq` is applied (the node may forget it). */
export interface AckMessage {
  t: 'ack';
  seq: number;
}

/** At most this many outbox rows per events message. */
export const EVENTS_BATCH = 200;

export function isOutboxEventList(v: unknown): v is OutboxEvent[] {
  return (
    Array.isArray(v) &&
    v.length <= EVENTS_BATCH &&
    v.every(
      (e) =>
        e &&
        typeof e === 'object' &&
        Number.isSafeInteger((e as OutboxEvent).seq) &&
        (e as OutboxEvent).seq > 0 &&
        typeof (e as OutboxEvent).topic === 'string' &&
        (e as OutboxEvent).topic.length <= 64 &&
        typeof (e as OutboxEvent).type === 'string' &&
        (e as OutboxEvent).type.length <= 64 &&
        Number.isFinite((e as OutboxEvent).at),
    )
  );
}

/** node → edge: the full list of listening ports, sent whenever it changes. */
export interface PortsMessage {
  t: 'ports';
  ports: PortInfo[];
}

/** node → edge: a call on the node's own hub (its shares and their log). */
export interface RpcMessage {
  t: 'rpc';
  id: number;
  method: RpcMethod;
  params: Record<string, unknown>;
}

/** edge → node: the answer to one RpcMessage. `status` mirrors the HTTP status of the same call on the owner API. */
export type RpcResultMessage =
  | { t: 'rpc-result'; id: number; ok: true; result: unknown }
  | { t: 'rpc-result'; id: number; ok: false; error: string; status: number };

export const RPC_METHODS = ['share.set', 'share.remove', 'share.list', 'share.log'] as const;
export type RpcMethod = (typeof RPC_METHODS)[number];

export type ControlMessage = HelloMessage | WelcomeMessage | PortsMessage | RpcMessage | RpcResultMessage;

export type ShareMode = 'private' | 'password' | 'public';

/** A port's share as the owner sees it (the API, the CLI, the dashboard). */
export interface ShareView {
  port: number;
  mode: ShareMode;
  /**
   * the link URL (`<link>-<node>.<share host>/`, its own origin), null for a private port
   * and for a node id too long for a link host (share-route.ts)
   */
  linkUrl: string | null;
  /** the URL to give first: the subdomain form `<port>-<node>.<share host>/` */
  url: string;
  /** the same as url (kept for older clients) */
  subdomainUrl: string;
  /** the path form `<share host>/<port>/`: one origin for all ports, public shares only */
  pathUrl: string;
  expiresAt: number | null;
  createdAt: number | null;
  /** only in the answer that created it: the bearer token for scripts (password shares) */
  accessToken?: string;
}

/** share.set's parameters; the owner API's PUT body plus the port. */
export interface ShareSetParams {
  port: number;
  mode: ShareMode;
  password?: string;
  /** "30m", "24h", "7d"; absent or null = no expiry */
  expiresIn?: string | null;
}

/** One row of a share's access log. */
export interface AccessLogEntry {
  id: number;
  at: number;
  port: number;
  mode: string;
  form: 'path' | 'subdomain' | 'slug';
  clientIp: string;
  userAgent: string;
  method: string;
  path: string;
  status: number;
  bytes: number | null;
  authenticated: boolean;
  /**
   * How the answer ended: 'complete' (sent in full), 'aborted: <why>' ('visitor
   * disconnected', 'node disconnected', the dev server broke off…) with `bytes` sent until
   * then, or 'websocket' (an upgrade; the socket's end is not logged). Null in older rows.
   */
  outcome: string | null;
}

/** The one event envelope (DESIGN.md, Events). */
export interface EventEnvelope<P = unknown> {
  v: 1;
  id: string;
  nodeId: string;
  topic: string;
  type: string;
  at: number;
  seq: number;
  payload: P;
}

export function isPortInfoList(v: unknown): v is PortInfo[] {
  return (
    Array.isArray(v) &&
    v.length <= 10000 &&
    v.every((p) => p && typeof p === 'object' && Number.isInteger((p as PortInfo).port) && typeof (p as PortInfo).address === 'string')
  );
}
