/**
 * @module
 * The Directory object's tables (DO SQLite, drizzle): accounts, browser sessions and
 * scoped API tokens. Secrets are stored only as hashes. Migrations: migrations/edge/directory.
 */
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export type Role = 'admin' | 'user';
export type UserStatus = 'pending' | 'active' | 'rejected' | 'inactive';
export type Scope = 'read' | 'write';

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  /** lower-cased */
  email: text('email').notNull().unique(),
  name: text('name'),
  /** pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>; empty for an account that signs in with GitHub only */
  passwordHash: text('password_hash').notNull(),
  role: text('role').$type<Role>().notNull(),
  status: text('status').$type<UserStatus>().notNull(),
  createdAt: integer('created_at').notNull(),
  approvedAt: integer('approved_at'),
});

export const sessions = sqliteTable(
  'sessions',
  {
    /** SHA-256 (hex) of the cookie's session id */
    idHash: text('id_hash').primaryKey(),
    userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** comma-separated scopes */
    scopes: text('scopes').notNull(),
    /** SHA-256 (hex) of the token */
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at'),
  },
  (t) => [index('api_tokens_user').on(t.userId)],
);

/**
 * Home nodes. `id` is the node's DNS label in share URLs (`<port>-<id>.<share host>`),
 * unique across the edge. `ownerId` is null for a node the local `npm start` mode paired
 * before any account existed: the first account adopts it.
 */
export const nodes = sqliteTable(
  'nodes',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** SHA-256 (hex) of the node token */
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('nodes_owner').on(t.ownerId)],
);

/** Single-use, short-lived codes a node exchanges for its token (`homeport pair`). */
export const pairingCodes = sqliteTable('pairing_codes', {
  /** SHA-256 (hex) of the code */
  codeHash: text('code_hash').primaryKey(),
  ownerId: text('owner_id').references(() => users.id, { onDelete: 'cascade' }),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
  usedAt: integer('used_at'),
  /** the node it paired, once used */
  nodeId: text('node_id'),
});

/** Sign-in providers linked to an account (GitHub). */
export const oauthIdentities = sqliteTable(
  'oauth_identities',
  {
    provider: text('provider').notNull(),
    providerUserId: text('provider_user_id').notNull(),
    userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    login: text('login').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.providerUserId] }), index('oauth_user').on(t.userId)],
);

/** Fixed-window counters for rate limits on sign-in, registration and pairing (per client IP). */
export const rateLimits = sqliteTable('rate_limits', {
  key: text('key').primaryKey(),
  count: integer('count').notNull(),
  resetAt: integer('reset_at').notNull(),
});
