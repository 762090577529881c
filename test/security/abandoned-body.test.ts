/**
 * Attack: a body the edge refuses half-read must not break the next request on the same
 * object. A chunked webhook POST over the size limit, a file PUT through the node API
 * that the node refuses, and an upload to a share over the edge's body limit each get
 * their 413; the very next valid request to the same place then answers at once.
 * The real local stack (wrangler dev + homeportd).
 */
import { ownHost } from '../helpers/own-origin.ts';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_IP, ownerToken } from '../helpers/owner.ts';
import { makeRepo, nodeApi, request, startDevServer, startTestStack, type DevServer, type TestStack } from '../helpers/stack.ts';
import { uploadUntilAnswered, type UploadOptions } from '../helpers/upload.ts';

const WEBHOOK_SECRET = randomBytes(20).toString('hex');
const STRANGER_IP = '203.0.113.40';
/** The edge's body limit here: small, so a refused upload is quick, yet above the node's 2 MiB file limit. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Well above a healthy answer, well below the 15–40 s stalls this guards against. */
const PROMPT_MS = 8_000;

let stack: TestStack;
let token: string;
let app: DevServer;
let repoName: string;

beforeAll(async () => {
  stack = await startTestStack({ edgeVars: { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, MAX_BODY_BYTES: String(MAX_BODY_BYTES) } });
  token = await ownerToken(stack);
  app = await startDevServer('upload-app');
  const repo = makeRepo('abandoned');
  repoName = (await nodeApi<{ repo: { name: string } }>(stack.socketPath, '/api/repos', 'POST', { path: repo })).repo.name;
  const shared = await request(stack, `/api/nodes/${stack.nodeId}/shares/${app.port}`, {
    method: 'PUT',
    host: `localhost:${stack.edgePort}`,
    headers: asOwner({ 'content-type': 'application/json' }),
    body: JSON.stringify({ mode: 'public' }),
  });
  expect(shared.status, shared.text).toBe(200);
});

afterAll(async () => {
  await app?.stop();
  await stack?.stop();
});

/** Headers of a dashboard API call as the owner, from elsewhere. */
const asOwner = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, 'x-test-client-ip': OWNER_IP, ...extra });

/** Fails the test if `promise` takes longer than PROMPT_MS. */
function promptly<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${PROMPT_MS} ms`)), PROMPT_MS)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A ping signed with the stack's webhook secret: GitHub's first delivery to a new hook. */
function ping() {
  const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
  const signature = 'sha256=' + createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex');
  return request(stack, '/webhooks/github', {
    method: 'POST',
    host: `localhost:${stack.edgePort}`,
    headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature, 'x-test-client-ip': STRANGER_IP, connection: 'close' },
    body,
  });
}

/** An unsigned ping over the 1 MiB limit, chunked (the size is checked before the signature). */
function oversizedPing(size: Pick<UploadOptions, 'bytes' | 'stallAfter'>) {
  return uploadUntilAnswered(stack.edgePort, '/webhooks/github', {
    host: `localhost:${stack.edgePort}`,
    headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': randomUUID(), 'x-test-client-ip': STRANGER_IP },
    chunked: true,
    ...size,
  });
}

describe('a refused, half-read body', () => {
  it('should leave the webhook door working after a chunked payload over the limit', async () => {
    for (let round = 0; round < 3; round++) {
      const refused = await oversizedPing({ bytes: 1.1 * 1024 * 1024 });
      expect(refused.status, refused.text).toBe(413);
      const next = await promptly('the next ping', ping());
      expect(next.status, next.text).toBe(200);
    }
  });

  it('should leave the node API working after a file PUT the node refuses', async () => {
    const api = `/api/nodes/${stack.nodeId}/api/repos/${repoName}/files`;
    for (let round = 0; round < 3; round++) {
      const refused = await uploadUntilAnswered(stack.edgePort, `${api}/content?path=big.txt`, {
        method: 'PUT',
        host: `localhost:${stack.edgePort}`,
        headers: asOwner({ 'content-type': 'application/json' }),
        bytes: 5 * 1024 * 1024,
      });
      // The node's refusal, not the edge's.
      expect(refused.status, refused.text).toBe(413);
      expect(JSON.parse(refused.text).error).toMatch(/larger than/);
      const next = await promptly('the next node API call', request(stack, `${api}?path=`, { host: `localhost:${stack.edgePort}`, headers: asOwner({ connection: 'close' }) }));
      expect(next.status, next.text).toBe(200);
    }
  });

  it('should leave a share working after an upload over the body limit', async () => {
    for (let round = 0; round < 3; round++) {
      const refused = await uploadUntilAnswered(stack.edgePort, '/echo', {
        host: ownHost(stack, app.port),
        headers: { 'x-test-client-ip': STRANGER_IP },
        bytes: MAX_BODY_BYTES + 1024 * 1024,
        chunked: true,
      });
      expect(refused.status, refused.text).toBe(413);
      const next = await promptly('the next share request', request(stack, '/echo', { host: ownHost(stack, app.port), headers: { 'x-test-client-ip': STRANGER_IP, connection: 'close' } }));
      expect(next.status, next.text).toBe(200);
    }
  });

  it("should deliver an app's early answer to an upload intact, compressed as the app sent it", async () => {
    // The app answers without reading the body: the edge holds only the answer's end back.
    const answer = await request(stack, '/gzip', { host: ownHost(stack, app.port), method: 'POST', headers: { 'x-test-client-ip': STRANGER_IP, connection: 'close' }, body: Buffer.alloc(4 * 1024 * 1024, 'b') });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(answer.body).toString()).toBe('compressed by the dev server '.repeat(200));
  });
});
