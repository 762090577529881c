/**
 * @module
 * Client facts the guards share: the client address, the loopback owner of a
 * local-mode edge (kept until the web app has a sign-in screen), and constant-time
 * secret comparison. Accounts, sessions and the API's guards live in identity/.
 */
import type { EdgeConfig } from './env.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export function clientIpOf(request: Request): string {
  return request.headers.get('cf-connecting-ip') ?? '';
}

export function isLocalOwner(request: Request, config: EdgeConfig): boolean {
  return config.localMode && LOOPBACK.test(clientIpOf(request));
}

/** Constant-time comparison of two secrets (digests first, so lengths do not leak). */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([crypto.subtle.digest('SHA-256', enc.encode(a)), crypto.subtle.digest('SHA-256', enc.encode(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}
