/**
 * @module
 * Client facts the guards share: the client address, the loopback owner of a
 * local-mode edge (kept until the web app has a sign-in screen), and constant-time
 * secret comparison. Accounts, sessions and the API's guards live in identity/.
 */
import type { EdgeConfig } from './env.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * The client's address: Cloudflare's cf-connecting-ip. Only an edge started with the
 * test-only var TRUST_TEST_CLIENT_IP=1 lets `x-test-client-ip` stand in for it, so
 * end-to-end tests (whose browsers are all on loopback) can play a visitor from elsewhere.
 */
export function clientIpOf(request: Request, config?: Pick<EdgeConfig, 'trustTestClientIp'>): string {
  const test = config?.trustTestClientIp ? request.headers.get('x-test-client-ip') : null;
  return test || (request.headers.get('cf-connecting-ip') ?? '');
}

export function isLocalOwner(request: Request, config: EdgeConfig): boolean {
  return config.localMode && LOOPBACK.test(clientIpOf(request, config));
}

/** Constant-time comparison of two secrets (digests first, so lengths do not leak). */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([crypto.subtle.digest('SHA-256', enc.encode(a)), crypto.subtle.digest('SHA-256', enc.encode(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}
