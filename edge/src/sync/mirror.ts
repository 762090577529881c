/**
 * @module
 * The edge's mirror of a node's state, applied from the node's outbox. Each event is
 * applied at most once (events at or below the last applied sequence are skipped), so
 * a batch sent again after a drop changes nothing. Entities are kept per topic and key:
 * an event whose type ends in `.removed` deletes its entity, any other merges its
 * payload into it (so `server.state` updates the server `server.updated` described).
 */
import { and, asc, desc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import type { DrizzleSqliteDODatabase } from 'drizzle-orm/durable-sqlite';
import type { EventEnvelope, OutboxEvent } from '@homeport/shared';
import { events, mirror } from '../db/schema.ts';

/** Events kept for browsers that resume (older ones: reload the snapshot). */
export const EVENTS_KEPT = 2000;
/** Fields that name an entity, in order of preference (servers are keyed by their repo). */
const KEY_FIELDS = ['repoId', 'id', 'key', 'name'] as const;

export function entityKeyOf(payload: unknown): string | null {
  if (!payload || typeof payload !== 'object') return null;
  for (const field of KEY_FIELDS) {
    const value = (payload as Record<string, unknown>)[field];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
  }
  return null;
}

export function envelopeOf(nodeId: string, e: OutboxEvent): EventEnvelope {
  return { v: 1, id: `${nodeId}:${e.seq}`, nodeId, topic: e.topic, type: e.type, at: e.at, seq: e.seq, payload: e.payload };
}

export class NodeMirror {
  constructor(
    private readonly db: DrizzleSqliteDODatabase<Record<string, never>>,
    private readonly transaction: <T>(fn: () => T) => T,
  ) {}

  /** The last outbox sequence number applied (0: none). */
  lastSeq(): number {
    return this.db.select({ seq: sql<number | null>`max(${events.seq})` }).from(events).get()?.seq ?? 0;
  }

  /** Applies the events not applied yet, in order; returns those (for the live feed). */
  apply(batch: OutboxEvent[]): OutboxEvent[] {
    return this.transaction(() => {
      let last = this.lastSeq();
      const applied: OutboxEvent[] = [];
      for (const event of [...batch].sort((a, b) => a.seq - b.seq)) {
        if (event.seq <= last) continue;
        const payload = JSON.stringify(event.payload ?? null);
        this.db.insert(events).values({ seq: event.seq, topic: event.topic, type: event.type, at: event.at, payload }).run();
        const key = entityKeyOf(event.payload);
        if (key !== null) {
          if (event.type.endsWith('.removed')) this.db.delete(mirror).where(and(eq(mirror.topic, event.topic), eq(mirror.key, key))).run();
          else {
            const old = this.db.select({ value: mirror.value }).from(mirror).where(and(eq(mirror.topic, event.topic), eq(mirror.key, key))).get();
            const merged = JSON.stringify({ ...(old ? JSON.parse(old.value) : {}), ...(event.payload as object) });
            this.db
              .insert(mirror)
              .values({ topic: event.topic, key, value: merged, seq: event.seq, updatedAt: Date.now() })
              .onConflictDoUpdate({ target: [mirror.topic, mirror.key], set: { value: merged, seq: event.seq, updatedAt: Date.now() } })
              .run();
          }
        }
        last = event.seq;
        applied.push(event);
      }
      if (applied.length) this.db.delete(events).where(lt(events.seq, last - EVENTS_KEPT + 1)).run();
      return applied;
    });
  }

  /** One entity as merged so far, or null. */
  entity(topic: string, key: string): unknown {
    const row = this.db.select({ value: mirror.value }).from(mirror).where(and(eq(mirror.topic, topic), eq(mirror.key, key))).get();
    return row ? JSON.parse(row.value) : null;
  }

  /** Every entity, grouped by topic, in key order. */
  snapshot(): { seq: number; topics: Record<string, unknown[]> } {
    const topics: Record<string, unknown[]> = {};
    for (const row of this.db.select().from(mirror).orderBy(asc(mirror.topic), asc(mirror.key)).all()) (topics[row.topic] ??= []).push(JSON.parse(row.value));
    return { seq: this.lastSeq(), topics };
  }

  /**
   * Events after `seq` (optionally only some topics), oldest first; `complete` is false
   * when older ones were pruned, and the caller should reload the snapshot instead.
   */
  after(seq: number, topics?: string[], limit = 500): { events: OutboxEvent[]; complete: boolean } {
    const oldest = this.db.select({ seq: sql<number | null>`min(${events.seq})` }).from(events).get()?.seq ?? null;
    const where = topics?.length ? and(gt(events.seq, seq), inArray(events.topic, topics)) : gt(events.seq, seq);
    const rows = this.db.select().from(events).where(where).orderBy(asc(events.seq)).limit(limit).all();
    return {
      events: rows.map((r) => ({ seq: r.seq, topic: r.topic, type: r.type, at: r.at, payload: JSON.parse(r.payload) })),
      complete: oldest === null || seq >= oldest - 1 || seq >= this.lastSeq(),
    };
  }

  /** The newest events, newest first (for a debugging view). */
  recent(limit = 50): OutboxEvent[] {
    return this.db
      .select()
      .from(events)
      .orderBy(desc(events.seq))
      .limit(limit)
      .all()
      .map((r) => ({ seq: r.seq, topic: r.topic, type: r.type, at: r.at, payload: JSON.parse(r.payload) }));
  }
}
