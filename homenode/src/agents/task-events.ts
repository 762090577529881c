/**
 * @module
 * A task's events: each is redacted, stored in `task_events` with the task's next
 * sequence number, and only then published — to local subscribers (the SSE route) and,
 * in the same transaction, to the outbox under the topic `run:<task id>` (the edge's
 * live sockets). So a reader that asks for the events after the last seq it has sees
 * every event once, in order, whatever it missed.
 *
 * The outbox copy is smaller: `assistant.delta` is left out (one row per streamed chunk
 * would flood the edge's 2000-event resume window; `assistant.text` carries each turn's
 * whole text) and long strings are cut (a tunnel batch of 200 events must fit a frame).
 * SSE and GET /api/tasks/:id/events always have every event in full.
 */
import { EventEmitter } from 'node:events';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { recordChange, schema, type Store, type Tx } from '../db/index.ts';
import { redactDeep } from './redact.ts';

export { redactDeep };

export interface TaskEvent {
  seq: number;
  type: string;
  at: number;
  payload: unknown;
}

export type Redactor = (text: string) => string;

/** Event types that stay out of the outbox (see the module comment). */
export const LOCAL_ONLY_TYPES = new Set(['assistant.delta']);
/** a string in an outbox payload is cut to this many characters */
const OUTBOX_STRING_CHARS = 1000;
/** an outbox payload whose JSON is still larger than this is replaced by a note */
const OUTBOX_PAYLOAD_CHARS = 4000;

function cutStrings(value: unknown): unknown {
  if (typeof value === 'string') return value.length > OUTBOX_STRING_CHARS ? `${value.slice(0, OUTBOX_STRING_CHARS)}… (${value.length - OUTBOX_STRING_CHARS} more characters: GET /api/tasks/<id>/events has it all)` : value;
  if (Array.isArray(value)) return value.map(cutStrings);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cutStrings(v)]));
  return value;
}

/** The payload as the outbox carries it (no top-level id/name fields: the edge mirror keeps no entity for it). */
export function outboxPayload(taskId: string, event: TaskEvent): unknown {
  let payload = cutStrings(event.payload);
  let truncated = payload !== event.payload && JSON.stringify(payload) !== JSON.stringify(event.payload);
  if (JSON.stringify(payload).length > OUTBOX_PAYLOAD_CHARS) {
    payload = null;
    truncated = true;
  }
  return { taskId, seq: event.seq, type: event.type, at: event.at, payload, ...(truncated ? { truncated: true } : {}) };
}

export interface TaskEventsEvents {
  event: [taskId: string, event: TaskEvent];
}

export class TaskEvents extends EventEmitter<TaskEventsEvents> {
  /** replaced by the manager when the secrets it must hide change */
  redact: Redactor = (text) => text;

  constructor(private readonly store: Store) {
    super();
    this.setMaxListeners(0);
  }

  /**
   * Stores one event (redacted) with the next seq, and the outbox copy, in one
   * transaction after `also` (the task row's change); then publishes it.
   */
  async append(taskId: string, type: string, payload: unknown, also?: (tx: Tx) => Promise<void>): Promise<TaskEvent> {
    const clean = redactDeep(payload ?? {}, this.redact);
    const at = Date.now();
    const event = await this.store.write(async (tx) => {
      // First the row's change (a new task's row must exist before its first event).
      await also?.(tx);
      const [{ last }] = await tx
        .select({ last: sql<number>`coalesce(max(${schema.taskEvents.seq}), 0)` })
        .from(schema.taskEvents)
        .where(eq(schema.taskEvents.taskId, taskId));
      const event: TaskEvent = { seq: Number(last) + 1, type, at, payload: clean };
      await tx.insert(schema.taskEvents).values({ taskId, seq: event.seq, type, at, payload: JSON.stringify(clean) });
      if (!LOCAL_ONLY_TYPES.has(type)) await recordChange(tx, `run:${taskId}`, type, outboxPayload(taskId, event));
      return event;
    });
    this.emit('event', taskId, event);
    return event;
  }

  /** Stored events after `after`, oldest first. */
  async list(taskId: string, after = 0, limit = 1000): Promise<TaskEvent[]> {
    const rows = await this.store.db
      .select()
      .from(schema.taskEvents)
      .where(and(eq(schema.taskEvents.taskId, taskId), gt(schema.taskEvents.seq, after)))
      .orderBy(asc(schema.taskEvents.seq))
      .limit(limit);
    return rows.map((r) => ({ seq: r.seq, type: r.type, at: r.at, payload: JSON.parse(r.payload) as unknown }));
  }

  /** Calls `fn` with each event of `taskId` published from now on; returns the unsubscribe. */
  subscribe(taskId: string, fn: (event: TaskEvent) => void): () => void {
    const listener = (id: string, event: TaskEvent) => {
      if (id === taskId) fn(event);
    };
    this.on('event', listener);
    return () => this.off('event', listener);
  }
}
