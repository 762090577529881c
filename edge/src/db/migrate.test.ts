import { env, runInDurableObject } from 'cloudflare:test';
import { drizzle } from 'drizzle-orm/durable-sqlite';
import { describe, expect, it } from 'vitest';
import migrations from '../../../migrations/edge/node-hub/migrations.js';
import type { Env } from '../env.ts';
import { SchemaTooNewError, migrateOrRefuse } from './migrate.ts';

describe('Durable Object migrations', () => {
  it('should refuse a database a newer edge migrated, changing nothing', async () => {
    const e = env as Env;
    const hub = e.NODE_HUB.get(e.NODE_HUB.idFromName('migrate-test'));
    await runInDurableObject(hub, async (_, state) => {
      // The hub migrated itself at start; now a newer version's migration shows up.
      const before = state.storage.sql.exec('SELECT count(*) AS n FROM __drizzle_migrations').one().n;
      await migrateOrRefuse(state.storage, drizzle(state.storage), migrations, 'this hub');
      const future = Date.now() + 365 * 24 * 3600_000;
      state.storage.sql.exec('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)', 'from-the-future', future);
      await expect(migrateOrRefuse(state.storage, drizzle(state.storage), migrations, 'this hub')).rejects.toThrow(SchemaTooNewError);
      await expect(migrateOrRefuse(state.storage, drizzle(state.storage), migrations, 'this hub')).rejects.toThrow(/newer edge version.*deploy the newer version/);
      expect(state.storage.sql.exec('SELECT count(*) AS n FROM __drizzle_migrations').one().n).toBe(Number(before) + 1);
    });
  });
});
