/**
 * @module
 * The Directory object's tables (DO SQLite, drizzle): accounts, browser sessions and
 * scoped API tokens. Secrets are stored only as hashes. Migrations: migrations/edge/directory.
 */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export type Role = 'admin' | 'user';
export type UserStatus = 'pending' | 'active' | 'rejected' | 'inactive';
export type Scope = 'read' | 'write';

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  /** lower-cased */
  email: text('email').notNull().unique(),
  name: text('name'),
  /** pbkdf2-sha256$<iterations>$<salt b64>$<hash b64> */
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
