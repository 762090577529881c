/**
 * @module
 * The webhook doors on the dashboard host (no sign-in: the signature is the credential).
 * Size and signature are checked before anything in the body is parsed; every request
 * lands in the delivery log (webhooks-do.ts), refused ones included.
 *
 *   POST /webhooks/github      GitHub: X-Hub-Signature-256, X-GitHub-Event, X-GitHub-Delivery
 *   POST /webhooks/in/:id      generic: X-Homeport-Timestamp, X-Homeport-Signature (docs/webhooks.md)
 */
import { Hono, type Context } from 'hono';
import { clientIpOf } from '../access.ts';
import { configOf, type Env } from '../env.ts';
import { directoryOf } from '../identity/directory.ts';
import { endpointRequestOf } from './endpoint-request.ts';
import { classify } from './github-events.ts';
import { open } from './secret-box.ts';
import { TIMESTAMP_TOLERANCE_S, checkTimestamp, signedPayload, verifySignature } from './signature.ts';
import { webhooksOf, type RefusedEntry } from './webhooks-do.ts';

/** GitHub sends up to 25 MB; issue events are far smaller, and the log keeps the body. */
export const MAX_GITHUB_BYTES = 1024 * 1024;
export const MAX_ENDPOINT_BYTES = 64 * 1024;
/** Refused (unsigned, mis-signed) deliveries per client address in ten minutes before it gets 429s, unlogged. */
const REFUSED_PER_IP = 30;
const REFUSED_WINDOW_MS = 10 * 60_000;
const DELIVERY_ID = /^[A-Za-z0-9-]{1,50}$/;
/** GitHub's event names: lower case, underscores and digits (projects_v2_item). */
const EVENT_NAME = /^[a-z][a-z0-9_]{0,49}$/;
export const ENDPOINT_ID = /^whk_[0-9a-f]{24}$/;

type WebhookContext = Context<{ Bindings: Env }>;

/** The body, or null when it is larger than `max` (read no further than that). */
async function readCapped(request: Request, max: number): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) return null;
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

function textOf(body: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    return null;
  }
}

async function tooManyRefusals(c: WebhookContext, key: string): Promise<Response | null> {
  const wait = await directoryOf(c.env).limitWait(key, REFUSED_PER_IP);
  if (wait <= 0) return null;
  const seconds = Math.max(1, Math.ceil(wait / 1000));
  c.header('retry-after', String(seconds));
  return c.json({ error: `too many refused webhook deliveries from your address; try again in ${seconds} seconds` }, 429);
}

export const webhookRoutes = new Hono<{ Bindings: Env }>();

webhookRoutes.post('/webhooks/github', async (c) => {
  const secret = c.env.GITHUB_WEBHOOK_SECRET;
  if (!secret) return c.json({ error: 'GitHub webhooks are not set up on this edge: set the Worker secret GITHUB_WEBHOOK_SECRET (docs/webhooks.md)' }, 503);
  const clientIp = clientIpOf(c.req.raw, configOf(c.env));
  const limitKey = `webhook-refused-ip:${clientIp}`;
  const limited = await tooManyRefusals(c, limitKey);
  if (limited) return limited;
  const externalId = c.req.header('x-github-delivery')?.slice(0, 100) ?? null;
  const event = c.req.header('x-github-event')?.slice(0, 100) ?? null;
  const webhooks = webhooksOf(c.env);
  const refuse = async (entry: Pick<RefusedEntry, 'status' | 'httpStatus' | 'note' | 'bytes'> & { payload?: string }) => {
    if (entry.status === 'refused') await directoryOf(c.env).hitLimit(limitKey, REFUSED_PER_IP, REFUSED_WINDOW_MS);
    const logged = await webhooks.logRefused({ source: 'github', endpointId: null, externalId, event, clientIp, ...entry });
    return c.json({ error: entry.note, delivery: logged.id }, entry.httpStatus as 400);
  };

  const body = await readCapped(c.req.raw, MAX_GITHUB_BYTES);
  if (!body) return refuse({ status: 'too_large', httpStatus: 413, note: `the payload is larger than ${MAX_GITHUB_BYTES / 1024} KiB`, bytes: Number(c.req.header('content-length')) || MAX_GITHUB_BYTES + 1 });
  // The signature first: nothing in an unsigned body is looked at, or kept.
  const check = await verifySignature(secret, body, c.req.header('x-hub-signature-256'), 'X-Hub-Signature-256');
  if (!check.ok) return refuse({ status: 'refused', httpStatus: 401, note: check.reason, bytes: body.byteLength });
  const text = textOf(body);
  if (!externalId || !DELIVERY_ID.test(externalId)) return refuse({ status: 'invalid', httpStatus: 400, note: 'X-GitHub-Delivery is missing or malformed', bytes: body.byteLength, payload: text ?? undefined });
  if (!event || !EVENT_NAME.test(event)) return refuse({ status: 'invalid', httpStatus: 400, note: 'X-GitHub-Event is missing or malformed', bytes: body.byteLength, payload: text ?? undefined });
  if (text === null) return refuse({ status: 'invalid', httpStatus: 400, note: 'the body is not UTF-8', bytes: body.byteLength });
  // GitHub's other content type: a form with the JSON in its `payload` field.
  const json = (c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded') ? (new URLSearchParams(text).get('payload') ?? '') : text;
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    return refuse({ status: 'invalid', httpStatus: 400, note: 'the body is not JSON', bytes: body.byteLength, payload: text });
  }
  const answer = await webhooks.receiveGitHub({ externalId, event, payload: json, bytes: body.byteLength, clientIp, classified: classify(event, payload) });
  return c.json(answer.body, answer.httpStatus as 202);
});

webhookRoutes.post('/webhooks/in/:id', async (c) => {
  const id = c.req.param('id');
  const webhooks = webhooksOf(c.env);
  const endpoint = ENDPOINT_ID.test(id) ? await webhooks.endpointForRequest(id) : null;
  if (!endpoint) return c.json({ error: 'no such webhook endpoint' }, 404);
  const clientIp = clientIpOf(c.req.raw, configOf(c.env));
  const refuse = async (entry: Pick<RefusedEntry, 'status' | 'httpStatus' | 'note' | 'bytes'> & { payload?: string }) => {
    const logged = await webhooks.logRefused({ source: 'endpoint', endpointId: id, externalId: null, event: null, clientIp, ownerId: endpoint.ownerId, ...entry });
    return c.json({ error: entry.note, delivery: logged.id }, entry.httpStatus as 400);
  };

  // Every request counts, refused ones too: the limit also caps what a stranger can log.
  const wait = await directoryOf(c.env).hitLimit(`webhook-endpoint:${id}`, endpoint.ratePerMinute, 60_000);
  if (wait > 0) {
    c.header('retry-after', String(Math.max(1, Math.ceil(wait / 1000))));
    return refuse({ status: 'rate_limited', httpStatus: 429, note: `more than ${endpoint.ratePerMinute} requests a minute to this endpoint`, bytes: Number(c.req.header('content-length')) || 0 });
  }
  const body = await readCapped(c.req.raw, MAX_ENDPOINT_BYTES);
  if (!body) return refuse({ status: 'too_large', httpStatus: 413, note: `the body is larger than ${MAX_ENDPOINT_BYTES / 1024} KiB`, bytes: Number(c.req.header('content-length')) || MAX_ENDPOINT_BYTES + 1 });
  const timestamp = c.req.header('x-homeport-timestamp');
  const fresh = checkTimestamp(timestamp);
  if (!fresh.ok) return refuse({ status: 'refused', httpStatus: 401, note: fresh.reason, bytes: body.byteLength });
  const secret = await open(c.env.WEBHOOK_SECRETS_KEY, id, endpoint.sealedSecret).catch(() => null);
  if (secret === null) return refuse({ status: 'refused', httpStatus: 503, note: "the endpoint's secret cannot be read on this edge (WEBHOOK_SECRETS_KEY missing or changed): rotate the endpoint's secret", bytes: body.byteLength });
  const signature = c.req.header('x-homeport-signature');
  const check = await verifySignature(secret, signedPayload(timestamp!.trim(), body), signature, 'X-Homeport-Signature');
  if (!check.ok) return refuse({ status: 'refused', httpStatus: 401, note: check.reason, bytes: body.byteLength });
  const text = textOf(body);
  if (text === null) return refuse({ status: 'invalid', httpStatus: 400, note: 'the body is not UTF-8', bytes: body.byteLength });
  const request = endpointRequestOf(text, endpoint.repo);
  if ('error' in request) return refuse({ status: 'invalid', httpStatus: 400, note: request.error, bytes: body.byteLength, payload: text });
  const answer = await webhooks.receiveEndpoint({
    endpointId: id,
    signature: signature!.trim().toLowerCase(),
    expiresAt: (fresh.seconds + TIMESTAMP_TOLERANCE_S + 60) * 1000,
    payload: text,
    bytes: body.byteLength,
    clientIp,
  });
  return c.json(answer.body, answer.httpStatus as 202);
});
