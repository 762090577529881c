/**
 * @module
 * Sends the outbox to the edge: after each welcome from where the edge says it has
 * applied (its `ackedSeq`), then whatever is written next, one batch in flight at a time.
 * The edge applies each sequence number once, so a batch resent after a drop is harmless;
 * acked rows are kept a while (the newest KEEP_ACKED) in case the edge loses its state.
 */
import { and, asc, gt, lte, sql } from 'drizzle-orm';
import { EVENTS_BATCH, type OutboxEvent } from '@homeport/shared';
import { schema, type Store } from '../db/index.ts';

const KEEP_ACKED = 1000;

export interface OutboxLink {
  /** sends a control message if the tunnel is up; returns whether it went out */
  send(message: { t: 'events'; events: OutboxEvent[] }): boolean;
}

export class OutboxSender {
  /** everything up to here is at the edge (or in flight); null while offline */
  #sentUpTo: number | null = null;
  #inFlight = false;
  #pumping: Promise<void> | null = null;
  #again = false;

  constructor(
    private readonly store: Store,
    private readonly link: OutboxLink,
    private readonly log: (message: string) => void = () => {},
  ) {
    store.on('outbox', () => void this.pump());
  }

  /** The tunnel is (re)connected and the edge has applied up to `ackedSeq`. */
  onWelcome(ackedSeq: number) {
    this.#sentUpTo = ackedSeq;
    this.#inFlight = false;
    // A batch the edge applied just before a drop lost its ack with the old connection: what
    // the welcome says the edge has is acked too, or those rows would look pending for ever.
    void this.#recordAcked(ackedSeq)
      .catch((error: Error) => this.log(`outbox: could not record the edge's ack: ${error.message}`))
      .finally(() => void this.pump());
  }

  async #recordAcked(seq: number) {
    if (!Number.isSafeInteger(seq) || seq <= 0) return;
    await this.store.db.update(schema.syncState).set({ ackedSeq: sql`max(${schema.syncState.ackedSeq}, ${seq})`, updatedAt: Date.now() }).where(sql`${schema.syncState.id} = 1`);
  }

  onOffline() {
    this.#sentUpTo = null;
    this.#inFlight = false;
  }

  async onAck(seq: number) {
    if (!Number.isSafeInteger(seq)) return;
    await this.#recordAcked(seq);
    await this.store.db.delete(schema.outbox).where(lte(schema.outbox.seq, seq - KEEP_ACKED));
    this.#inFlight = false;
    await this.pump();
  }

  /** Sends the next batch if the tunnel is up and none is waiting for its ack. */
  pump(): Promise<void> {
    // A pump asked for while one runs (a welcome, an ack, a new row) runs again after it:
    // the running one may have read the state from before.
    this.#again = true;
    this.#pumping ??= (async () => {
      while (this.#again) {
        this.#again = false;
        await this.#sendNext();
      }
    })().finally(() => (this.#pumping = null));
    return this.#pumping;
  }

  async #sendNext() {
    if (this.#sentUpTo === null || this.#inFlight) return;
    const from = this.#sentUpTo;
    const rows = await this.store.db.select().from(schema.outbox).where(and(gt(schema.outbox.seq, from))).orderBy(asc(schema.outbox.seq)).limit(EVENTS_BATCH);
    if (!rows.length || this.#sentUpTo !== from) return;
    const events = rows.map((r) => ({ seq: r.seq, topic: r.topic, type: r.type, at: r.at, payload: JSON.parse(r.payload) as unknown }));
    if (!this.link.send({ t: 'events', events })) return;
    this.#inFlight = true;
    this.#sentUpTo = events.at(-1)!.seq;
    if (rows[0].seq !== from + 1 && from > 0) this.log(`outbox: the edge had applied up to ${from}; rows ${from + 1}-${rows[0].seq - 1} were pruned here, so its mirror misses them`);
  }

  /** What the node believes the edge has (for `homeport status`). */
  async status(): Promise<{ ackedSeq: number; pending: number }> {
    const state = await this.store.db.select().from(schema.syncState).where(sql`${schema.syncState.id} = 1`);
    const ackedSeq = state[0]?.ackedSeq ?? 0;
    const [{ n }] = await this.store.db.select({ n: sql<number>`count(*)` }).from(schema.outbox).where(gt(schema.outbox.seq, ackedSeq));
    return { ackedSeq, pending: Number(n) };
  }
}
