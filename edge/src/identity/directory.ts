/**
 * @module
 * The Directory: one Durable Object (named "directory") holding accounts, browser
 * sessions and API tokens in its SQLite through drizzle. It never sees a password or a
 * secret in clear: the Worker hashes them (PBKDF2 is CPU-heavy, and a single global
 * object must not spend its time on it) and the Directory stores and looks up digests.
 */
import { DurableObject } from 'cloudflare:workers';
import { and, asc, eq, isNull, lt } from 'drizzle-orm';
import { drizzle, type DrizzleSqliteDODatabase } from 'drizzle-orm/durable-sqlite';
import { migrateOrRefuse } from '../db/migrate.ts';
import migrations from '../../../migrations/edge/directory/migrations.js';
import type { Env } from '../env.ts';
import { randomId } from './secrets.ts';
import * as schema from './schema.ts';
import { apiTokens, nodes, oauthIdentities, pairingCodes, rateLimits, sessions, users, type Role, type Scope, type UserStatus } from './schema.ts';

export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;

export interface PublicUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  status: UserStatus;
  createdAt: number;
  approvedAt: number | null;
}

export interface TokenInfo {
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: number;
  lastUsedAt: number | null;
}

export interface NodeInfo {
  id: string;
  name: string;
  /** null: paired by the local `npm start` mode before any account existed */
  ownerId: string | null;
  createdAt: number;
  revokedAt: number | null;
}

/** How long a pairing code may wait to be used. */
export const PAIRING_CODE_TTL_MS = 10 * 60_000;

function nodeInfo(row: typeof nodes.$inferSelect): NodeInfo {
  const { tokenHash: _, ...rest } = row;
  return rest;
}

/** A DNS label from a name people chose ("Dave's NUC" → "dave-s-nuc"). */
export function nodeIdFrom(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+/g, '-')
    .slice(0, 40)
    .replace(/-+$/, '');
  return label || 'node';
}

export type AdminAction = 'approve' | 'reject' | 'deactivate' | 'activate';

/** Which statuses each admin action may start from. */
const TRANSITIONS: Record<AdminAction, { from: UserStatus[]; to: UserStatus }> = {
  approve: { from: ['pending'], to: 'active' },
  reject: { from: ['pending'], to: 'rejected' },
  deactivate: { from: ['active'], to: 'inactive' },
  activate: { from: ['inactive', 'rejected'], to: 'active' },
};

function publicUser(row: typeof users.$inferSelect): PublicUser {
  const { passwordHash: _, ...rest } = row;
  return rest;
}

function tokenInfo(row: typeof apiTokens.$inferSelect): TokenInfo {
  return { id: row.id, name: row.name, scopes: row.scopes.split(',') as Scope[], createdAt: row.createdAt, lastUsedAt: row.lastUsedAt };
}

export class Directory extends DurableObject<Env> {
  #db: DrizzleSqliteDODatabase<typeof schema>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#db = drizzle(ctx.storage, { schema });
    void ctx.blockConcurrencyWhile(async () => {
      await migrateOrRefuse(ctx.storage, this.#db, migrations, 'the directory');
    });
  }

  /**
   * The first account becomes the active admin and adopts the nodes the local mode paired
   * before any account existed (`adopted`); later ones wait for approval.
   */
  register(input: { email: string; name: string | null; passwordHash: string }): { user: PublicUser; adopted: string[] } | { duplicate: true } {
    return this.ctx.storage.transactionSync(() => {
      if (this.#db.select({ id: users.id }).from(users).where(eq(users.email, input.email)).get()) return { duplicate: true as const };
      const first = !this.#db.select({ id: users.id }).from(users).limit(1).get();
      const now = Date.now();
      const row = this.#db
        .insert(users)
        .values({ id: crypto.randomUUID(), email: input.email, name: input.name, passwordHash: input.passwordHash, role: first ? 'admin' : 'user', status: first ? 'active' : 'pending', createdAt: now, approvedAt: first ? now : null })
        .returning()
        .get();
      const adopted = first ? this.#adoptOwnerlessNodes(row.id) : [];
      return { user: publicUser(row), adopted };
    });
  }

  #adoptOwnerlessNodes(userId: string): string[] {
    return this.#db.update(nodes).set({ ownerId: userId }).where(isNull(nodes.ownerId)).returning({ id: nodes.id }).all().map((r) => r.id);
  }

  // ---- home nodes and pairing ----

  createPairingCode(ownerId: string | null, codeHash: string): { expiresAt: number } {
    const now = Date.now();
    this.#db.delete(pairingCodes).where(lt(pairingCodes.expiresAt, now - 24 * 3600_000)).run();
    const expiresAt = now + PAIRING_CODE_TTL_MS;
    this.#db.insert(pairingCodes).values({ codeHash, ownerId, createdAt: now, expiresAt }).run();
    return { expiresAt };
  }

  /**
   * Exchanges an unused, unexpired code for a new node (its token's hash given), or null.
   * The node's id is a DNS label made from `name`, unique on this edge.
   */
  pair(codeHash: string, name: string, tokenHash: string): NodeInfo | null {
    return this.ctx.storage.transactionSync(() => {
      const now = Date.now();
      const code = this.#db.select().from(pairingCodes).where(eq(pairingCodes.codeHash, codeHash)).get();
      if (!code || code.usedAt !== null || code.expiresAt <= now) return null;
      const base = nodeIdFrom(name);
      let id = base;
      for (let n = 2; this.#db.select({ id: nodes.id }).from(nodes).where(eq(nodes.id, id)).get(); n++) id = `${base}-${n}`;
      // A code the local owner made after accounts exist belongs to the first admin.
      const ownerId = code.ownerId ?? this.#db.select({ id: users.id }).from(users).where(and(eq(users.role, 'admin'), eq(users.status, 'active'))).orderBy(asc(users.createdAt)).limit(1).get()?.id ?? null;
      const row = this.#db.insert(nodes).values({ id, ownerId, name: name.trim() || id, tokenHash, createdAt: now }).returning().get();
      this.#db.update(pairingCodes).set({ usedAt: now, nodeId: id }).where(eq(pairingCodes.codeHash, codeHash)).run();
      return nodeInfo(row);
    });
  }

  /** The node a tunnel token belongs to, unless revoked. */
  nodeByToken(tokenHash: string): NodeInfo | null {
    const row = this.#db.select().from(nodes).where(and(eq(nodes.tokenHash, tokenHash), isNull(nodes.revokedAt))).get();
    return row ? nodeInfo(row) : null;
  }

  node(id: string): NodeInfo | null {
    const row = this.#db.select().from(nodes).where(eq(nodes.id, id)).get();
    return row ? nodeInfo(row) : null;
  }

  /** Live (unrevoked) nodes: one owner's, or every node when ownerId is undefined (the local owner). */
  nodes(ownerId?: string): NodeInfo[] {
    const live = isNull(nodes.revokedAt);
    return this.#db
      .select()
      .from(nodes)
      .where(ownerId === undefined ? live : and(live, eq(nodes.ownerId, ownerId)))
      .orderBy(asc(nodes.createdAt))
      .all()
      .map(nodeInfo);
  }

  renameNode(id: string, name: string): NodeInfo | null {
    const row = this.#db.update(nodes).set({ name }).where(and(eq(nodes.id, id), isNull(nodes.revokedAt))).returning().get();
    return row ? nodeInfo(row) : null;
  }

  /** Revoked for good: the token stops working; the id stays taken so old share URLs never reach another node. */
  revokeNode(id: string): NodeInfo | null {
    const row = this.#db.update(nodes).set({ revokedAt: Date.now() }).where(and(eq(nodes.id, id), isNull(nodes.revokedAt))).returning().get();
    return row ? nodeInfo(row) : null;
  }

  credentialsOf(email: string): { user: PublicUser; passwordHash: string } | null {
    const row = this.#db.select().from(users).where(eq(users.email, email)).get();
    return row ? { user: publicUser(row), passwordHash: row.passwordHash } : null;
  }

  user(id: string): PublicUser | null {
    const row = this.#db.select().from(users).where(eq(users.id, id)).get();
    return row ? publicUser(row) : null;
  }

  users(status?: UserStatus): PublicUser[] {
    const q = this.#db.select().from(users);
    return (status ? q.where(eq(users.status, status)) : q).orderBy(asc(users.createdAt)).all().map(publicUser);
  }

  /**
   * Sign-in through a provider (GitHub) whose verified email is `email` (lower-cased): the
   * account already linked to that identity; else the account with that email, now linked
   * (unless it is linked to another identity of that provider: `linkedElsewhere`);
   * else a new one without a password (the first account ever is the active admin and
   * adopts ownerless nodes, as in register; later ones wait for approval).
   */
  signInWithProvider(input: { provider: string; providerUserId: string; login: string; email: string; name: string | null }): { user: PublicUser } | { linkedElsewhere: true } {
    return this.ctx.storage.transactionSync(() => {
      const { provider, providerUserId, login } = input;
      const identityIs = and(eq(oauthIdentities.provider, provider), eq(oauthIdentities.providerUserId, providerUserId));
      const linked = this.#db.select().from(oauthIdentities).where(identityIs).get();
      if (linked) {
        // A renamed GitHub account keeps its id; remember its new login.
        if (linked.login !== login) this.#db.update(oauthIdentities).set({ login }).where(identityIs).run();
        return { user: this.user(linked.userId)! };
      }
      const now = Date.now();
      let row = this.#db.select().from(users).where(eq(users.email, input.email)).get();
      if (row) {
        const other = this.#db.select().from(oauthIdentities).where(and(eq(oauthIdentities.userId, row.id), eq(oauthIdentities.provider, provider))).get();
        if (other) return { linkedElsewhere: true as const };
      } else {
        const first = !this.#db.select({ id: users.id }).from(users).limit(1).get();
        row = this.#db
          .insert(users)
          .values({ id: crypto.randomUUID(), email: input.email, name: input.name, passwordHash: '', role: first ? 'admin' : 'user', status: first ? 'active' : 'pending', createdAt: now, approvedAt: first ? now : null })
          .returning()
          .get();
        if (first) this.#adoptOwnerlessNodes(row.id);
      }
      this.#db.insert(oauthIdentities).values({ provider, providerUserId, userId: row.id, login, createdAt: now }).run();
      return { user: publicUser(row) };
    });
  }

  /** The providers an account is linked to, e.g. `{ github: { login: "octocat" } }`. */
  providersOf(userId: string): Record<string, { login: string }> {
    const rows = this.#db.select().from(oauthIdentities).where(eq(oauthIdentities.userId, userId)).all();
    return Object.fromEntries(rows.map((r) => [r.provider, { login: r.login }]));
  }

  /** Approve, reject, deactivate or reactivate an account. Deactivating ends its sessions. */
  setStatus(adminId: string, userId: string, action: AdminAction): { user: PublicUser } | { error: string; status: 404 | 409 } {
    return this.ctx.storage.transactionSync(() => {
      const row = this.#db.select().from(users).where(eq(users.id, userId)).get();
      if (!row) return { error: 'no such user', status: 404 as const };
      if (userId === adminId && (action === 'deactivate' || action === 'reject')) return { error: 'you cannot lock yourself out', status: 409 as const };
      const { from, to } = TRANSITIONS[action];
      if (!from.includes(row.status)) return { error: `cannot ${action} a user who is ${row.status}`, status: 409 as const };
      const approvedAt = to === 'active' ? (row.approvedAt ?? Date.now()) : row.approvedAt;
      const updated = this.#db.update(users).set({ status: to, approvedAt }).where(eq(users.id, userId)).returning().get();
      if (to !== 'active') this.#db.delete(sessions).where(eq(sessions.userId, userId)).run();
      return { user: publicUser(updated) };
    });
  }

  createSession(userId: string, idHash: string): { expiresAt: number } {
    const now = Date.now();
    const expiresAt = now + SESSION_TTL_MS;
    this.#db.delete(sessions).where(lt(sessions.expiresAt, now)).run();
    this.#db.insert(sessions).values({ idHash, userId, createdAt: now, expiresAt }).run();
    return { expiresAt };
  }

  /**
   * The active user behind a session, or null (unknown, expired, or the user is no longer
   * active). Sliding expiry: renewed to a full term once less than half is left.
   */
  session(idHash: string): { user: PublicUser; expiresAt: number; renewed: boolean } | null {
    const row = this.#db.select().from(sessions).innerJoin(users, eq(users.id, sessions.userId)).where(eq(sessions.idHash, idHash)).get();
    if (!row) return null;
    const now = Date.now();
    if (row.sessions.expiresAt <= now) {
      this.#db.delete(sessions).where(eq(sessions.idHash, idHash)).run();
      return null;
    }
    if (row.users.status !== 'active') return null;
    let { expiresAt } = row.sessions;
    const renewed = expiresAt - now < SESSION_TTL_MS / 2;
    if (renewed) {
      expiresAt = now + SESSION_TTL_MS;
      this.#db.update(sessions).set({ expiresAt }).where(eq(sessions.idHash, idHash)).run();
    }
    return { user: publicUser(row.users), expiresAt, renewed };
  }

  deleteSession(idHash: string): void {
    this.#db.delete(sessions).where(eq(sessions.idHash, idHash)).run();
  }

  createToken(userId: string, name: string, scopes: Scope[], tokenHash: string): TokenInfo {
    const row = this.#db.insert(apiTokens).values({ id: randomId(), userId, name, scopes: scopes.join(','), tokenHash, createdAt: Date.now() }).returning().get();
    return tokenInfo(row);
  }

  /** The active user behind an API token and the token's scopes, or null. */
  token(tokenHash: string): { user: PublicUser; scopes: Scope[] } | null {
    const row = this.#db.select().from(apiTokens).innerJoin(users, eq(users.id, apiTokens.userId)).where(eq(apiTokens.tokenHash, tokenHash)).get();
    if (!row || row.users.status !== 'active') return null;
    const now = Date.now();
    // Written at most once a minute: a busy script must not turn every read into a write.
    if (!row.api_tokens.lastUsedAt || now - row.api_tokens.lastUsedAt > 60_000)
      this.#db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.api_tokens.id)).run();
    return { user: publicUser(row.users), scopes: tokenInfo(row.api_tokens).scopes };
  }

  tokens(userId: string): TokenInfo[] {
    return this.#db.select().from(apiTokens).where(eq(apiTokens.userId, userId)).orderBy(asc(apiTokens.createdAt)).all().map(tokenInfo);
  }

  /**
   * Counts one attempt against `key` (e.g. "login-ip:203.0.113.9") in a fixed window.
   * Returns 0 when it is allowed, else the milliseconds until the window resets.
   */
  hitLimit(key: string, limit: number, windowMs: number): number {
    return this.ctx.storage.transactionSync(() => {
      const now = Date.now();
      const row = this.#db.select().from(rateLimits).where(eq(rateLimits.key, key)).get();
      if (!row || row.resetAt <= now) {
        // Old windows are swept now and then so the table stays small.
        if (Math.random() < 0.01) this.#db.delete(rateLimits).where(lt(rateLimits.resetAt, now)).run();
        this.#db.insert(rateLimits).values({ key, count: 1, resetAt: now + windowMs }).onConflictDoUpdate({ target: rateLimits.key, set: { count: 1, resetAt: now + windowMs } }).run();
        return 0;
      }
      if (row.count >= limit) return row.resetAt - now;
      this.#db.update(rateLimits).set({ count: row.count + 1 }).where(eq(rateLimits.key, key)).run();
      return 0;
    });
  }

  /** Like hitLimit without counting: for limits that count failures only. */
  limitWait(key: string, limit: number): number {
    const row = this.#db.select().from(rateLimits).where(eq(rateLimits.key, key)).get();
    const now = Date.now();
    return row && row.resetAt > now && row.count >= limit ? row.resetAt - now : 0;
  }

  // ---- the local owner's one-time sign-in links (local mode) ----

  /** Keeps a sign-in ticket's digest until it is used or expires. */
  async addSignInTicket(ticketHash: string, expiresAt: number): Promise<void> {
    await this.ctx.storage.put(`sign-in-ticket:${ticketHash}`, expiresAt);
  }

  /** Uses a ticket up: true once for a known, unexpired ticket, false ever after. */
  async useSignInTicket(ticketHash: string): Promise<boolean> {
    const key = `sign-in-ticket:${ticketHash}`;
    const expiresAt = await this.ctx.storage.get<number>(key);
    if (expiresAt === undefined) return false;
    await this.ctx.storage.delete(key);
    return expiresAt > Date.now();
  }

  deleteToken(userId: string, id: string): boolean {
    return this.#db.delete(apiTokens).where(and(eq(apiTokens.userId, userId), eq(apiTokens.id, id))).returning({ id: apiTokens.id }).all().length > 0;
  }
}

export function directoryOf(env: Env) {
  return env.DIRECTORY.get(env.DIRECTORY.idFromName('directory'));
}
