/**
 * @module
 * The delivery log's rows (drizzle over the Webhooks object's SQLite): every webhook
 * request lands here, refused ones too, and the rows of deliveries that start tasks carry
 * their progress (command, task, tracking comment). The log keeps the newest MAX_KEPT
 * rows; deliveries still waiting for work are never pruned.
 */
import { and, asc, desc, eq, inArray, isNotNull, isNull, lt, lte, min, notInArray, or } from 'drizzle-orm';
import type { DrizzleSqliteDODatabase } from 'drizzle-orm/durable-sqlite';
import { deliveries, type DeliveryStatus } from './schema.ts';
import { FINAL_TASK_STATUSES } from './tracking-comment.ts';

export type DeliveryRow = typeof deliveries.$inferSelect;
export type NewDelivery = Omit<typeof deliveries.$inferInsert, 'receivedAt' | 'updatedAt'>;

export const MAX_KEPT = 2000;
/** Statuses whose work is not done: never pruned (nor rows with a comment update to retry). */
const OPEN: DeliveryStatus[] = ['pending', 'queued'];
/** A delivery in one of these was taken: a second copy of it is a replay. */
export const TAKEN: DeliveryStatus[] = ['pending', 'queued', 'started', 'cancelled'];

/** What the owner sees in a list (no payload). */
export interface DeliverySummary {
  id: string;
  source: 'github' | 'endpoint';
  endpointId: string | null;
  event: string | null;
  action: string | null;
  repo: string | null;
  sender: string | null;
  status: DeliveryStatus;
  httpStatus: number;
  note: string;
  node: string | null;
  localRepo: string | null;
  commandId: string | null;
  taskId: string | null;
  taskStatus: string | null;
  prUrl: string | null;
  runs: number;
  receivedAt: number;
  updatedAt: number;
  /** the owner may run it again (its payload is kept and it did not start a task) */
  redeliverable: boolean;
}

export function isRedeliverable(row: DeliveryRow): boolean {
  return row.payload !== null && !TAKEN.includes(row.status) && row.status !== 'replay' && row.status !== 'invalid';
}

export function summaryOf(row: DeliveryRow): DeliverySummary {
  return {
    id: row.id,
    source: row.source,
    endpointId: row.endpointId,
    event: row.event,
    action: row.action,
    repo: row.repo,
    sender: row.sender,
    status: row.status,
    httpStatus: row.httpStatus,
    note: row.note,
    node: row.node,
    localRepo: row.localRepo,
    commandId: row.commandId,
    taskId: row.taskId,
    taskStatus: row.taskStatus,
    prUrl: row.prUrl,
    runs: row.runs,
    receivedAt: row.receivedAt,
    updatedAt: row.updatedAt,
    redeliverable: isRedeliverable(row),
  };
}

export class DeliveryLog {
  constructor(private readonly db: DrizzleSqliteDODatabase<Record<string, never>>) {}

  get(id: string): DeliveryRow | null {
    return this.db.select().from(deliveries).where(eq(deliveries.id, id)).get() ?? null;
  }

  byCommand(commandId: string): DeliveryRow | null {
    return this.db.select().from(deliveries).where(eq(deliveries.commandId, commandId)).get() ?? null;
  }

  insert(row: NewDelivery): DeliveryRow {
    const now = Date.now();
    const inserted = this.db.insert(deliveries).values({ ...row, receivedAt: now, updatedAt: now }).returning().get();
    this.#prune();
    return inserted;
  }

  update(id: string, changes: Partial<Omit<DeliveryRow, 'id'>>): DeliveryRow | null {
    return this.db.update(deliveries).set({ ...changes, updatedAt: Date.now() }).where(eq(deliveries.id, id)).returning().get() ?? null;
  }

  /** Newest first; `ownerId` undefined = everyone's. */
  list(options: { ownerId?: string; before?: number; limit: number }): DeliveryRow[] {
    const where = and(
      options.ownerId === undefined ? undefined : eq(deliveries.ownerId, options.ownerId),
      options.before === undefined ? undefined : lt(deliveries.receivedAt, options.before),
    );
    return this.db.select().from(deliveries).where(where).orderBy(desc(deliveries.receivedAt), desc(deliveries.id)).limit(options.limit).all();
  }

  /** Deliveries waiting for `node`: pending, queued, or started and not ended. */
  openOn(node: string): DeliveryRow[] {
    return this.db
      .select()
      .from(deliveries)
      .where(and(eq(deliveries.node, node), inArray(deliveries.status, ['pending', 'queued', 'started']), or(isNull(deliveries.taskStatus), notInArray(deliveries.taskStatus, [...FINAL_TASK_STATUSES]))))
      .all();
  }

  /** Pending work due now, oldest first. */
  due(now: number): DeliveryRow[] {
    return this.db
      .select()
      .from(deliveries)
      .where(and(eq(deliveries.status, 'pending'), lte(deliveries.nextTryAt, now)))
      .orderBy(asc(deliveries.nextTryAt))
      .limit(20)
      .all();
  }

  /** Tracking comments whose last update failed and is due again. */
  commentsDue(now: number): DeliveryRow[] {
    return this.db.select().from(deliveries).where(lte(deliveries.commentRetryAt, now)).limit(20).all();
  }

  /** When the next piece of work is due (pending deliveries, comment retries), or null. */
  nextDue(): number | null {
    const pending = this.db.select({ at: min(deliveries.nextTryAt) }).from(deliveries).where(eq(deliveries.status, 'pending')).get()?.at ?? null;
    const comments = this.db.select({ at: min(deliveries.commentRetryAt) }).from(deliveries).where(isNotNull(deliveries.commentRetryAt)).get()?.at ?? null;
    if (pending === null) return comments;
    return comments === null ? pending : Math.min(pending, comments);
  }

  #prune() {
    const newest = this.db.select({ id: deliveries.id }).from(deliveries).orderBy(desc(deliveries.receivedAt)).limit(MAX_KEPT);
    this.db
      .delete(deliveries)
      .where(and(notInArray(deliveries.id, newest), notInArray(deliveries.status, OPEN), isNull(deliveries.commentRetryAt)))
      .run();
  }
}
