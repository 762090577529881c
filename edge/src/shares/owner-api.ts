/**
 * @module
 * The dashboard half of the owner's handshake onto a share origin (owner-access.ts):
 *   GET  /api/nodes/:node/share-access?next=<share URL>  → a page naming the share origin
 *        and the node, with one button (nothing happens without the owner's click)
 *   POST /api/nodes/:node/share-access  (form: next)     → 303 to the share origin with a
 *        one-time ticket; same-origin only (sameOrigin: the dashboard's Origin)
 * Mounted after ownerOnly and nodeAccess, so the caller is signed in and may manage the node;
 * the node's hub still checks that the caller is its owner before it mints a ticket.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod/v4';
import { configOf, shareUrlsFrom, type EdgeConfig } from '../env.ts';
import { hubCall } from '../hub-client.ts';
import type { ApiEnv } from '../identity/middleware.ts';
import { shareTargetOf, type ShareTarget } from './owner-access.ts';
import { accessPage } from './owner-page.ts';
import { OWNER_PATH } from './policy.ts';

export const shareAccessApi = new Hono<ApiEnv>();

const nextSchema = z.object({ next: z.string().max(4096) });
const badInput = (result: { success: boolean }) => {
  if (!result.success) throw new HTTPException(400, { message: '"next" must be the URL of a share, like https://3000-home.<share host>/' });
};

function targetOf(next: string, node: string, config: EdgeConfig): ShareTarget {
  const target = shareTargetOf(next, node, config);
  if (!target)
    throw new HTTPException(400, {
      message: `"next" must be a URL of this node's shares at their own origin, like ${shareUrlsFrom(config, node).subdomainUrl(3000)} (the path form serves public shares only)`,
    });
  return target;
}

shareAccessApi.get('/api/nodes/:node/share-access', zValidator('query', nextSchema, badInput), (c) => {
  // A top-level navigation only: a page's script or frame must not even see this page.
  const dest = c.req.header('sec-fetch-dest');
  if (dest !== undefined && dest !== 'document') throw new HTTPException(403, { message: 'open this link in the browser, not from a page' });
  const node = c.req.param('node');
  const target = targetOf(c.req.valid('query').next, node, configOf(c.env));
  return accessPage({ node, origin: target.origin, action: c.req.path, next: c.req.valid('query').next });
});

shareAccessApi.post('/api/nodes/:node/share-access', zValidator('form', nextSchema, badInput), async (c) => {
  const node = c.req.param('node');
  const target = targetOf(c.req.valid('form').next, node, configOf(c.env));
  const principal = c.get('principal');
  const answer = await hubCall<{ ticket?: string; error?: string }>(c.env, node, 'owner-ticket', {
    userId: principal.via === 'local' ? null : principal.userId,
    origin: target.origin,
  });
  if (!answer.ticket) throw new HTTPException(403, { message: answer.error ?? "only this node's owner may open its shares" });
  c.header('cache-control', 'no-store');
  c.header('referrer-policy', 'no-referrer');
  return c.redirect(`${target.origin}${target.prefix}${OWNER_PATH}?ticket=${answer.ticket}&next=${encodeURIComponent(target.path)}`, 303);
});
