/**
 * @module
 * Migrations for a Durable Object's SQLite, refusing a database a newer edge version
 * already migrated (after a rollback): drizzle's migrator would skip ahead silently and
 * this code would then misread tables it does not know. Refusing keeps the data intact.
 */
import type { DrizzleSqliteDODatabase } from 'drizzle-orm/durable-sqlite';
import { migrate } from 'drizzle-orm/durable-sqlite/migrator';

type Migrations = Parameters<typeof migrate>[1];

export class SchemaTooNewError extends Error {}

export async function migrateOrRefuse(storage: DurableObjectStorage, db: DrizzleSqliteDODatabase<Record<string, unknown>>, migrations: Migrations, what: string): Promise<void> {
  const shipped = Math.max(0, ...migrations.journal.entries.map((e) => e.when));
  const table = storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").toArray();
  if (table.length) {
    const [row] = storage.sql.exec<{ newest: number | null }>('SELECT max(created_at) AS newest FROM __drizzle_migrations').toArray();
    const newest = Number(row?.newest ?? 0);
    if (newest > shipped)
      throw new SchemaTooNewError(
        `${what} was migrated by a newer edge version (its newest migration is from ${new Date(newest).toISOString()}, this version's from ${new Date(shipped).toISOString()}). Nothing was changed: deploy the newer version again.`,
      );
  }
  await migrate(db, migrations);
}
