/**
 * @module
 * Home nodes and pairing. The owner creates a short-lived, single-use pairing code
 * (dashboard or CLI); `homeport pair <edge url> <code>` on the node trades it at
 * POST /api/pair for a long-lived node token, which the edge keeps only as a SHA-256
 * digest. Nodes are listed, renamed and revoked per owner; revoking closes the node's
 * tunnel at once and its shares stop answering.
 *
 *   POST   /api/pair                 {code, name}      (no sign-in: the code is the credential)
 *   POST   /api/pairing-codes                          → {code, expiresAt, command}
 *   GET    /api/nodes                                  → {nodes}
 *   GET    /api/nodes/:node
 *   PATCH  /api/nodes/:node          {name}
 *   DELETE /api/nodes/:node                            (revoke)
 */
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import { isValidNodeId } from '@homeport/shared';
import { jsonBody } from '@homeport/shared/json-body';
import { pairBody, renameNodeBody } from '@homeport/shared/schemas/node-names';
import { clientIpOf } from '../access.ts';
import { configOf, shareUrlsOf, type EdgeConfig, type Env } from '../env.ts';
import { hubCall } from '../hub-client.ts';
import { directoryOf, type NodeInfo } from '../identity/directory.ts';
import type { ApiEnv } from '../identity/middleware.ts';
import type { Principal } from '../identity/principal.ts';
import { randomSecret, sha256Hex } from '../identity/secrets.ts';
import { webhooksOf } from '../webhooks/webhooks-do.ts';

export const NODE_TOKEN_PREFIX = 'hpn_';
const NODE_TOKEN_SHAPE = /^hpn_[A-Za-z0-9_-]{43}$/;
/** No 0/O, 1/I/L: codes are read aloud and typed on another machine. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_SHAPE = /^[A-Z2-9]{8}$/;
/** Wrong codes per client IP per window: 8 characters of 31 make guessing hopeless at this rate. */
const PAIR_LIMIT = 10;
const PAIR_WINDOW_MS = 10 * 60_000;
/** Pairing and rename bodies are a code and a name. */
const MAX_NODE_BODY = 4 * 1024;

export type NodeEnv = ApiEnv & { Variables: { node: NodeInfo } };

function newPairingCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return [...bytes].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('');
}

/** "abcd-efgh", "ABCD EFGH" → "ABCDEFGH". */
export function normalizeCode(text: string): string {
  return text.toUpperCase().replace(/[\s-]/g, '');
}

/** Whether a caller may see and manage a node: its owner, or the loopback owner of a local-mode edge. */
export function mayManage(principal: Principal, node: NodeInfo): boolean {
  return principal.via === 'local' || (node.ownerId !== null && node.ownerId === principal.userId);
}

/** Tells a hub who owns its node (pairing, adoption by the first account). */
export async function tellHubOwner(env: Env, nodeId: string, ownerId: string | null): Promise<void> {
  await hubCall(env, nodeId, 'set-owner', { ownerId });
}

/** After ownerOnly on /api/nodes/:node and below: the node must exist, be live and be the caller's. Others get the same 404. */
export function nodeAccess() {
  return createMiddleware<NodeEnv>(async function nodeAccess(c, next) {
    const id = c.req.param('node') ?? '';
    if (!isValidNodeId(id)) throw new HTTPException(400, { message: 'not a node id' });
    const node = await directoryOf(c.env).node(id);
    if (!node || node.revokedAt !== null || !mayManage(c.get('principal'), node)) throw new HTTPException(404, { message: 'no such node' });
    c.set('node', node);
    await next();
  });
}

async function nodeView(env: Env, config: EdgeConfig, node: NodeInfo) {
  const state = await hubCall<{ online: boolean; lastSeen: number | null; agent: string | null }>(env, node.id, 'state');
  return { id: node.id, name: node.name, createdAt: node.createdAt, online: state.online, lastSeen: state.lastSeen, agent: state.agent, ...shareUrlsOf(config, node.id) };
}

/** POST /api/pair: mounted before the sign-in guard. */
export const pairRoutes = new Hono<ApiEnv>();

pairRoutes.post('/pair', jsonBody(pairBody, { maxBytes: MAX_NODE_BODY }), async (c) => {
  const limitKey = `pair-ip:${clientIpOf(c.req.raw, configOf(c.env))}`;
  const wait = await directoryOf(c.env).limitWait(limitKey, PAIR_LIMIT);
  if (wait > 0) {
    c.header('retry-after', String(Math.ceil(wait / 1000)));
    throw new HTTPException(429, { message: `too many pairing attempts; try again in ${Math.ceil(wait / 1000)} seconds` });
  }
  const { name, ...body } = c.req.valid('json');
  const code = normalizeCode(body.code);
  const token = randomSecret(NODE_TOKEN_PREFIX);
  const node = CODE_SHAPE.test(code) ? await directoryOf(c.env).pair(await sha256Hex(code), name, await sha256Hex(token)) : null;
  // One answer for unknown, used and expired codes: a guesser learns nothing.
  if (!node) await directoryOf(c.env).hitLimit(limitKey, PAIR_LIMIT, PAIR_WINDOW_MS);
  if (!node) throw new HTTPException(400, { message: 'that pairing code is not valid: it may be mistyped, used already or expired (codes last 10 minutes); create a new one' });
  await tellHubOwner(c.env, node.id, node.ownerId);
  const config = configOf(c.env);
  // The only time the token is shown.
  return c.json({ node: { id: node.id, name: node.name }, token, edgeUrl: `${config.scheme}://${config.dashboardHost}`, ...shareUrlsOf(config, node.id) }, 201);
});

/** Mounted after ownerOnly, with nodeAccess on /api/nodes/:node and below (index.ts). */
export const nodeRoutes = new Hono<NodeEnv>();

nodeRoutes.post('/pairing-codes', async (c) => {
  const principal = c.get('principal');
  const code = newPairingCode();
  const { expiresAt } = await directoryOf(c.env).createPairingCode(principal.via === 'local' ? null : principal.userId, await sha256Hex(code));
  const config = configOf(c.env);
  const shown = `${code.slice(0, 4)}-${code.slice(4)}`;
  return c.json({ code: shown, expiresAt, command: `npx homeport pair ${config.scheme}://${config.dashboardHost} ${shown}` }, 201);
});

nodeRoutes.get('/nodes', async (c) => {
  const principal = c.get('principal');
  const config = configOf(c.env);
  const list = await directoryOf(c.env).nodes(principal.via === 'local' ? undefined : principal.userId);
  return c.json({ nodes: await Promise.all(list.map((n) => nodeView(c.env, config, n))) });
});

nodeRoutes.get('/nodes/:node', async (c) => c.json({ node: await nodeView(c.env, configOf(c.env), c.get('node')) }));

nodeRoutes.patch('/nodes/:node', jsonBody(renameNodeBody, { maxBytes: MAX_NODE_BODY }), async (c) => {
  const { name } = c.req.valid('json');
  const node = await directoryOf(c.env).renameNode(c.get('node').id, name);
  if (!node) throw new HTTPException(404, { message: 'no such node' });
  return c.json({ node: await nodeView(c.env, configOf(c.env), node) });
});

nodeRoutes.delete('/nodes/:node', async (c) => {
  const node = await directoryOf(c.env).revokeNode(c.get('node').id);
  if (!node) throw new HTTPException(404, { message: 'no such node' });
  await hubCall(c.env, node.id, 'revoke', {});
  // Webhook tasks waiting for it end now, on GitHub too.
  await webhooksOf(c.env).nodeRevoked(node.id);
  return c.json({ revoked: true, node: { id: node.id, name: node.name } });
});

/** The tunnel's credential: the node token (shape-checked before any lookup), or null. */
export async function nodeOfToken(env: Env, token: string): Promise<NodeInfo | null> {
  if (!NODE_TOKEN_SHAPE.test(token)) return null;
  return directoryOf(env).nodeByToken(await sha256Hex(token));
}
