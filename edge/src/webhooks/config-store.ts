/**
 * @module
 * What the owner sets up (drizzle over the Webhooks object's SQLite): GitHub repositories
 * mapped to a home node and a local repo, and generic endpoints with their sealed secrets.
 * The Worker has checked that the caller manages the node before anything is stored here.
 */
import { asc, eq, lt } from 'drizzle-orm';
import type { DrizzleSqliteDODatabase } from 'drizzle-orm/durable-sqlite';
import { endpoints, githubRepos, seenSignatures } from './schema.ts';

export type RepoMappingRow = typeof githubRepos.$inferSelect;
export type EndpointRow = typeof endpoints.$inferSelect;

export interface RepoMapping {
  repo: string;
  node: string;
  localRepo: string;
  allowCollaborators: boolean;
  allowedUsers: string[];
  onDenied: 'reply' | 'ignore';
  ownerId: string;
  createdAt: number;
  updatedAt: number;
}

export interface EndpointView {
  id: string;
  name: string;
  node: string;
  repo: string | null;
  ratePerMinute: number;
  ownerId: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export function mappingOf(row: RepoMappingRow): RepoMapping {
  return {
    repo: row.fullName,
    node: row.node,
    localRepo: row.repo,
    allowCollaborators: row.allowCollaborators,
    allowedUsers: JSON.parse(row.allowedUsers) as string[],
    onDenied: row.onDenied,
    ownerId: row.ownerId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function endpointView(row: EndpointRow): EndpointView {
  const { sealedSecret: _, ...view } = row;
  return view;
}

export class ConfigStore {
  constructor(private readonly db: DrizzleSqliteDODatabase<Record<string, never>>) {}

  mapping(fullName: string): RepoMappingRow | null {
    return this.db.select().from(githubRepos).where(eq(githubRepos.fullName, fullName.toLowerCase())).get() ?? null;
  }

  mappings(ownerId?: string): RepoMappingRow[] {
    const q = this.db.select().from(githubRepos);
    return (ownerId === undefined ? q : q.where(eq(githubRepos.ownerId, ownerId))).orderBy(asc(githubRepos.fullName)).all();
  }

  /** Creates or replaces a mapping; someone else's mapping is only replaced when `override`. */
  putMapping(input: Omit<RepoMapping, 'createdAt' | 'updatedAt'>, override: boolean): { mapping: RepoMapping; created: boolean } | { takenBy: string } {
    const fullName = input.repo.toLowerCase();
    const existing = this.mapping(fullName);
    if (existing && existing.ownerId !== input.ownerId && !override) return { takenBy: existing.ownerId };
    const now = Date.now();
    const values = {
      fullName,
      ownerId: input.ownerId,
      node: input.node,
      repo: input.localRepo,
      allowCollaborators: input.allowCollaborators,
      allowedUsers: JSON.stringify(input.allowedUsers),
      onDenied: input.onDenied,
      updatedAt: now,
    };
    const row = this.db
      .insert(githubRepos)
      .values({ ...values, createdAt: now })
      .onConflictDoUpdate({ target: githubRepos.fullName, set: values })
      .returning()
      .get();
    return { mapping: mappingOf(row), created: !existing };
  }

  deleteMapping(fullName: string): boolean {
    return this.db.delete(githubRepos).where(eq(githubRepos.fullName, fullName.toLowerCase())).returning().all().length > 0;
  }

  endpoint(id: string): EndpointRow | null {
    return this.db.select().from(endpoints).where(eq(endpoints.id, id)).get() ?? null;
  }

  endpoints(ownerId?: string): EndpointRow[] {
    const q = this.db.select().from(endpoints);
    return (ownerId === undefined ? q : q.where(eq(endpoints.ownerId, ownerId))).orderBy(asc(endpoints.createdAt)).all();
  }

  createEndpoint(row: Omit<EndpointRow, 'createdAt' | 'lastUsedAt'>): EndpointRow {
    return this.db
      .insert(endpoints)
      .values({ ...row, createdAt: Date.now() })
      .returning()
      .get();
  }

  setEndpointSecret(id: string, sealedSecret: string): EndpointRow | null {
    return this.db.update(endpoints).set({ sealedSecret }).where(eq(endpoints.id, id)).returning().get() ?? null;
  }

  touchEndpoint(id: string) {
    this.db.update(endpoints).set({ lastUsedAt: Date.now() }).where(eq(endpoints.id, id)).run();
  }

  deleteEndpoint(id: string): boolean {
    return this.db.delete(endpoints).where(eq(endpoints.id, id)).returning().all().length > 0;
  }

  /** Remembers a signature until it expires; false when it was seen already (a replay). */
  claimSignature(key: string, expiresAt: number): boolean {
    const now = Date.now();
    const seen = this.db.select().from(seenSignatures).where(eq(seenSignatures.key, key)).get();
    if (seen && seen.expiresAt > now) return false;
    this.db.insert(seenSignatures).values({ key, expiresAt }).onConflictDoUpdate({ target: seenSignatures.key, set: { expiresAt } }).run();
    return true;
  }

  pruneSignatures() {
    this.db.delete(seenSignatures).where(lt(seenSignatures.expiresAt, Date.now())).run();
  }
}
