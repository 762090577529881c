import { SELF } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameType, encode, type Frame } from '@homeport/shared';
import { LOCAL, LOCAL_WRITE, bytesOf, fakeNodePerTest, pairNode, waitOffline, type FakeNode } from '../fake-node.ts';
import { issueCommentCreated, issuesLabeled, ping } from './github-payloads.ts';
import { signatureOf, signedPayload } from './signature.ts';

vi.setConfig({ testTimeout: 20_000 });

const DASH = 'https://dash.test';
// The value edge/vitest.config.ts gives the Worker.
const SECRET = 'test-github-webhook-secret';

let ipCounter = 0;

const connect = fakeNodePerTest();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A client address of its own per call site, so the refused-delivery limit never spills over. */
const freshIp = () => `198.51.100.${++ipCounter}`;

interface Delivered {
  status: number;
  body: { delivery?: string; status?: string; note?: string; error?: string; task?: { id: string } | null; command?: { id: string }; url?: string };
}

/** A GitHub delivery as GitHub sends it: X-GitHub-Event, X-GitHub-Delivery and X-Hub-Signature-256 over the raw body. */
async function deliver(event: string, payload: unknown, options: { id?: string; secret?: string; signature?: string | null; tamper?: (body: string) => string; ip?: string } = {}): Promise<Delivered> {
  const raw = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const signature = options.signature === undefined ? await signatureOf(options.secret ?? SECRET, bytesOf(raw)) : options.signature;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/a1b2c3d',
    'x-github-event': event,
    'x-github-delivery': options.id ?? crypto.randomUUID(),
    'x-github-hook-id': '109948940',
    'x-test-client-ip': options.ip ?? freshIp(),
  };
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  const res = await SELF.fetch(`${DASH}/webhooks/github`, { method: 'POST', headers, body: options.tamper ? options.tamper(raw) : raw });
  const text = await res.text();
  expect(text).not.toMatch(/at .*\.ts|stack/i);
  return { status: res.status, body: JSON.parse(text) };
}

async function api<T = Record<string, unknown>>(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await SELF.fetch(DASH + path, { method: init.method ?? 'GET', headers: init.method && init.method !== 'GET' ? LOCAL_WRITE : LOCAL, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  return { status: res.status, body: (await res.json()) as T };
}

interface DeliveryView {
  id: string;
  status: string;
  httpStatus: number;
  note: string;
  repo: string | null;
  sender: string | null;
  commandId: string | null;
  taskId: string | null;
  taskStatus: string | null;
  prUrl: string | null;
  payload: string | null;
  runs: number;
  redeliverable: boolean;
  externalId: string | null;
}

async function delivery(id: string): Promise<DeliveryView> {
  const { status, body } = await api<{ delivery: DeliveryView }>(`/api/webhooks/deliveries/${id}`);
  expect(status).toBe(200);
  return body.delivery;
}

async function settled(id: string, done: (d: DeliveryView) => boolean = (d) => d.status !== 'pending'): Promise<DeliveryView> {
  for (let i = 0; i < 200; i++) {
    const d = await delivery(id);
    if (done(d)) return d;
    await sleep(25);
  }
  throw new Error(`delivery ${id} stayed ${(await delivery(id)).status}`);
}

async function mapRepo(repo: string, body: Record<string, unknown>) {
  const res = await api(`/api/webhooks/github/repos/${repo}`, { method: 'PUT', body });
  expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
}

/** Reads the next POST the edge forwards to the fake node and answers it like homeportd's task API. */
async function answerTask(node: FakeNode, answer: { status: number; body: unknown }): Promise<{ commandId: string; body: Record<string, unknown>; path: string }> {
  const open = await node.next((f) => f.type === FrameType.Open);
  if (open.type !== FrameType.Open) throw new Error('no open');
  const data = await node.next((f) => f.type === FrameType.Data && f.streamId === open.streamId);
  const body = JSON.parse(new TextDecoder().decode((data as Frame & { type: FrameType.Data }).data)) as Record<string, unknown>;
  node.send(encode.response(open.streamId, { status: answer.status, headers: [['content-type', 'application/json']] }, false));
  // (the pool may reorder back-to-back frames; give the head a moment to land first)
  await sleep(50);
  node.send(encode.data(open.streamId, bytesOf(JSON.stringify(answer.body)), true));
  const commandId = open.head.headers.find(([name]) => name === 'x-homeport-command-id')?.[1] ?? '';
  return { commandId, body, path: `${open.head.method} ${open.head.url}` };
}

async function sendTaskEvents(node: FakeNode, payloads: Record<string, unknown>[]) {
  const start = Number((await api<{ seq: number }>('/api/nodes/home/state')).body.seq);
  node.send(encode.control({ t: 'events', events: payloads.map((payload, i) => ({ seq: start + i + 1, topic: 'tasks', type: 'task.updated', at: Date.now(), payload })) }));
  await node.next((f) => f.type === FrameType.Control && f.message.t === 'ack');
}

describe('POST /webhooks/github: signatures', () => {
  it('should take a correctly signed delivery and refuse missing, wrong and tampered signatures, logging each', async () => {
    const good = await deliver('ping', ping());
    expect(good).toMatchObject({ status: 200, body: { status: 'ignored' } });

    const payload = issueCommentCreated('@homeport please fix it');
    const missing = await deliver('issue_comment', payload, { signature: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toContain('X-Hub-Signature-256 header is missing');
    const wrong = await deliver('issue_comment', payload, { secret: 'not-the-secret' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toContain('does not match');
    const tampered = await deliver('issue_comment', payload, { tamper: (b) => b.replace('please fix it', 'rm -rf everything') });
    expect(tampered.status).toBe(401);
    const malformed = await deliver('issue_comment', payload, { signature: 'sha1=0123' });
    expect(malformed.status).toBe(401);

    for (const refused of [missing, wrong, tampered, malformed]) {
      const logged = await delivery(refused.body.delivery!);
      expect(logged).toMatchObject({ status: 'refused', httpStatus: 401, redeliverable: false });
      // Nothing of an unsigned body is kept.
      expect(logged.payload).toBeNull();
    }
  });

  it('should answer 429 to an address that keeps sending bad signatures', async () => {
    const ip = freshIp();
    let last = 0;
    for (let i = 0; i < 31; i++) last = (await deliver('ping', ping(), { secret: 'guess', ip })).status;
    expect(last).toBe(429);
    // A correctly signed delivery from elsewhere still gets in.
    expect((await deliver('ping', ping())).status).toBe(200);
  });
});

describe('POST /webhooks/github: bad input', () => {
  it('should refuse payloads over 1 MiB with 413 before checking anything else', async () => {
    const huge = JSON.stringify(issueCommentCreated('@homeport ' + 'x'.repeat(1024 * 1024)));
    const res = await deliver('issue_comment', huge);
    expect(res.status).toBe(413);
    expect((await delivery(res.body.delivery!)).status).toBe('too_large');
  });

  it('should answer 400 to signed bodies that are not JSON, and keep them for inspection', async () => {
    const res = await deliver('issue_comment', '{"action": "created", oops');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('the body is not JSON');
    const logged = await delivery(res.body.delivery!);
    expect(logged).toMatchObject({ status: 'invalid', payload: '{"action": "created", oops', redeliverable: false });
  });

  it('should ignore events and actions that are not triggers, with a note', async () => {
    const cases: [string, unknown, string][] = [
      ['push', { ref: 'refs/heads/main', repository: { full_name: 'octo-org/shop' } }, 'the "push" event is not used'],
      ['issue_comment', { ...issueCommentCreated('@homeport do it'), action: 'edited' }, 'only new comments are'],
      ['issue_comment', issueCommentCreated('Looks good to me'), 'does not mention @homeport'],
      ['issue_comment', issueCommentCreated('mail me at me@homeport.dev'), 'does not mention @homeport'],
      ['issue_comment', issueCommentCreated('> @homeport fix it\nno thanks'), 'does not mention @homeport'],
      ['issue_comment', issueCommentCreated('<!-- homeport:tracking gh-1 -->\n**Homeport** · @homeport working'), "Homeport's own comment"],
      ['issues', issuesLabeled('bug'), 'is not "homeport"'],
      ['issues', { ...issuesLabeled('homeport'), action: 'opened' }, 'only labeling'],
    ];
    for (const [event, payload, note] of cases) {
      const res = await deliver(event, payload);
      expect(res.status, note).toBe(202);
      expect(res.body).toMatchObject({ status: 'ignored' });
      expect(res.body.note).toContain(note);
    }
  });

  it('should record a trigger for a repo nobody mapped, start nothing, and run it when redelivered after mapping', async () => {
    const node = await connect();
    const id = crypto.randomUUID();
    const payload = issuesLabeled('homeport', { repo: 'octo-org/unmapped', sender: 'octocat' });
    const first = await deliver('issues', payload, { id });
    expect(first).toMatchObject({ status: 202, body: { status: 'unknown_repo' } });
    // GitHub may redeliver a delivery that did not start anything.
    const again = await deliver('issues', payload, { id });
    expect(again).toMatchObject({ status: 202, body: { status: 'unknown_repo' } });
    expect((await delivery(`gh-${id}`)).runs).toBe(2);
    expect((await node.drain()).filter((f) => f.type === FrameType.Open)).toEqual([]);

    await mapRepo('octo-org/unmapped', { node: 'home', repo: 'unmapped', allowedUsers: ['OctoCat'] });
    const redelivered = await api<{ delivery: DeliveryView }>(`/api/webhooks/deliveries/gh-${id}/redeliver`, { method: 'POST' });
    expect(redelivered.status).toBe(202);
    const task = await answerTask(node, { status: 201, body: { task: { id: 'task_unmapped1', status: 'queued' } } });
    expect(task.path).toBe('POST /api/tasks');
    expect(task.body).toMatchObject({ repo: 'unmapped', source: `webhook:gh-${id}` });
    expect(String(task.body.prompt)).toContain('labeled this issue "homeport"');
    expect(await settled(`gh-${id}`)).toMatchObject({ status: 'started', taskId: 'task_unmapped1', runs: 3 });
  });
});

describe('GitHub triggers', () => {
  it('should start a task from a comment, follow it to its pull request, and refuse a replay', async () => {
    await mapRepo('octo-org/shop', { node: 'home', repo: 'shop', allowedUsers: ['octocat'] });
    const node = await connect();
    const id = crypto.randomUUID();
    const payload = issueCommentCreated('Thanks! @homeport please make the Pay button work in Firefox', { repo: 'Octo-Org/Shop' });
    const res = await deliver('issue_comment', payload, { id });
    expect(res).toMatchObject({ status: 202, body: { delivery: `gh-${id}`, status: 'pending' } });

    const task = await answerTask(node, { status: 201, body: { task: { id: 'task_shop1', status: 'queued' } } });
    expect(task.path).toBe('POST /api/tasks');
    expect(task.commandId).toBe(`wh-gh-${id}-1`);
    expect(task.body.repo).toBe('shop');
    expect(task.body.source).toBe(`webhook:gh-${id}`);
    const prompt = String(task.body.prompt);
    expect(prompt).toContain('please make the Pay button work in Firefox');
    expect(prompt).not.toContain('Thanks!');
    // The issue's title and body are the context.
    expect(prompt).toContain('Checkout button does nothing');
    expect(prompt).toContain('Clicking "Pay" on /checkout does nothing in Firefox.');
    expect(await settled(`gh-${id}`)).toMatchObject({ status: 'started', taskId: 'task_shop1', sender: 'octocat' });

    // The node reports the run; the second event carries only what changed.
    await sendTaskEvents(node, [{ id: 'task_shop1', repo: 'shop', status: 'running', source: `webhook:gh-${id}` }]);
    await settled(`gh-${id}`, (d) => d.taskStatus === 'running');
    await sendTaskEvents(node, [{ id: 'task_shop1', status: 'completed', prUrl: 'https://github.com/octo-org/shop/pull/8', branch: 'homeport/task_shop1' }]);
    expect(await settled(`gh-${id}`, (d) => d.taskStatus === 'completed')).toMatchObject({ prUrl: 'https://github.com/octo-org/shop/pull/8' });
    // A late, stale event does not move it back.
    await sendTaskEvents(node, [{ id: 'task_shop1', status: 'running', source: `webhook:gh-${id}` }]);
    await sleep(100);
    expect((await delivery(`gh-${id}`)).taskStatus).toBe('completed');

    const replay = await deliver('issue_comment', payload, { id });
    expect(replay.status).toBe(409);
    expect((await delivery(replay.body.delivery!)).status).toBe('replay');
    // Nothing more reached the node.
    expect((await node.drain()).filter((f) => f.type === FrameType.Open)).toEqual([]);
    const again = await api(`/api/webhooks/deliveries/gh-${id}/redeliver`, { method: 'POST' });
    expect(again.status).toBe(409);
  });

  it('should start nothing for a sender who is not allowed', async () => {
    await mapRepo('octo-org/private-shop', { node: 'home', repo: 'shop', allowedUsers: ['octocat'], allowCollaborators: true });
    const node = await connect();
    const res = await deliver('issue_comment', issueCommentCreated('@homeport delete the database', { repo: 'octo-org/private-shop', sender: 'mallory' }));
    expect(res.status).toBe(202);
    const logged = await settled(res.body.delivery!);
    expect(logged.status).toBe('denied');
    expect(logged.note).toContain('@mallory');
    expect(logged.commandId).toBeNull();
    expect((await node.drain()).filter((f) => f.type === FrameType.Open)).toEqual([]);
  });

  it('should queue the task while the node is offline, let the owner cancel it, and deliver another on reconnect', async () => {
    await mapRepo('octo-org/offline', { node: 'home', repo: 'offline-app', allowedUsers: ['octocat'] });
    const cancelled = await deliver('issues', issuesLabeled('homeport', { repo: 'octo-org/offline', issue: 11 }));
    const kept = await deliver('issue_comment', issueCommentCreated('@homeport add a test', { repo: 'octo-org/offline', issue: 12 }));
    const queued = await settled(kept.body.delivery!);
    expect(queued).toMatchObject({ status: 'queued', commandId: `wh-${kept.body.delivery}-1` });
    const toCancel = await settled(cancelled.body.delivery!);
    expect(toCancel.status).toBe('queued');
    // The queued task is the node's ordinary queued command: visible and cancellable there.
    const commands = await api<{ commands: { id: string; state: string; path: string }[] }>('/api/nodes/home/commands');
    expect(commands.body.commands.find((c) => c.id === toCancel.commandId)).toMatchObject({ state: 'queued', path: '/api/tasks' });
    expect((await api(`/api/nodes/home/commands/${toCancel.commandId}`, { method: 'DELETE' })).status).toBe(200);
    expect(await settled(cancelled.body.delivery!, (d) => d.status !== 'queued')).toMatchObject({ status: 'cancelled' });

    const node = await connect();
    const task = await answerTask(node, { status: 201, body: { task: { id: 'task_offline1', status: 'queued' } } });
    expect(task.commandId).toBe(queued.commandId);
    expect(String(task.body.prompt)).toContain('add a test');
    expect(await settled(kept.body.delivery!, (d) => d.status !== 'queued')).toMatchObject({ status: 'started', taskId: 'task_offline1' });
    expect((await node.drain()).filter((f) => f.type === FrameType.Open)).toEqual([]);
  });

  it('should record the node refusing the task as failed', async () => {
    await mapRepo('octo-org/missing', { node: 'home', repo: 'not-cloned', allowedUsers: ['octocat'] });
    const node = await connect();
    const res = await deliver('issue_comment', issueCommentCreated('@homeport go', { repo: 'octo-org/missing' }));
    await answerTask(node, { status: 404, body: { error: 'no repo named "not-cloned"' } });
    const logged = await settled(res.body.delivery!);
    expect(logged.status).toBe('failed');
    expect(logged.note).toContain('no repo named "not-cloned"');
    expect(logged.redeliverable).toBe(true);
  });

  it('should end a delivery queued for a node that is then revoked', async () => {
    const later = await pairNode('revoked-later');
    await mapRepo('octo-org/later', { node: later.id, repo: 'app', allowedUsers: ['octocat'] });
    const res = await deliver('issue_comment', issueCommentCreated('@homeport go', { repo: 'octo-org/later' }));
    expect((await settled(res.body.delivery!)).status).toBe('queued');
    expect((await api(`/api/nodes/${later.id}`, { method: 'DELETE' })).status).toBe(200);
    const ended = await delivery(res.body.delivery!);
    expect(ended.status).toBe('node_revoked');
    expect(ended.note).toContain('before the task could start');
  });

  it('should start nothing for a repo mapped to a node that was revoked', async () => {
    const gone = await pairNode('gone-node');
    await mapRepo('octo-org/gone', { node: gone.id, repo: 'app', allowedUsers: ['octocat'] });
    expect((await api(`/api/nodes/${gone.id}`, { method: 'DELETE' })).status).toBe(200);
    const res = await deliver('issue_comment', issueCommentCreated('@homeport go', { repo: 'octo-org/gone' }));
    const logged = await settled(res.body.delivery!);
    expect(logged.status).toBe('node_revoked');
    expect(logged.commandId).toBeNull();
  });
});

describe('generic webhook endpoints', () => {
  async function createEndpoint(body: Record<string, unknown>) {
    const res = await api<{ endpoint: { id: string }; secret: string; url: string }>('/api/webhooks/endpoints', { method: 'POST', body });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function call(endpoint: { id: string; secret: string }, payload: unknown, options: { timestamp?: number; secret?: string; tamper?: boolean } = {}) {
    const raw = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const signature = await signatureOf(options.secret ?? endpoint.secret, signedPayload(timestamp, bytesOf(raw)));
    const res = await SELF.fetch(`${DASH}/webhooks/in/${endpoint.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-homeport-timestamp': timestamp, 'x-homeport-signature': signature, 'x-test-client-ip': '203.0.113.77' },
      body: options.tamper ? raw.replace('}', ', "extra": 1}') : raw,
    });
    return { status: res.status, body: (await res.json()) as Delivered['body'] & { error?: string }, signature, timestamp, raw };
  }

  it('should show the secret once, keep it sealed, and start a task from a signed request', async () => {
    const made = await createEndpoint({ name: 'CI failures', node: 'home', repo: 'shop' });
    expect(made.secret).toMatch(/^hpw_[A-Za-z0-9_-]{43}$/);
    expect(made.url).toBe(`${DASH}/webhooks/in/${made.endpoint.id}`);
    const listed = await api<{ endpoints: Record<string, unknown>[] }>('/api/webhooks/endpoints');
    const shown = listed.body.endpoints.find((e) => e.id === made.endpoint.id)!;
    expect(JSON.stringify(shown)).not.toContain(made.secret);
    expect(shown).not.toHaveProperty('sealedSecret');

    const node = await connect();
    const endpoint = { id: made.endpoint.id, secret: made.secret };
    const pending = call(endpoint, { prompt: 'The nightly build fails in test/cart.test.ts; fix it.', ci: { run: 42 } });
    const task = await answerTask(node, { status: 201, body: { task: { id: 'task_ci1', status: 'queued' } } });
    expect(task.body).toMatchObject({ repo: 'shop', prompt: 'The nightly build fails in test/cart.test.ts; fix it.' });
    expect(String(task.body.source)).toMatch(/^webhook:dl_[0-9a-f]{24}$/);
    const res = await pending;
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'started', task: { id: 'task_ci1' }, url: `${DASH}/nodes/home/tasks/task_ci1` });
    expect(res.body.command?.id).toBe(task.commandId);

    // The same signed request again is a replay.
    const replay = await SELF.fetch(`${DASH}/webhooks/in/${endpoint.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-homeport-timestamp': res.timestamp, 'x-homeport-signature': res.signature },
      body: res.raw,
    });
    expect(replay.status).toBe(409);
    expect((await node.drain()).filter((f) => f.type === FrameType.Open)).toEqual([]);
  });

  it('should refuse wrong signatures, stale timestamps, tampered and malformed bodies, and unknown endpoints', async () => {
    const made = await createEndpoint({ name: 'chat bot', node: 'home' });
    const endpoint = { id: made.endpoint.id, secret: made.secret };
    const wrong = await call(endpoint, { repo: 'shop', prompt: 'x' }, { secret: 'hpw_not-it' });
    expect(wrong.status).toBe(401);
    const stale = await call(endpoint, { repo: 'shop', prompt: 'x' }, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(stale.status).toBe(401);
    expect(stale.body.error).toContain('minutes off');
    expect((await call(endpoint, { repo: 'shop', prompt: 'x' }, { tamper: true })).status).toBe(401);
    const noRepo = await call(endpoint, { prompt: 'fix it' });
    expect(noRepo.status).toBe(400);
    expect(noRepo.body.error).toContain('"repo"');
    expect((await call(endpoint, '{"prompt": ')).status).toBe(400);
    expect((await call(endpoint, { repo: 'shop' })).status).toBe(400);
    expect((await call({ id: 'whk_000000000000000000000000', secret: 'x' }, { prompt: 'x' })).status).toBe(404);
    const log = await api<{ deliveries: { endpointId: string | null; status: string }[] }>('/api/webhooks/deliveries?limit=200');
    const mine = log.body.deliveries.filter((d) => d.endpointId === endpoint.id).map((d) => d.status);
    expect(mine.sort()).toEqual(['invalid', 'invalid', 'invalid', 'refused', 'refused', 'refused']);
  });

  it('should rate limit each endpoint on its own', async () => {
    const slow = await createEndpoint({ name: 'slow', node: 'home', repo: 'shop', ratePerMinute: 2 });
    const other = await createEndpoint({ name: 'other', node: 'home', repo: 'shop', ratePerMinute: 2 });
    const statuses: number[] = [];
    // Wrong signatures count too, so nothing starts while the limit is measured.
    for (let i = 0; i < 3; i++) statuses.push((await call({ id: slow.endpoint.id, secret: slow.secret }, { prompt: 'x' }, { secret: 'wrong' })).status);
    expect(statuses).toEqual([401, 401, 429]);
    expect((await call({ id: other.endpoint.id, secret: other.secret }, { prompt: 'x' }, { secret: 'wrong' })).status).toBe(401);
  });

  it('should queue for an offline node and answer with the command', async () => {
    const made = await createEndpoint({ name: 'queue', node: 'home', repo: 'shop' });
    const res = await call({ id: made.endpoint.id, secret: made.secret }, { prompt: 'update the changelog' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'queued', task: null, url: `${DASH}/nodes/home` });
    const node = await connect();
    const task = await answerTask(node, { status: 201, body: { task: { id: 'task_q1', status: 'queued' } } });
    expect(task.commandId).toBe(res.body.command!.id);
    expect(await settled(res.body.delivery!, (d) => d.status === 'started')).toMatchObject({ taskId: 'task_q1' });
  });
});

describe('the owner API', () => {
  it('should need a sign-in and check what it stores', async () => {
    const remote = { 'x-test-client-ip': '203.0.113.9' };
    expect((await SELF.fetch(`${DASH}/api/webhooks/deliveries`, { headers: remote })).status).toBe(401);
    expect((await SELF.fetch(`${DASH}/api/webhooks/endpoints`, { method: 'POST', headers: { ...remote, origin: DASH, 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    expect((await api('/api/webhooks/github/repos/octo-org/x', { method: 'PUT', body: { node: 'nope', repo: 'x' } })).status).toBe(404);
    expect((await api('/api/webhooks/github/repos/octo-org/x', { method: 'PUT', body: { node: 'home', repo: '../etc' } })).status).toBe(400);
    expect((await api('/api/webhooks/github/repos/octo-org/x', { method: 'PUT', body: { node: 'home', repo: 'x', allowedUsers: ['not a login!'] } })).status).toBe(400);
    expect((await api('/api/webhooks/endpoints', { method: 'POST', body: { name: 'x', node: 'home', ratePerMinute: 0 } })).status).toBe(400);
    const setup = await api<{ url: string; secretConfigured: boolean; commentsEnabled: boolean; events: string[] }>('/api/webhooks/github');
    expect(setup.body).toMatchObject({ url: `${DASH}/webhooks/github`, secretConfigured: true, commentsEnabled: false, events: ['issue_comment', 'issues'] });
  });
});
