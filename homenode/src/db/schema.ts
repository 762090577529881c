/**
 * @module
 * homeportd's tables in its one libSQL file (`<data dir>/homeport.db`). drizzle-kit
 * generates migrations/home from this file (`npm run db:generate -w homenode`); the
 * daemon applies them at start (db/index.ts).
 */
import { sql } from 'drizzle-orm';
import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Every dev server belongs to a repo: a clone Homeport made or a folder the owner registered. */
export const repos = sqliteTable('repos', {
  /** `repo_` + random; never looks like a name someone would pick */
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** absolute path of the work tree's top level */
  path: text('path').notNull().unique(),
  /** `origin`'s URL, never with credentials in it; null for a repo without remote */
  remoteUrl: text('remote_url'),
  defaultBranch: text('default_branch'),
  source: text('source', { enum: ['clone', 'local'] }).notNull(),
  /** `cloning` until the clone has finished; only `ready` repos can pull or start */
  state: text('state', { enum: ['cloning', 'ready'] }).notNull(),
  addedAt: integer('added_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** One row per repo: how its dev server runs, and whether it should be running. */
export const servers = sqliteTable('servers', {
  repoId: text('repo_id')
    .primaryKey()
    .references(() => repos.id, { onDelete: 'cascade' }),
  /** the owner's start command; null = the detected one (repos/detect.ts) */
  command: text('command'),
  /** JSON object of environment variables: the owner's config, not secrets */
  env: text('env').notNull().default('{}'),
  /** what the owner last asked for; `running` servers are started again after a restart */
  desiredState: text('desired_state', { enum: ['running', 'stopped'] }).notNull().default('stopped'),
  /** restart after a crash; null = the node's setting */
  autoRestart: integer('auto_restart', { mode: 'boolean' }),
  /** minutes without traffic before the server is stopped; null = the node's setting */
  idleTimeoutMinutes: integer('idle_timeout_minutes'),
  updatedAt: integer('updated_at').notNull(),
});

/** Node-wide settings the owner changes at runtime (settings.ts lists the keys). */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  /** JSON */
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** The owner's secrets (GitHub token, Anthropic key), sealed by vault.ts. */
export const secrets = sqliteTable('secrets', {
  name: text('name').primaryKey(),
  /** `v1.<iv>.<tag>.<ciphertext>`, base64url, AES-256-GCM with the name as associated data */
  ciphertext: text('ciphertext').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Every state change, in order, for the edge's mirror (written in the change's own transaction). */
export const outbox = sqliteTable('outbox', {
  seq: integer('seq').primaryKey({ autoIncrement: true }),
  topic: text('topic').notNull(),
  type: text('type').notNull(),
  /** JSON */
  payload: text('payload').notNull(),
  at: integer('at').notNull(),
});

/** One row (id 1): how far the edge has acknowledged the outbox. */
export const syncState = sqliteTable('sync_state', {
  id: integer('id').primaryKey(),
  ackedSeq: integer('acked_seq').notNull().default(0),
  updatedAt: integer('updated_at')
    .notNull()
    .default(sql`(unixepoch() * 1000)`),
});

/** An agent task: a prompt (and follow-ups) run against a repo in a Docker sandbox. */
export const tasks = sqliteTable('tasks', {
  /** `task_` + random; also names its branch `homeport/<id>` */
  id: text('id').primaryKey(),
  repoId: text('repo_id')
    .notNull()
    .references(() => repos.id, { onDelete: 'cascade' }),
  prompt: text('prompt').notNull(),
  model: text('model').notNull(),
  /** JSON: {maxTurns, maxTokens, maxCostUsd, wallClockMs, bashTimeoutMs, bashIdleMs} */
  limits: text('limits').notNull(),
  status: text('status', { enum: ['queued', 'running', 'completed', 'failed', 'cancelled', 'stopped', 'interrupted'] }).notNull(),
  /** why it ended (a limit hit, the error, who cancelled) */
  reason: text('reason'),
  /** where it came from: web, cli, api, webhook:<delivery id> */
  source: text('source').notNull().default('api'),
  branch: text('branch'),
  /** the branch the task started from (the pull request's base), null when the repo was on a detached HEAD */
  baseBranch: text('base_branch'),
  /** the commit the task branch starts at (diffs are measured from here) */
  baseSha: text('base_sha'),
  worktreePath: text('worktree_path'),
  commitSha: text('commit_sha'),
  prUrl: text('pr_url'),
  /** JSON: {files, insertions, deletions, changes: [{path, insertions, deletions}]} from base_sha to commit_sha */
  diffStat: text('diff_stat'),
  inputTokens: integer('input_tokens').notNull().default(0),
  outputTokens: integer('output_tokens').notNull().default(0),
  /** micro-dollars, to stay an integer */
  costMicroUsd: integer('cost_micro_usd').notNull().default(0),
  /** JSON: the Messages API conversation so far, for follow-ups */
  conversation: text('conversation').notNull().default('[]'),
  createdAt: integer('created_at').notNull(),
  startedAt: integer('started_at'),
  endedAt: integer('ended_at'),
});

/** Every event of a task's run, stored before it is sent (SSE and WebSocket resume by seq). */
export const taskEvents = sqliteTable(
  'task_events',
  {
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    /** 1, 2, 3… per task */
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    at: integer('at').notNull(),
    /** JSON, secrets redacted */
    payload: text('payload').notNull(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.seq] })],
);

/** A service installed from the catalog (PostgreSQL, Redis, Penpot…): containers, volumes, credentials. */
export const services = sqliteTable('services', {
  /** the instance name, e.g. `postgres` or `penpot-2` */
  name: text('name').primaryKey(),
  /** the catalog entry it came from */
  template: text('template').notNull(),
  /** what the owner last asked for */
  desiredState: text('desired_state', { enum: ['running', 'stopped'] }).notNull(),
  /** JSON: chosen host ports, granted privileges, template options */
  config: text('config').notNull().default('{}'),
  installedAt: integer('installed_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** A stdio MCP server the owner registered; its secrets live in `secrets` (mcp:<name>:<VAR>). */
export const mcpServers = sqliteTable('mcp_servers', {
  name: text('name').primaryKey(),
  command: text('command').notNull(),
  /** JSON array */
  args: text('args').notNull().default('[]'),
  /** JSON object of non-secret environment variables */
  env: text('env').notNull().default('{}'),
  cwd: text('cwd'),
  /** JSON array of tool names turned off for agents */
  disabledTools: text('disabled_tools').notNull().default('[]'),
  desiredState: text('desired_state', { enum: ['running', 'stopped'] }).notNull().default('stopped'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});
