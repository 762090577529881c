/**
 * @module
 * The Webhooks object's tables (one Durable Object named "webhooks", DO SQLite through
 * drizzle): the delivery log (GitHub and generic endpoints alike, with the GitHub
 * tracking comment of each delivery that started a task), GitHub repo mappings, generic
 * endpoints and recently seen signatures. Migrations: migrations/edge/webhooks
 * (`npx drizzle-kit generate --config drizzle.webhooks.config.ts` in edge/).
 */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * What became of a delivery:
 * - refused (401: unsigned, mis-signed, stale timestamp), too_large (413), invalid (400:
 *   not JSON, missing fields), replay (409), rate_limited (429): nothing started;
 * - ignored (not a trigger: another event or action, ping, Homeport's own comment),
 *   unknown_repo, denied (the sender may not trigger), node_revoked: nothing started;
 * - pending: accepted, being worked on; queued: the task waits in the node's command
 *   queue (node offline); started: the node took the task; cancelled: the queued command
 *   was cancelled; failed: could not be started (the error is in `note`).
 */
export type DeliveryStatus =
  | 'refused'
  | 'too_large'
  | 'invalid'
  | 'replay'
  | 'rate_limited'
  | 'ignored'
  | 'unknown_repo'
  | 'denied'
  | 'node_revoked'
  | 'pending'
  | 'queued'
  | 'started'
  | 'cancelled'
  | 'failed';

export const deliveries = sqliteTable(
  'deliveries',
  {
    /** `gh-<X-GitHub-Delivery>` for signed GitHub deliveries (a redelivery reuses it), else `dl_<random>` */
    id: text('id').primaryKey(),
    source: text('source', { enum: ['github', 'endpoint'] }).notNull(),
    endpointId: text('endpoint_id'),
    /** X-GitHub-Delivery as sent (on refused deliveries too) */
    externalId: text('external_id'),
    /** X-GitHub-Event */
    event: text('event'),
    action: text('action'),
    /** GitHub: owner/name; endpoint: the local repo asked for */
    repo: text('repo'),
    /** GitHub login of the sender */
    sender: text('sender'),
    status: text('status').$type<DeliveryStatus>().notNull(),
    /** what the sender was (or would be) answered */
    httpStatus: integer('http_status').notNull(),
    /** for people: why, or what happened */
    note: text('note').notNull(),
    /** whose log it is: the mapping's or endpoint's owner; null = admins only (unknown repos, refused) */
    ownerId: text('owner_id'),
    node: text('node'),
    localRepo: text('local_repo'),
    /** the node command that carries POST /api/tasks (`wh-<delivery>-<run>`) */
    commandId: text('command_id'),
    taskId: text('task_id'),
    taskStatus: text('task_status'),
    taskReason: text('task_reason'),
    prUrl: text('pr_url'),
    branch: text('branch'),
    /** the raw body, kept when it was signed and within limits (redelivery runs it again) */
    payload: text('payload'),
    bytes: integer('bytes').notNull(),
    clientIp: text('client_ip'),
    /** how many times it was run (redeliveries add one) */
    runs: integer('runs').notNull().default(0),
    /** failed tries of the current run (GitHub or the hub unreachable) */
    tries: integer('tries').notNull().default(0),
    /** pending work is due at */
    nextTryAt: integer('next_try_at'),
    /** GitHub: the issue (or pull request) number the tracking comment lives on */
    issueNumber: integer('issue_number'),
    commentId: integer('comment_id'),
    /** the tracking comment's text as last written to GitHub */
    commentBody: text('comment_body'),
    /** a comment update that failed is tried again at */
    commentRetryAt: integer('comment_retry_at'),
    commentTries: integer('comment_tries').notNull().default(0),
    receivedAt: integer('received_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('deliveries_received').on(t.receivedAt),
    index('deliveries_command').on(t.commandId),
    index('deliveries_due').on(t.status, t.nextTryAt),
    index('deliveries_comment_due').on(t.commentRetryAt),
  ],
);

/** A GitHub repository whose issues may start tasks, and where they run. */
export const githubRepos = sqliteTable('github_repos', {
  /** `owner/name`, lower-cased (GitHub names are case-insensitive) */
  fullName: text('full_name').primaryKey(),
  /** the user who mapped it ('local' for the loopback owner of a local-mode edge) */
  ownerId: text('owner_id').notNull(),
  node: text('node').notNull(),
  /** the repo's name on the node */
  repo: text('repo').notNull(),
  /** collaborators with write access (or more) may trigger */
  allowCollaborators: integer('allow_collaborators', { mode: 'boolean' }).notNull(),
  /** JSON list of lower-cased GitHub logins who may always trigger */
  allowedUsers: text('allowed_users').notNull(),
  /** what a sender who may not trigger gets: a polite reply comment, or nothing */
  onDenied: text('on_denied', { enum: ['reply', 'ignore'] }).notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** A generic webhook endpoint: signed JSON `{repo?, prompt, …}` starts a task. */
export const endpoints = sqliteTable('endpoints', {
  /** `whk_<random>`: the URL is /webhooks/in/<id> */
  id: text('id').primaryKey(),
  ownerId: text('owner_id').notNull(),
  name: text('name').notNull(),
  node: text('node').notNull(),
  /** the repo every request targets; null = the request says (`repo`) */
  repo: text('repo'),
  /** the HMAC secret, AES-256-GCM sealed with WEBHOOK_SECRETS_KEY (secret-box.ts) */
  sealedSecret: text('sealed_secret').notNull(),
  /** requests per minute, refused ones included */
  ratePerMinute: integer('rate_per_minute').notNull(),
  createdAt: integer('created_at').notNull(),
  lastUsedAt: integer('last_used_at'),
});

/** Signatures of accepted generic requests, until their timestamp is too old anyway. */
export const seenSignatures = sqliteTable('seen_signatures', {
  /** `<endpoint id>:<signature hex>` */
  key: text('key').primaryKey(),
  expiresAt: integer('expires_at').notNull(),
});
