/**
 * @module
 * A node's shares and access log in its hub's SQLite (drizzle, durable-sqlite driver).
 * Synchronous like the storage underneath; the hub owns one ShareStore.
 */
import { and, asc, desc, eq, isNotNull, lt, lte, sql } from 'drizzle-orm';
import type { DrizzleSqliteDODatabase } from 'drizzle-orm/durable-sqlite';
import type { AccessLogEntry } from '@homeport/shared';
import { accessLog, loginFailures, shares } from '../db/schema.ts';
import { LOGIN_LIMIT, LOGIN_WINDOW_MS, LOG_MAX_AGE_MS, LOG_MAX_ROWS } from './policy.ts';

export type ShareRow = typeof shares.$inferSelect;
export type NewLogRow = Omit<typeof accessLog.$inferInsert, 'id'>;

export class ShareStore {
  constructor(private readonly db: DrizzleSqliteDODatabase<Record<string, never>>) {}

  /** The share on a port, unless it has expired (then the port is private). */
  byPort(port: number, now = Date.now()): ShareRow | null {
    const row = this.db.select().from(shares).where(eq(shares.port, port)).get();
    return row && !isExpired(row, now) ? row : null;
  }

  bySlug(slug: string, now = Date.now()): ShareRow | null {
    const row = this.db.select().from(shares).where(eq(shares.slug, slug)).get();
    return row && !isExpired(row, now) ? row : null;
  }

  list(now = Date.now()): ShareRow[] {
    return this.db.select().from(shares).orderBy(asc(shares.port)).all().filter((row) => !isExpired(row, now));
  }

  put(row: ShareRow) {
    this.db.insert(shares).values(row).onConflictDoUpdate({ target: shares.port, set: row }).run();
  }

  remove(port: number): boolean {
    return this.db.delete(shares).where(eq(shares.port, port)).returning({ port: shares.port }).all().length > 0;
  }

  /** Deletes expired shares; returns their ports. */
  removeExpired(now = Date.now()): number[] {
    return this.db
      .delete(shares)
      .where(and(isNotNull(shares.expiresAt), lte(shares.expiresAt, now)))
      .returning({ port: shares.port })
      .all()
      .map((r) => r.port);
  }

  earliestExpiry(): number | null {
    const row = this.db
      .select({ at: sql<number | null>`min(${shares.expiresAt})` })
      .from(shares)
      .get();
    return row?.at ?? null;
  }

  // --- access log ---

  log(row: NewLogRow) {
    this.db.insert(accessLog).values(row).run();
  }

  /** Newest first; `before` is the id of the last row of the previous page. */
  logOf(port: number, before: number | null, limit: number): AccessLogEntry[] {
    const where = before === null ? eq(accessLog.port, port) : and(eq(accessLog.port, port), lt(accessLog.id, before));
    return this.db
      .select()
      .from(accessLog)
      .where(where)
      .orderBy(desc(accessLog.id))
      .limit(limit)
      .all()
      .map(({ shareId: _shareId, ...row }) => ({ ...row, form: row.form as AccessLogEntry['form'] }));
  }

  hasLog(): boolean {
    return this.db.select({ id: accessLog.id }).from(accessLog).limit(1).get() !== undefined;
  }

  /** Retention: rows older than LOG_MAX_AGE_MS go, and all but the newest LOG_MAX_ROWS. */
  pruneLog(now = Date.now(), maxRows = LOG_MAX_ROWS) {
    this.db.delete(accessLog).where(lt(accessLog.at, now - LOG_MAX_AGE_MS)).run();
    const cut = this.db.select({ id: accessLog.id }).from(accessLog).orderBy(desc(accessLog.id)).limit(1).offset(maxRows).get();
    if (cut) this.db.delete(accessLog).where(lte(accessLog.id, cut.id)).run();
    this.db.delete(loginFailures).where(lt(loginFailures.windowStart, now - LOGIN_WINDOW_MS)).run();
  }

  // --- wrong-password counters ---

  /** ms until this client may try again, or 0. */
  loginBlockedFor(key: string, now = Date.now()): number {
    const row = this.db.select().from(loginFailures).where(eq(loginFailures.key, key)).get();
    if (!row || now - row.windowStart >= LOGIN_WINDOW_MS || row.count < LOGIN_LIMIT) return 0;
    return row.windowStart + LOGIN_WINDOW_MS - now;
  }

  loginFailed(key: string, now = Date.now()) {
    const row = this.db.select().from(loginFailures).where(eq(loginFailures.key, key)).get();
    if (!row || now - row.windowStart >= LOGIN_WINDOW_MS)
      this.db.insert(loginFailures).values({ key, windowStart: now, count: 1 }).onConflictDoUpdate({ target: loginFailures.key, set: { windowStart: now, count: 1 } }).run();
    else this.db.update(loginFailures).set({ count: row.count + 1 }).where(eq(loginFailures.key, key)).run();
  }
}

function isExpired(row: ShareRow, now: number): boolean {
  return row.expiresAt !== null && row.expiresAt <= now;
}
