/**
 * @module
 * The NodeHub's SQLite tables (one database per home node, in its Durable Object):
 * shares, their access log and the password-attempt counters. drizzle-kit generates
 * migrations/edge/node-hub from this file (`npm run db:generate -w edge`).
 */
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** One row per shared port; no row means the port is private. */
export const shares = sqliteTable('shares', {
  port: integer('port').primaryKey(),
  /** random id of this share; a new one on every (re)share, so old cookies die with the row */
  id: text('id').notNull(),
  mode: text('mode', { enum: ['private', 'password', 'public'] }).notNull(),
  slug: text('slug').notNull().unique(),
  /** PBKDF2-SHA256: base64url salt and hash, iteration count */
  passwordSalt: text('password_salt'),
  passwordHash: text('password_hash'),
  passwordIterations: integer('password_iterations'),
  /** SHA-256 of the bearer access token (hex) */
  tokenHash: text('token_hash'),
  /** HMAC key for this share's cookies (base64url); rotated when the password changes */
  cookieSecret: text('cookie_secret').notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  /** ms since epoch; null = never */
  expiresAt: integer('expires_at'),
});

export const accessLog = sqliteTable(
  'access_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    port: integer('port').notNull(),
    shareId: text('share_id'),
    mode: text('mode').notNull(),
    /** path, subdomain or slug */
    form: text('form').notNull(),
    clientIp: text('client_ip').notNull(),
    userAgent: text('user_agent').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    status: integer('status').notNull(),
    bytes: integer('bytes'),
    authenticated: integer('authenticated', { mode: 'boolean' }).notNull(),
    /** how the answer ended: 'complete', 'aborted: <why>' or 'websocket'; null in rows from before it was kept */
    outcome: text('outcome'),
  },
  (t) => [index('access_log_port_id').on(t.port, t.id), index('access_log_at').on(t.at)],
);

/** Wrong-password counters per client IP and share, in fixed one-minute windows. */
export const loginFailures = sqliteTable('login_failures', {
  key: text('key').primaryKey(),
  windowStart: integer('window_start').notNull(),
  count: integer('count').notNull(),
});

/**
 * The last known state of the node's entities (repos, servers, settings…), applied from
 * its outbox so the dashboard renders while the node is offline. One row per entity.
 */
export const mirror = sqliteTable(
  'mirror',
  {
    topic: text('topic').notNull(),
    key: text('key').notNull(),
    /** JSON: the entity as the node last described it */
    value: text('value').notNull(),
    /** the outbox sequence number that last changed it */
    seq: integer('seq').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.topic, t.key] })],
);

/** The node's recent outbox events, kept for browsers that resume after a reconnect. */
export const events = sqliteTable('events', {
  seq: integer('seq').primaryKey(),
  topic: text('topic').notNull(),
  type: text('type').notNull(),
  at: integer('at').notNull(),
  /** JSON */
  payload: text('payload').notNull(),
});

/** Node API calls made while the node was offline, delivered once on reconnect. */
export const commands = sqliteTable(
  'commands',
  {
    /** chosen by the caller (or random): the node runs a given id at most once */
    id: text('id').primaryKey(),
    method: text('method').notNull(),
    /** a node API path, e.g. /api/repos/app/server/start */
    path: text('path').notNull(),
    /** JSON text or null */
    body: text('body'),
    createdAt: integer('created_at').notNull(),
    state: text('state', { enum: ['queued', 'delivered', 'failed', 'cancelled'] }).notNull(),
    deliveredAt: integer('delivered_at'),
    /** the node's answer: status and JSON body */
    status: integer('status'),
    result: text('result'),
  },
  (t) => [index('commands_state').on(t.state, t.createdAt)],
);
