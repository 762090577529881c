/**
 * @module
 * The dashboard half of the owner's handshake onto a share host (owner-access.ts):
 *   GET /api/nodes/:node/share-access?next=<share URL>   → 303 to the share origin with a one-time ticket
 * Mounted after ownerOnly and nodeAccess, so the caller is signed in and may manage the node;
 * the node's hub still checks that the caller is its owner before it mints a ticket.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { configOf, shareUrlsOf } from '../env.ts';
import { hubCall } from '../hub-client.ts';
import type { ApiEnv } from '../identity/middleware.ts';
import { shareTargetOf } from './owner-access.ts';
import { OWNER_PATH } from './policy.ts';

export const shareAccessApi = new Hono<ApiEnv>();

shareAccessApi.get('/api/nodes/:node/share-access', async (c) => {
  // A top-level navigation only: a page's script or image must not start the handshake behind the owner's back.
  const dest = c.req.header('sec-fetch-dest');
  if (dest !== undefined && dest !== 'document') throw new HTTPException(403, { message: 'open this link in the browser, not from a page' });
  const node = c.req.param('node');
  const config = configOf(c.env);
  const target = shareTargetOf(c.req.query('next'), node, config);
  if (!target) throw new HTTPException(400, { message: `"next" must be a URL of this node's shares, like ${shareUrlsOf(config, node).shareBaseUrl}/3000/` });
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
