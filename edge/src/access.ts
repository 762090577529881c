/**
 * @module
 * Client facts the guards share: the client address (trusted only where Cloudflare set
 * it), the local owner's key of a local-mode edge, and constant-time secret comparison.
 * Accounts, sessions and the API's guards live in identity/.
 *
 * Nobody is the owner because of an address: a reverse tunnel or proxy in front of a
 * local edge delivers every stranger from loopback (docs/security.md).
 */
import type { EdgeConfig } from './env.ts';

/** What a local edge records as the client address: it cannot know who connects. */
export const LOCAL_CLIENT = 'local';

/**
 * The client's address. Deployed, Cloudflare sets cf-connecting-ip on every request
 * (replacing any the client sent). A local edge (`wrangler dev`) passes a client's own
 * cf-connecting-ip through, and every client arrives from loopback anyway, so there
 * the address is the constant "local": rate limits keyed on it count all clients
 * together and cannot be dodged by rotating a header. Only a test stack started with
 * TRUST_TEST_CLIENT_IP=1 lets `x-test-client-ip` stand in, so its browsers can play
 * visitors from elsewhere.
 */
export function clientIpOf(request: Request, config: Pick<EdgeConfig, 'localMode' | 'trustTestClientIp'>): string {
  if (config.trustTestClientIp) {
    const test = request.headers.get('x-test-client-ip');
    if (test) return test;
  }
  if (config.localMode) return LOCAL_CLIENT;
  return request.headers.get('cf-connecting-ip') ?? '';
}

/** The local owner's key: `hpl_` and 43 base64url characters (LOCAL_OWNER_KEY, made by `npm start`). */
export const LOCAL_KEY_PREFIX = 'hpl_';
const LOCAL_KEY_SHAPE = /^hpl_[A-Za-z0-9_-]{43}$/;

/**
 * Whether `presented` is this local-mode edge's owner key. Only a local-mode edge with a
 * well-formed key configured has a local owner at all.
 */
export async function isLocalOwnerKey(presented: string | null, config: Pick<EdgeConfig, 'localMode' | 'localOwnerKey'>): Promise<boolean> {
  if (!config.localMode || !config.localOwnerKey || !LOCAL_KEY_SHAPE.test(config.localOwnerKey)) return false;
  if (presented === null || !LOCAL_KEY_SHAPE.test(presented)) return false;
  return secretsEqual(presented, config.localOwnerKey);
}

/** Constant-time comparison of two secrets (digests first, so lengths do not leak). */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([crypto.subtle.digest('SHA-256', enc.encode(a)), crypto.subtle.digest('SHA-256', enc.encode(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}
