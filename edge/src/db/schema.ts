/**
 * @module
 * The NodeHub's SQLite tables (one database per home node, in its Durable Object):
 * shares, their access log and the password-attempt counters. drizzle-kit generates
 * migrations/edge/node-hub from this file (`npm run db:generate -w edge`).
 */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
  },
  (t) => [index('access_log_port_id').on(t.port, t.id), index('access_log_at').on(t.at)],
);

/** Wrong-password counters per client IP and share, in fixed one-minute windows. */
export const loginFailures = sqliteTable('login_failures', {
  key: text('key').primaryKey(),
  windowStart: integer('window_start').notNull(),
  count: integer('count').notNull(),
});
