/**
 * @module
 * The owner's operations on a node's shares, the same for the dashboard API and the
 * node's tunnel RPC: share.set, share.remove, share.list, share.log.
 */
import { RPC_METHODS, isValidPort, type AccessLogEntry, type RpcMethod, type ShareView } from '@homeport/shared';
import { shareUrlsFrom, type EdgeConfig } from '../env.ts';
import { hashPassword, randomSlug, randomToken, sha256Hex } from './crypto.ts';
import { PolicyError, checkSetParams, parseDuration } from './policy.ts';
import type { ShareRow, ShareStore } from './store.ts';

export function shareView(config: EdgeConfig, node: string, port: number, row: ShareRow | null): ShareView {
  const urls = shareUrlsFrom(config, node);
  return {
    port,
    mode: row?.mode ?? 'private',
    linkUrl: row ? urls.linkUrl(row.slug) : null,
    url: urls.subdomainUrl(port),
    subdomainUrl: urls.subdomainUrl(port),
    pathUrl: `${urls.pathBaseUrl}/${port}/`,
    expiresAt: row?.expiresAt ?? null,
    createdAt: row?.createdAt ?? null,
  };
}

function portOf(raw: unknown): number {
  const port = Number(raw);
  if (!isValidPort(port)) throw new PolicyError(`"${String(raw)}" is not a port (1-65535)`);
  return port;
}

export class ShareService {
  constructor(
    private readonly store: ShareStore,
    private readonly config: EdgeConfig,
    private readonly node: string,
  ) {}

  async call(method: string, params: Record<string, unknown>): Promise<unknown> {
    if (!RPC_METHODS.includes(method as RpcMethod)) throw new PolicyError(`unknown method "${method}"`, 404);
    switch (method as RpcMethod) {
      case 'share.set':
        return this.set(params);
      case 'share.remove':
        return this.remove(portOf(params.port));
      case 'share.list':
        return { shares: this.list() };
      case 'share.log':
        return this.log(params);
    }
  }

  list(): ShareView[] {
    return this.store.list().map((row) => shareView(this.config, this.node, row.port, row));
  }

  async set(raw: unknown): Promise<ShareView> {
    const params = checkSetParams(raw);
    const { port, mode } = params;
    if (mode === 'private') return this.remove(port);
    const now = Date.now();
    const existing = this.store.byPort(port, now);
    const row: ShareRow = {
      port,
      id: existing?.id ?? randomToken(12),
      mode,
      slug: existing?.slug ?? randomSlug(),
      passwordSalt: null,
      passwordHash: null,
      passwordIterations: null,
      tokenHash: null,
      cookieSecret: existing?.cookieSecret ?? randomToken(32),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      expiresAt: params.expiresIn ? now + parseDuration(params.expiresIn)! : null,
    };
    let accessToken: string | undefined;
    if (mode === 'password') {
      if (params.password) {
        const hash = await hashPassword(params.password);
        accessToken = randomToken(32);
        Object.assign(row, {
          passwordSalt: hash.salt,
          passwordHash: hash.hash,
          passwordIterations: hash.iterations,
          tokenHash: await sha256Hex(accessToken),
          // A new password ends every session opened with the old one.
          cookieSecret: randomToken(32),
        });
      } else if (existing?.mode === 'password') {
        Object.assign(row, { passwordSalt: existing.passwordSalt, passwordHash: existing.passwordHash, passwordIterations: existing.passwordIterations, tokenHash: existing.tokenHash });
      } else {
        throw new PolicyError('a password share needs a password');
      }
    }
    this.store.put(row);
    return { ...shareView(this.config, this.node, port, row), ...(accessToken ? { accessToken } : {}) };
  }

  remove(port: number): ShareView {
    this.store.remove(port);
    return shareView(this.config, this.node, port, null);
  }

  log(params: Record<string, unknown>): { entries: AccessLogEntry[]; next: number | null } {
    const port = portOf(params.port);
    const limit = params.limit === undefined || params.limit === null || params.limit === '' ? 50 : Number(params.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new PolicyError('limit must be a whole number from 1 to 500');
    const before = params.before === undefined || params.before === null || params.before === '' ? null : Number(params.before);
    if (before !== null && (!Number.isInteger(before) || before < 1)) throw new PolicyError('before must be an entry id from a previous page');
    const entries = this.store.logOf(port, before, limit);
    return { entries, next: entries.length === limit ? entries[entries.length - 1].id : null };
  }
}
