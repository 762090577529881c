/**
 * @module
 * Node API calls queued at the edge while the node is offline (start a server, change a
 * setting…), delivered in order on reconnect. Ids are the caller's (or random): the same
 * id queued twice is one command, and the node runs an id at most once (it remembers the
 * ids it has answered, x-homeport-command-id).
 */
import { and, asc, desc, eq, ne, notInArray } from 'drizzle-orm';
import type { DrizzleSqliteDODatabase } from 'drizzle-orm/durable-sqlite';
import { commands } from '../db/schema.ts';

export type CommandRow = typeof commands.$inferSelect;

/** How many commands may wait for one node. */
export const MAX_QUEUED = 100;
const KEPT = 200;

export interface CommandView {
  id: string;
  method: string;
  path: string;
  state: CommandRow['state'];
  createdAt: number;
  deliveredAt: number | null;
  status: number | null;
  result: unknown;
}

export function commandView(row: CommandRow): CommandView {
  return { id: row.id, method: row.method, path: row.path, state: row.state, createdAt: row.createdAt, deliveredAt: row.deliveredAt, status: row.status, result: row.result === null ? null : JSON.parse(row.result) };
}

export class CommandQueue {
  constructor(private readonly db: DrizzleSqliteDODatabase<Record<string, never>>) {}

  get(id: string): CommandRow | null {
    return this.db.select().from(commands).where(eq(commands.id, id)).get() ?? null;
  }

  /** Queues a command; an id seen before returns the existing one (and `created: false`). */
  enqueue(input: { id: string; method: string; path: string; body: string | null }): { row: CommandRow; created: boolean } | { full: true } {
    const existing = this.get(input.id);
    if (existing) return { row: existing, created: false };
    if (this.queued().length >= MAX_QUEUED) return { full: true };
    const row = this.db.insert(commands).values({ ...input, createdAt: Date.now(), state: 'queued' }).returning().get();
    return { row, created: true };
  }

  queued(): CommandRow[] {
    return this.db.select().from(commands).where(eq(commands.state, 'queued')).orderBy(asc(commands.createdAt)).all();
  }

  list(limit = 50): CommandRow[] {
    return this.db.select().from(commands).orderBy(desc(commands.createdAt)).limit(limit).all();
  }

  /** Records the node's answer (or a failure to deliver that will not get better). */
  settle(id: string, state: 'delivered' | 'failed', status: number, result: unknown) {
    this.db
      .update(commands)
      .set({ state, status, result: JSON.stringify(result ?? null), deliveredAt: Date.now() })
      .where(and(eq(commands.id, id), eq(commands.state, 'queued')))
      .run();
    // Settled commands are history; keep the newest few.
    const newest = this.db.select({ id: commands.id }).from(commands).orderBy(desc(commands.createdAt)).limit(KEPT);
    this.db.delete(commands).where(and(ne(commands.state, 'queued'), notInArray(commands.id, newest))).run();
  }

  cancel(id: string): CommandRow | null {
    return this.db.update(commands).set({ state: 'cancelled' }).where(and(eq(commands.id, id), eq(commands.state, 'queued'))).returning().get() ?? null;
  }
}
