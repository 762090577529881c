/**
 * @module
 * The one typed client for the edge API that every screen uses. Errors carry the HTTP
 * status and the edge's `{error}` message, which is written for people and shown as is.
 * `optional()` turns a 404 into null for routes that may not exist on this edge yet.
 */
import type { AccessLogEntry, ShareMode, ShareView } from '@homeport/shared/control';

export type { AccessLogEntry, ShareMode, ShareView };

export type Role = 'admin' | 'user';
export type UserStatus = 'pending' | 'active' | 'rejected' | 'inactive';
export type Scope = 'read' | 'write';

export interface User {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  status: UserStatus;
  createdAt: number;
  approvedAt: number | null;
}

/** Who the edge takes us for: a signed-in user, or the loopback owner of a local-mode edge. */
export type Me = { user: User; local?: false; via: 'session' | 'token'; scopes: Scope[]; providers?: { github?: { login: string } | null } } | { user: null; local: true; role: Role; via: 'local' };

export interface TokenInfo {
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: number;
  lastUsedAt: number | null;
}

export interface NodeSummary {
  id: string;
  /** set by pairing; older edges only know the id */
  name?: string;
  online: boolean;
  lastSeen: number | null;
  agent?: string | null;
  createdAt?: number;
  shareBaseUrl: string;
  subdomainUrlTemplate?: string;
}

export interface PortRow {
  port: number;
  address?: string;
  pid: number | null;
  command: string | null;
  cwd: string | null;
  repo: { root: string; name: string } | null;
  firstSeen?: number;
  url: string;
  subdomainUrl: string;
  mode: ShareMode;
  expiresAt: number | null;
}

export interface NodePorts {
  node: string;
  online: boolean;
  lastSeen: number | null;
  ports: PortRow[];
}

export interface PairingCode {
  code: string;
  expiresAt: number;
  command: string;
}

/** The node's own /api/status (reached through the tunnel). */
export interface NodeStatus {
  node: { id: string; version: string; pid: number };
  tunnel: { state: string; edgeUrl: string | null };
  scan: { low: number; high: number; intervalMs: number; lastScanAt: number | null; ports: number };
  shareBaseUrl: string | null;
}

export type ServerState = 'starting' | 'running' | 'crashed' | 'errored' | 'stopped';

/** A supervised dev server as homeportd reports it. */
export interface ServerStatus {
  id: string;
  state: ServerState;
  pid: number | null;
  restarts: number;
  startedAt: number | null;
  exitCode: number | null;
  lastError: string | null;
  cpuPercent: number | null;
  rssBytes: number | null;
}

/** A repo's dev server as homeportd reports it (homenode/src/repos/servers.ts ServerView). */
export interface ServerView {
  repoId: string;
  name: string;
  desiredState: 'running' | 'stopped';
  /** what a start runs (the owner's command or the detected one); null when there is none */
  command: string | null;
  /** null until this homeportd started it */
  status: ServerStatus | null;
  /** scanned ports whose process runs in this repo */
  ports: number[];
}

/** A repo homeportd knows, cloned or registered (homenode/src/repos/api.ts RepoDetails). */
export interface RepoInfo {
  id: string;
  name: string;
  path: string;
  remoteUrl: string | null;
  defaultBranch: string | null;
  state: 'cloning' | 'ready';
  detected: { command: string | null; reason: string };
  git: { branch: string | null; dirty: boolean; ahead: number | null; behind: number | null; lastCommit: { hash: string; subject: string } | null } | null;
  /** null when this homeportd runs no supervisor */
  runtime: ServerView | null;
}

export interface LogLine {
  seq: number;
  at: number;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

/** One sample of the node's /api/system (homenode/src/system/stats.ts). */
export interface SystemSample {
  at: number;
  cpu: { percent: number | null; cores: number };
  memory: { totalBytes: number; availableBytes: number; usedBytes: number };
  disk: { path: string; totalBytes: number; freeBytes: number; usedBytes: number } | null;
  network: { rxBytesPerSec: number | null; txBytesPerSec: number | null; rxBytes: number; txBytes: number };
  load: { one: number; five: number; fifteen: number };
}

export interface SystemReport {
  intervalMs: number;
  latest: SystemSample | null;
  history: SystemSample[];
}

/** The node-wide dev-server settings the dashboard edits (homenode/src/node-settings.ts has them all). */
export interface NodeServerSettings {
  autoRestart: boolean;
  restoreServers: boolean;
  /** null = never */
  idleTimeoutMinutes: number | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'The edge cannot be reached. Check your connection.');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.error ?? `${res.status} ${res.statusText}`);
  return data as T;
}

/** A route this edge may not have yet: 404 means "not available", not an error. */
export async function optional<T>(request: Promise<T>): Promise<T | null> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

const get = <T>(path: string) => call<T>('GET', path);
const enc = encodeURIComponent;
const nodePath = (node: string) => `/api/nodes/${enc(node)}`;

export const api = {
  // accounts
  me: () => get<Me>('/api/auth/me'),
  providers: () => get<{ github: boolean }>('/api/auth/providers'),
  register: (email: string, password: string, name?: string) => call<{ user: User } | { status: 'pending'; message: string }>('POST', '/api/auth/register', { email, password, name: name || undefined }),
  login: (email: string, password: string) => call<{ user: User }>('POST', '/api/auth/login', { email, password }),
  logout: () => call<{ message: string }>('POST', '/api/auth/logout', {}),
  users: (status?: UserStatus) => get<{ users: User[] }>(`/api/admin/users${status ? `?status=${status}` : ''}`),
  userAction: (id: string, action: 'approve' | 'reject' | 'deactivate' | 'activate') => call<{ user: User }>('POST', `/api/admin/users/${enc(id)}/${action}`, {}),
  tokens: () => get<{ tokens: TokenInfo[] }>('/api/tokens'),
  createToken: (name: string, scopes: Scope[]) => call<TokenInfo & { token: string }>('POST', '/api/tokens', { name, scopes }),
  deleteToken: (id: string) => call<{ deleted: true }>('DELETE', `/api/tokens/${enc(id)}`),

  // nodes and pairing
  nodes: () => get<{ nodes: NodeSummary[] }>('/api/nodes'),
  pairingCode: () => call<PairingCode>('POST', '/api/pairing-codes', {}),
  renameNode: (node: string, name: string) => call<{ node: NodeSummary }>('PATCH', nodePath(node), { name }),
  revokeNode: (node: string) => call<{ revoked: true }>('DELETE', nodePath(node)),
  ports: (node: string) => get<NodePorts>(`${nodePath(node)}/ports`),

  // shares
  shares: (node: string) => get<{ shares: ShareView[] }>(`${nodePath(node)}/shares`),
  share: (node: string, port: number, body: { mode: ShareMode; password?: string; expiresIn?: string | null }) => call<ShareView>('PUT', `${nodePath(node)}/shares/${port}`, body),
  unshare: (node: string, port: number) => call<ShareView>('DELETE', `${nodePath(node)}/shares/${port}`),
  accessLog: (node: string, port: number, before: number | null, limit = 25) =>
    get<{ entries: AccessLogEntry[]; next: number | null }>(`${nodePath(node)}/shares/${port}/log?limit=${limit}${before ? `&before=${before}` : ''}`),

  // the node's own API, through its tunnel
  nodeStatus: (node: string) => get<NodeStatus>(`${nodePath(node)}/api/status`),
  nodeSettings: (node: string) => get<{ settings: NodeServerSettings & Record<string, unknown> }>(`${nodePath(node)}/api/settings`),
  setNodeSettings: (node: string, patch: Partial<NodeServerSettings>) => call<{ settings: NodeServerSettings & Record<string, unknown> }>('PUT', `${nodePath(node)}/api/settings`, patch),
  system: (node: string) => get<SystemReport>(`${nodePath(node)}/api/system`),
  repos: (node: string) => get<{ repos: RepoInfo[] }>(`${nodePath(node)}/api/repos`),
  server: (node: string, repo: string, action: 'start' | 'stop' | 'restart') => call<{ status: ServerStatus }>('POST', `${nodePath(node)}/api/repos/${enc(repo)}/server/${action}`, {}),
  /** the server's log as Server-Sent Events (`log` events, id = line seq; EventSource resumes with Last-Event-ID) */
  serverLogUrl: (node: string, repo: string, tail = 200) => `${nodePath(node)}/api/repos/${enc(repo)}/server/logs?follow=1&tail=${tail}`,
};
