/**
 * @module
 * The owner's webhook API (mounted after ownerOnly; GETs need the read scope, the rest
 * write). Users see and change their own mappings, endpoints and deliveries; admins and
 * the local owner see everyone's.
 *
 *   GET    /api/webhooks/github                       setup: URL, events, label, whether secret and token are set
 *   GET    /api/webhooks/github/repos                 → {repos}
 *   PUT    /api/webhooks/github/repos/:owner/:name    {node, repo, allowCollaborators?, allowedUsers?, onDenied?}
 *   DELETE /api/webhooks/github/repos/:owner/:name
 *   GET    /api/webhooks/endpoints                    → {endpoints}
 *   POST   /api/webhooks/endpoints                    {name, node, repo?, ratePerMinute?} → {endpoint, secret (shown once), url}
 *   POST   /api/webhooks/endpoints/:id/secret         a new secret (the old one stops working) → {endpoint, secret, url}
 *   DELETE /api/webhooks/endpoints/:id
 *   GET    /api/webhooks/deliveries?before=&limit=    newest first → {deliveries, next}
 *   GET    /api/webhooks/deliveries/:id               one delivery with its payload
 *   POST   /api/webhooks/deliveries/:id/redeliver     run a stored delivery again
 */
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isValidNodeId } from '@homeport/shared';
import { configOf } from '../env.ts';
import { directoryOf } from '../identity/directory.ts';
import type { ApiEnv } from '../identity/middleware.ts';
import { jsonBody, requiredString } from '../identity/routes.ts';
import { randomId, randomSecret } from '../identity/secrets.ts';
import { mayManage } from '../nodes/routes.ts';
import { MARKER, MENTION, TRIGGER_EVENTS, TRIGGER_LABEL } from './github-events.ts';
import { ENDPOINT_ID } from './routes.ts';
import { NoSecretsKey, seal } from './secret-box.ts';
import { webhooksOf, type Viewer } from './webhooks-do.ts';

export const ENDPOINT_SECRET_PREFIX = 'hpw_';
const GITHUB_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const GITHUB_LOGIN = /^[A-Za-z0-9-]{1,39}$/;
const REPO_NAME = /^[A-Za-z0-9._-]{1,100}$/;
const MAX_ALLOWED_USERS = 200;
const DEFAULT_RATE = 30;

function viewerOf(c: Context<ApiEnv>): Viewer {
  const principal = c.get('principal');
  return { userId: principal.userId, all: principal.via === 'local' || principal.role === 'admin' };
}

function dashboardUrlOf(c: Context<ApiEnv>): string {
  const config = configOf(c.env);
  return `${config.scheme}://${config.dashboardHost}`;
}

/** The node must exist, be live and be the caller's (else the same 404 as the nodes API). */
async function managedNode(c: Context<ApiEnv>, raw: unknown): Promise<string> {
  if (typeof raw !== 'string' || !isValidNodeId(raw)) throw new HTTPException(400, { message: '"node" must be the id of one of your home nodes' });
  const node = await directoryOf(c.env).node(raw);
  if (!node || node.revokedAt !== null || !mayManage(c.get('principal'), node)) throw new HTTPException(404, { message: 'no such node' });
  return node.id;
}

function repoName(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || !REPO_NAME.test(raw)) throw new HTTPException(400, { message: `"${field}" must be the name of a repo on the home node` });
  return raw;
}

function githubRepoOf(c: Context<ApiEnv>): string {
  const owner = c.req.param('owner') ?? '';
  const name = c.req.param('name') ?? '';
  if (!GITHUB_NAME.test(owner) || !GITHUB_NAME.test(name)) throw new HTTPException(400, { message: 'say the GitHub repository as <owner>/<name>' });
  return `${owner}/${name}`;
}

async function sealedNewSecret(c: Context<ApiEnv>, id: string): Promise<{ secret: string; sealed: string }> {
  const secret = randomSecret(ENDPOINT_SECRET_PREFIX);
  try {
    return { secret, sealed: await seal(c.env.WEBHOOK_SECRETS_KEY, id, secret) };
  } catch (error) {
    if (error instanceof NoSecretsKey) throw new HTTPException(503, { message: error.message });
    throw error;
  }
}

export const webhookApi = new Hono<ApiEnv>();

webhookApi.get('/webhooks/github', (c) =>
  c.json({
    url: `${dashboardUrlOf(c)}/webhooks/github`,
    contentType: 'application/json',
    events: TRIGGER_EVENTS,
    mention: MENTION,
    label: TRIGGER_LABEL,
    marker: MARKER,
    secretConfigured: Boolean(c.env.GITHUB_WEBHOOK_SECRET),
    commentsEnabled: Boolean(c.env.GITHUB_TOKEN),
    taskUrlTemplate: `${dashboardUrlOf(c)}/nodes/{node}/tasks/{task}`,
  }),
);

webhookApi.get('/webhooks/github/repos', async (c) => c.json({ repos: await webhooksOf(c.env).repoMappings(viewerOf(c)) }));

webhookApi.put('/webhooks/github/repos/:owner/:name', async (c) => {
  const repo = githubRepoOf(c);
  const body = await jsonBody(c);
  const node = await managedNode(c, body.node);
  const localRepo = repoName(body.repo, 'repo');
  const allowCollaborators = body.allowCollaborators ?? true;
  if (typeof allowCollaborators !== 'boolean') throw new HTTPException(400, { message: '"allowCollaborators" must be true or false' });
  const allowedUsers = body.allowedUsers ?? [];
  if (!Array.isArray(allowedUsers) || allowedUsers.length > MAX_ALLOWED_USERS || !allowedUsers.every((u) => typeof u === 'string' && GITHUB_LOGIN.test(u)))
    throw new HTTPException(400, { message: `"allowedUsers" must be a list of at most ${MAX_ALLOWED_USERS} GitHub logins` });
  const onDenied = body.onDenied ?? 'reply';
  if (onDenied !== 'reply' && onDenied !== 'ignore') throw new HTTPException(400, { message: '"onDenied" must be "reply" or "ignore"' });
  const result = await webhooksOf(c.env).putRepoMapping(viewerOf(c), {
    repo,
    node,
    localRepo,
    allowCollaborators,
    allowedUsers: [...new Set((allowedUsers as string[]).map((u) => u.toLowerCase()))],
    onDenied,
  });
  if ('error' in result) throw new HTTPException(result.status, { message: result.error });
  return c.json({ repo: result.mapping }, result.created ? 201 : 200);
});

webhookApi.delete('/webhooks/github/repos/:owner/:name', async (c) => {
  const repo = githubRepoOf(c);
  if (!(await webhooksOf(c.env).deleteRepoMapping(viewerOf(c), repo))) throw new HTTPException(404, { message: `${repo} is not mapped` });
  return c.json({ deleted: true, repo });
});

webhookApi.get('/webhooks/endpoints', async (c) => {
  const base = dashboardUrlOf(c);
  const list = await webhooksOf(c.env).endpoints(viewerOf(c));
  return c.json({ endpoints: list.map((e) => ({ ...e, url: `${base}/webhooks/in/${e.id}` })) });
});

webhookApi.post('/webhooks/endpoints', async (c) => {
  const body = await jsonBody(c);
  const name = requiredString(body, 'name').trim();
  if (!name || name.length > 60) throw new HTTPException(400, { message: '"name" must be 1-60 characters' });
  const node = await managedNode(c, body.node);
  const repo = body.repo === undefined || body.repo === null ? null : repoName(body.repo, 'repo');
  const ratePerMinute = body.ratePerMinute ?? DEFAULT_RATE;
  if (!Number.isInteger(ratePerMinute) || (ratePerMinute as number) < 1 || (ratePerMinute as number) > 600) throw new HTTPException(400, { message: '"ratePerMinute" must be a whole number from 1 to 600' });
  const id = `whk_${randomId()}`;
  const { secret, sealed } = await sealedNewSecret(c, id);
  const endpoint = await webhooksOf(c.env).createEndpoint(viewerOf(c), { id, name, node, repo, sealedSecret: sealed, ratePerMinute: ratePerMinute as number });
  // The only time the secret is shown.
  return c.json({ endpoint, secret, url: `${dashboardUrlOf(c)}/webhooks/in/${id}` }, 201);
});

webhookApi.post('/webhooks/endpoints/:id/secret', async (c) => {
  const id = c.req.param('id');
  if (!ENDPOINT_ID.test(id)) throw new HTTPException(404, { message: 'no such webhook endpoint' });
  const { secret, sealed } = await sealedNewSecret(c, id);
  const endpoint = await webhooksOf(c.env).setEndpointSecret(viewerOf(c), id, sealed);
  if (!endpoint) throw new HTTPException(404, { message: 'no such webhook endpoint' });
  return c.json({ endpoint, secret, url: `${dashboardUrlOf(c)}/webhooks/in/${id}` });
});

webhookApi.delete('/webhooks/endpoints/:id', async (c) => {
  const id = c.req.param('id');
  if (!ENDPOINT_ID.test(id) || !(await webhooksOf(c.env).deleteEndpoint(viewerOf(c), id))) throw new HTTPException(404, { message: 'no such webhook endpoint' });
  return c.json({ deleted: true, id });
});

webhookApi.get('/webhooks/deliveries', async (c) => {
  const limit = Number(c.req.query('limit') ?? 50);
  const before = c.req.query('before');
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new HTTPException(400, { message: 'limit must be 1-200' });
  if (before !== undefined && !/^\d{1,15}$/.test(before)) throw new HTTPException(400, { message: 'before must be a receivedAt time (ms) from the previous page' });
  const deliveries = await webhooksOf(c.env).deliveries(viewerOf(c), { limit, before: before === undefined ? undefined : Number(before) });
  return c.json({ deliveries, next: deliveries.length === limit ? deliveries.at(-1)!.receivedAt : null });
});

webhookApi.get('/webhooks/deliveries/:id', async (c) => {
  const delivery = await webhooksOf(c.env).delivery(viewerOf(c), c.req.param('id'));
  if (!delivery) throw new HTTPException(404, { message: 'no such delivery' });
  return c.json({ delivery });
});

webhookApi.post('/webhooks/deliveries/:id/redeliver', async (c) => {
  const result = await webhooksOf(c.env).redeliver(viewerOf(c), c.req.param('id'));
  if ('error' in result) throw new HTTPException(result.status, { message: result.error });
  return c.json(result, 202);
});
