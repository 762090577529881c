/**
 * @module
 * Who may use the API and open shares. Until accounts and share policies land, the
 * only owner is the one on the edge's own machine in local mode: requests from
 * loopback. Everything else is refused, so nothing is public by default.
 */
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { EdgeConfig, Env } from './env.ts';
import { configOf } from './env.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export function clientIpOf(request: Request): string {
  return request.headers.get('cf-connecting-ip') ?? '';
}

export function isLocalOwner(request: Request, config: EdgeConfig): boolean {
  return config.localMode && LOOPBACK.test(clientIpOf(request));
}

/** Middleware: the request must come from the owner. */
export function ownerOnly() {
  return createMiddleware<{ Bindings: Env }>(async function ownerOnly(c, next) {
    if (!isLocalOwner(c.req.raw, configOf(c.env)))
      throw new HTTPException(401, { message: 'Sign-in required: in local mode only this machine may use the API.' });
    await next();
  });
}

/** Constant-time comparison of two secrets (digests first, so lengths do not leak). */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([crypto.subtle.digest('SHA-256', enc.encode(a)), crypto.subtle.digest('SHA-256', enc.encode(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}
