/**
 * @module
 * Opens homeportd's libSQL file, refuses one migrated by a newer homeportd, applies
 * the shipped migrations and hands out the drizzle database. Writes go through
 * `store.write()`, which runs one transaction at a time (see below).
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from '@libsql/client';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import * as schema from './schema.ts';

export { schema };
export type HomeDb = LibSQLDatabase<typeof schema>;
export type Tx = Parameters<Parameters<HomeDb['transaction']>[0]>[0];

/** migrations/home at the repository root (the Dockerfile copies it next to homenode/). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/home', import.meta.url));
const MIGRATIONS_TABLE = '__drizzle_migrations';

/** The file holds migrations this homeportd does not ship: it was opened by a newer one. */
export class SchemaTooNewError extends Error {}

/** The store a write() transaction belongs to, so recordChange() can announce its rows. */
const stores = new WeakMap<Tx, Store>();

export interface StoreEvents {
  /** after a committed write that added outbox rows */
  outbox: [];
}

export class Store extends EventEmitter<StoreEvents> {
  #queue: Promise<unknown> = Promise.resolve();
  #pendingChanges = 0;

  constructor(
    readonly client: Client,
    readonly db: HomeDb,
    readonly path: string,
  ) {
    super();
  }

  /**
   * Runs `fn` in a write transaction. Transactions run one after another: each holds
   * its own pooled connection, and SQLite's busy wait would block Node's only thread
   * while the transaction holding the lock waits for that same thread.
   */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      const before = this.#pendingChanges;
      const result = await this.db.transaction((tx) => {
        stores.set(tx, this);
        return fn(tx);
      });
      if (this.#pendingChanges !== before) this.emit('outbox');
      return result;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Counts outbox rows written inside write(), to announce them after commit. */
  noteChange() {
    this.#pendingChanges++;
  }

  close() {
    this.client.close();
  }
}

/**
 * Appends a change to the outbox inside the transaction that makes it, so the edge's
 * mirror can never miss a committed change nor see one that was rolled back.
 */
export async function recordChange(tx: Tx, topic: string, type: string, payload: unknown): Promise<void> {
  await tx.insert(schema.outbox).values({ topic, type, payload: JSON.stringify(payload), at: Date.now() });
  stores.get(tx)?.noteChange();
}

/** Ensures the code knows every migration the file has seen; throws SchemaTooNewError if not. */
async function refuseNewerSchema(client: Client, path: string, migrationsFolder: string) {
  const shipped = readMigrationFiles({ migrationsFolder });
  const table = await client.execute({ sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", args: [MIGRATIONS_TABLE] });
  if (!table.rows.length) return;
  const applied = await client.execute(`SELECT hash, created_at FROM ${MIGRATIONS_TABLE} ORDER BY created_at`);
  const known = new Set(shipped.map((m) => m.folderMillis));
  const unknown = applied.rows.filter((row) => !known.has(Number(row.created_at)));
  if (!unknown.length) return;
  const newest = Math.max(...unknown.map((row) => Number(row.created_at)));
  const ours = shipped.length ? new Date(Math.max(...shipped.map((m) => m.folderMillis))).toISOString() : 'none';
  throw new SchemaTooNewError(
    `${path} was migrated by a newer homeportd: it has ${unknown.length} migration(s) this version does not ship ` +
      `(the newest from ${new Date(newest).toISOString()}; this version's newest is from ${ours}). ` +
      'Nothing was changed. Run the newer homeportd again, or restore a copy of the file made by this version.',
  );
}

export interface OpenOptions {
  /** defaults to `<dataDir>/homeport.db` */
  path?: string;
  migrationsFolder?: string;
}

/** Opens (creating if needed) and migrates the node's database. */
export async function openStore(dataDir: string, options: OpenOptions = {}): Promise<Store> {
  const path = options.path ?? join(dataDir, 'homeport.db');
  const migrationsFolder = options.migrationsFolder ?? MIGRATIONS_DIR;
  const client = createClient({ url: `file:${path}`, timeout: 5000 });
  try {
    // WAL: readers on the pool's other connections never wait for a writer.
    await client.execute('PRAGMA journal_mode = WAL');
    await refuseNewerSchema(client, path, migrationsFolder);
    const db = drizzle(client, { schema });
    await migrate(db, { migrationsFolder, migrationsTable: MIGRATIONS_TABLE });
    await db.insert(schema.syncState).values({ id: 1, ackedSeq: 0, updatedAt: Date.now() }).onConflictDoNothing();
    return new Store(client, db, path);
  } catch (error) {
    client.close();
    throw error;
  }
}
