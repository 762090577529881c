import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, SchemaTooNewError, openStore, recordChange, schema, type Store } from './index.ts';

const dirs: string[] = [];
const stores: Store[] = [];
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'homeport-db-'));
  dirs.push(dir);
  return dir;
}
async function open(dir: string, migrationsFolder?: string) {
  const store = await openStore(dir, { migrationsFolder });
  stores.push(store);
  return store;
}

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A copy of the shipped migrations plus one more, as a newer homeportd would ship them. */
function newerMigrations(): string {
  const folder = join(tempDir(), 'migrations');
  cpSync(MIGRATIONS_DIR, folder, { recursive: true });
  const journalPath = join(folder, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8'));
  const last = journal.entries.at(-1);
  journal.entries.push({ idx: last.idx + 1, version: last.version, when: last.when + 1000, tag: '9999_future', breakpoints: true });
  writeFileSync(journalPath, JSON.stringify(journal));
  writeFileSync(join(folder, '9999_future.sql'), 'CREATE TABLE `future_things` (`id` integer PRIMARY KEY NOT NULL);');
  return folder;
}

describe('openStore', () => {
  it('should create homeport.db with every table and the sync_state row', async () => {
    const dir = tempDir();
    const store = await open(dir);
    expect(store.path).toBe(join(dir, 'homeport.db'));
    const tables = await store.client.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    const names = tables.rows.map((r) => r.name);
    for (const t of ['repos', 'servers', 'settings', 'secrets', 'outbox', 'sync_state']) expect(names).toContain(t);
    expect(await store.db.select().from(schema.syncState)).toEqual([expect.objectContaining({ id: 1, ackedSeq: 0 })]);
  });

  it('should keep data and apply nothing twice when opened again', async () => {
    const dir = tempDir();
    const first = await open(dir);
    await first.write((tx) => tx.insert(schema.settings).values({ key: 'k', value: '1', updatedAt: 1 }));
    first.close();
    const second = await open(dir);
    expect(await second.db.select().from(schema.settings)).toEqual([{ key: 'k', value: '1', updatedAt: 1 }]);
    const applied = await second.client.execute('SELECT count(*) AS n FROM __drizzle_migrations');
    const shipped = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')).entries.length;
    expect(Number(applied.rows[0].n)).toBe(shipped);
  });

  it('should refuse a file migrated by a newer homeportd, and change nothing in it', async () => {
    const dir = tempDir();
    (await open(dir, newerMigrations())).close();
    const before = readFileSync(join(dir, 'homeport.db'));

    const error = await openStore(dir).catch((e) => e);
    expect(error).toBeInstanceOf(SchemaTooNewError);
    expect(error.message).toContain('migrated by a newer homeportd');
    expect(error.message).toContain('Nothing was changed');

    const client = createClient({ url: `file:${join(dir, 'homeport.db')}` });
    const rows = await client.execute('SELECT count(*) AS n FROM __drizzle_migrations');
    client.close();
    const shipped = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')).entries.length;
    expect(Number(rows.rows[0].n)).toBe(shipped + 1);
    expect(readFileSync(join(dir, 'homeport.db')).equals(before)).toBe(true);
  });
});

describe('recordChange', () => {
  it('should commit the outbox row with the change, in sequence', async () => {
    const store = await open(tempDir());
    let announced = 0;
    store.on('outbox', () => announced++);
    await store.write(async (tx) => {
      await tx.insert(schema.settings).values({ key: 'a', value: '1', updatedAt: 1 });
      await recordChange(tx, 'settings', 'setting.updated', { key: 'a', value: 1 });
    });
    await store.write(async (tx) => {
      await tx.update(schema.settings).set({ value: '2' }).where(eq(schema.settings.key, 'a'));
      await recordChange(tx, 'settings', 'setting.updated', { key: 'a', value: 2 });
    });
    const rows = await store.db.select().from(schema.outbox);
    expect(rows.map((r) => [r.seq, r.topic, r.type, JSON.parse(r.payload)])).toEqual([
      [1, 'settings', 'setting.updated', { key: 'a', value: 1 }],
      [2, 'settings', 'setting.updated', { key: 'a', value: 2 }],
    ]);
    expect(announced).toBe(2);
  });

  it('should roll the outbox row back with a change that fails', async () => {
    const store = await open(tempDir());
    let announced = 0;
    store.on('outbox', () => announced++);
    const failed = store.write(async (tx) => {
      await tx.insert(schema.settings).values({ key: 'b', value: '1', updatedAt: 1 });
      await recordChange(tx, 'settings', 'setting.updated', { key: 'b' });
      throw new Error('disk on fire');
    });
    await expect(failed).rejects.toThrow('disk on fire');
    expect(await store.db.select().from(schema.settings)).toEqual([]);
    expect(await store.db.select().from(schema.outbox)).toEqual([]);
    expect(announced).toBe(0);
  });

  it('should run concurrent writes one after another without a busy error', async () => {
    const store = await open(tempDir());
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.write(async (tx) => {
          await tx.insert(schema.settings).values({ key: `k${i}`, value: String(i), updatedAt: i });
          await new Promise((r) => setTimeout(r, 1));
          await recordChange(tx, 'settings', 'setting.updated', { key: `k${i}` });
        }),
      ),
    );
    expect((await store.db.select().from(schema.outbox)).map((r) => JSON.parse(r.payload).key)).toEqual(Array.from({ length: 20 }, (_, i) => `k${i}`));
  });
});
