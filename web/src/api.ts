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
  /** the port's own origin (subdomain form): the URL to give first */
  url: string;
  subdomainUrl: string;
  /** the path form: one origin for all ports, public shares only */
  pathUrl?: string;
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

/** Agent tasks (homenode/src/agents/tasks.ts TaskView). */
export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'stopped' | 'interrupted';

export interface TaskLimits {
  maxTurns: number;
  maxTokens: number;
  maxCostUsd: number;
  wallClockMs: number;
  bashTimeoutMs: number;
  bashIdleMs: number;
}

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
  commitSha: string | null;
  prUrl: string | null;
  diffStat: { files: number; insertions: number; deletions: number } | null;
  usage: { inputTokens: number; outputTokens: number };
  costUsd: number;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

/** One stored event of a task (homenode/src/agents/task-events.ts); `seq` counts from 1 per task. */
export interface TaskEvent {
  seq: number;
  type: string;
  at: number;
  payload: Record<string, unknown>;
}

export interface TaskDiff {
  base: string | null;
  head: string | null;
  /** the work tree while the task runs */
  live: boolean;
  patch: string;
  truncated: boolean;
  untracked: string[];
}

export interface NewTask {
  repo: string;
  prompt: string;
  model?: string;
  limits?: Partial<TaskLimits>;
}

/** A write-only secret: whether it is set, never its value. */
export interface SecretInfo {
  set: boolean;
  updatedAt: number | null;
}

/** Services (homenode/src/services/manager.ts ServiceView and the catalog route). */
export interface ServiceTemplateView {
  id: string;
  title: string;
  description: string;
  category: string;
  parts: { name: string; image: string; job: boolean }[];
  ports: { part: string; label: string; containerPort: number; hostPort: number }[];
  needs: { grant: string; why: string }[];
  notes: string | null;
  docs: string | null;
}

export interface ServiceEndpoint {
  part: string;
  label: string;
  containerPort: number;
  hostPort: number;
  url: string | null;
}

export interface ServiceView {
  name: string;
  template: string;
  title: string;
  desiredState: 'running' | 'stopped';
  state: string;
  parts: { part: string; image: string; job: boolean; state: string; health: string | null; exitCode: number | null; detail: string | null }[];
  endpoints: ServiceEndpoint[];
  grants: string[];
  installedAt: number;
  detail: string | null;
}

export interface ServiceConnection {
  revealed: boolean;
  connections: { label: string; value: string }[];
  credentials: { name: string; value: string }[];
  notes: string | null;
}

/** MCP servers (homenode/src/mcp/hub.ts McpServerView, McpToolView). */
export interface McpServerView {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string | null;
  secretEnv: string[];
  disabledTools: string[];
  status: { state: string; pid: number | null; lastError: string | null; serverInfo: { name: string; version: string } | null; tools: number | null };
}

export interface McpToolView {
  name: string;
  agentName: string;
  description: string;
  inputSchema: { properties?: Record<string, unknown>; required?: string[] };
  enabled: boolean;
  problem: string | null;
}

export interface McpServerInput {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  secretEnv: Record<string, string>;
  cwd?: string;
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
  providers: () => get<{ github: boolean; local?: boolean }>('/api/auth/providers'),
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
  /** opens the repo's folder in the node's code-server (started if needed): the URL through the edge */
  openEditor: async (node: string, repo: string) => {
    const view = await call<{ folder: string }>('POST', `${nodePath(node)}/api/vscode/open`, { repo });
    return `${nodePath(node)}/api/code/?folder=${enc(view.folder)}`;
  },

  // agent tasks
  tasks: (node: string, repo?: string) => get<{ tasks: TaskView[] }>(`${nodePath(node)}/api/tasks${repo ? `?repo=${enc(repo)}` : ''}`),
  task: (node: string, id: string) => get<{ task: TaskView }>(`${nodePath(node)}/api/tasks/${enc(id)}`),
  createTask: (node: string, task: NewTask) => call<{ task: TaskView }>('POST', `${nodePath(node)}/api/tasks`, { ...task, source: 'web' }),
  cancelTask: (node: string, id: string) => call<{ task: TaskView }>('POST', `${nodePath(node)}/api/tasks/${enc(id)}/cancel`, {}),
  followUp: (node: string, id: string, prompt: string) => call<{ task: TaskView }>('POST', `${nodePath(node)}/api/tasks/${enc(id)}/messages`, { prompt }),
  taskDiff: (node: string, id: string) => get<TaskDiff>(`${nodePath(node)}/api/tasks/${enc(id)}/diff`),
  /** the task's events after `after` as Server-Sent Events (stored ones, then live ones, each once) */
  taskEventsUrl: (node: string, id: string, after: number) => `${nodePath(node)}/api/tasks/${enc(id)}/events?after=${after}`,
  anthropicKey: (node: string) => get<SecretInfo>(`${nodePath(node)}/api/secrets/anthropic-key`),
  setAnthropicKey: (node: string, key: string | null) => call<SecretInfo>(key === null ? 'DELETE' : 'PUT', `${nodePath(node)}/api/secrets/anthropic-key`, key === null ? undefined : { key }),

  // services
  catalog: (node: string) => get<{ templates: ServiceTemplateView[] }>(`${nodePath(node)}/api/services/catalog`),
  services: (node: string) => get<{ services: ServiceView[] }>(`${nodePath(node)}/api/services`),
  installService: (node: string, template: string, name: string | undefined, grant: string[]) => call<{ service: ServiceView; progress: string }>('POST', `${nodePath(node)}/api/services`, { template, name, grant }),
  service: (node: string, name: string, action: 'start' | 'stop' | 'restart') => call<{ service: ServiceView }>('POST', `${nodePath(node)}/api/services/${enc(name)}/${action}`, {}),
  uninstallService: (node: string, name: string, purge: boolean) => call<{ purged: boolean }>('DELETE', `${nodePath(node)}/api/services/${enc(name)}${purge ? '?purge=1' : ''}`),
  serviceConnection: (node: string, name: string, reveal: boolean) => get<ServiceConnection>(`${nodePath(node)}/api/services/${enc(name)}/connection${reveal ? '?reveal=1' : ''}`),
  /** SSE: `step` and `pull` events, then `done` or `error` */
  serviceProgressUrl: (node: string, name: string) => `${nodePath(node)}/api/services/${enc(name)}/progress`,
  /** SSE: a `log` event per line, `end` when every container stopped */
  serviceLogUrl: (node: string, name: string) => `${nodePath(node)}/api/services/${enc(name)}/logs?follow=1&tail=200`,

  // MCP servers
  mcpServers: (node: string) => get<{ servers: McpServerView[] }>(`${nodePath(node)}/api/mcp/servers`),
  registerMcp: (node: string, input: McpServerInput) => call<{ server: McpServerView }>('POST', `${nodePath(node)}/api/mcp/servers`, input),
  removeMcp: (node: string, name: string) => call<{ removed: string }>('DELETE', `${nodePath(node)}/api/mcp/servers/${enc(name)}`),
  mcp: (node: string, name: string, action: 'start' | 'stop' | 'restart') => call<{ status: McpServerView['status'] }>('POST', `${nodePath(node)}/api/mcp/servers/${enc(name)}/${action}`, {}),
  mcpTools: (node: string, name: string) => get<{ tools: McpToolView[] }>(`${nodePath(node)}/api/mcp/servers/${enc(name)}/tools`),
  mcpToolEnabled: (node: string, name: string, tool: string, enabled: boolean) => call<{ server: McpServerView }>('PUT', `${nodePath(node)}/api/mcp/servers/${enc(name)}/tools/${enc(tool)}`, { enabled }),
  mcpCall: (node: string, name: string, tool: string, args: unknown) => call<{ result: unknown }>('POST', `${nodePath(node)}/api/mcp/servers/${enc(name)}/tools/${enc(tool)}/call`, { arguments: args }),
  mcpLogs: (node: string, name: string) => get<{ lines: LogLine[] }>(`${nodePath(node)}/api/mcp/servers/${enc(name)}/logs?tail=200`),
};

// Webhooks (edge/src/webhooks/api.ts; docs/webhooks.md)

/** A GitHub repository whose issues may start tasks, mapped to a node and a repo on it. */
export interface RepoMapping {
  repo: string;
  node: string;
  localRepo: string;
  allowCollaborators: boolean;
  allowedUsers: string[];
  onDenied: 'reply' | 'ignore';
  createdAt: number;
}

/** A generic endpoint: signed JSON `{prompt, repo?}` at `url` starts a task. */
export interface WebhookEndpoint {
  id: string;
  name: string;
  node: string;
  repo: string | null;
  ratePerMinute: number;
  createdAt: number;
  lastUsedAt: number | null;
  url: string;
}

/** One request in the delivery log (edge/src/webhooks/delivery-log.ts DeliverySummary). */
export interface WebhookDelivery {
  id: string;
  source: 'github' | 'endpoint';
  endpointId: string | null;
  event: string | null;
  action: string | null;
  repo: string | null;
  sender: string | null;
  status: string;
  httpStatus: number;
  note: string;
  node: string | null;
  localRepo: string | null;
  taskId: string | null;
  taskStatus: string | null;
  prUrl: string | null;
  runs: number;
  receivedAt: number;
  redeliverable: boolean;
}

export interface GithubWebhookSetup {
  url: string;
  events: string[];
  mention: string;
  label: string;
  secretConfigured: boolean;
  commentsEnabled: boolean;
}

const githubRepoPath = (fullName: string) => `/api/webhooks/github/repos/${fullName.split('/').map(enc).join('/')}`;

export const webhooksApi = {
  github: () => get<GithubWebhookSetup>('/api/webhooks/github'),
  repos: () => get<{ repos: RepoMapping[] }>('/api/webhooks/github/repos'),
  mapRepo: (fullName: string, input: { node: string; repo: string; allowCollaborators: boolean; allowedUsers: string[]; onDenied: 'reply' | 'ignore' }) =>
    call<{ repo: RepoMapping }>('PUT', githubRepoPath(fullName), input),
  unmapRepo: (fullName: string) => call<{ deleted: true }>('DELETE', githubRepoPath(fullName)),
  endpoints: () => get<{ endpoints: WebhookEndpoint[] }>('/api/webhooks/endpoints'),
  /** the answer's `secret` is shown this once */
  createEndpoint: (input: { name: string; node: string; repo: string | null; ratePerMinute?: number }) =>
    call<{ endpoint: WebhookEndpoint; secret: string; url: string }>('POST', '/api/webhooks/endpoints', input),
  rotateEndpoint: (id: string) => call<{ endpoint: WebhookEndpoint; secret: string; url: string }>('POST', `/api/webhooks/endpoints/${enc(id)}/secret`, {}),
  deleteEndpoint: (id: string) => call<{ deleted: true }>('DELETE', `/api/webhooks/endpoints/${enc(id)}`),
  deliveries: (before: number | null, limit: number) =>
    get<{ deliveries: WebhookDelivery[]; next: number | null }>(`/api/webhooks/deliveries?limit=${limit}${before === null ? '' : `&before=${before}`}`),
  redeliver: (id: string) => call<{ delivery: WebhookDelivery }>('POST', `/api/webhooks/deliveries/${enc(id)}/redeliver`, {}),
};
