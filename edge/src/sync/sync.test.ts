import { SELF } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameType, encode, type EventEnvelope, type Frame, type OutboxEvent } from '@homeport/shared';
import { LOCAL, bytesOf, fakeNodePerTest, waitOffline, type FakeNode } from '../fake-node.ts';

vi.setConfig({ testTimeout: 15_000 });

const DASH = 'https://dash.test';
const WRITE = { ...LOCAL, origin: DASH, 'content-type': 'application/json' };

const connect = fakeNodePerTest();

const event = (seq: number, topic: string, type: string, payload: unknown): OutboxEvent => ({ seq, topic, type, at: 1_700_000_000_000 + seq, payload });

async function sendEvents(node: FakeNode, events: OutboxEvent[]): Promise<number> {
  node.send(encode.control({ t: 'events', events }));
  const ack = await node.next((f) => f.type === FrameType.Control && f.message.t === 'ack');
  return (ack as Frame & { type: FrameType.Control }).message.seq as number;
}

async function state(): Promise<{ online: boolean; stale: boolean; seq: number; topics: Record<string, Record<string, unknown>[]> }> {
  const res = await SELF.fetch(`${DASH}/api/nodes/home/state`, { headers: LOCAL });
  expect(res.status).toBe(200);
  return res.json();
}

describe('outbox sync', () => {
  it('should apply events once, ack the last, and keep the mirror while the node is offline', async () => {
    let node = await connect();
    const start = Number(node.welcome.ackedSeq);
    expect(Number.isInteger(start)).toBe(true);
    const s = start;
    expect(
      await sendEvents(node, [
        event(s + 1, 'repos', 'repo.added', { id: 'r1', name: 'api', branch: 'main' }),
        event(s + 2, 'repos', 'repo.added', { id: 'r2', name: 'web', branch: 'main' }),
        event(s + 3, 'servers', 'server.updated', { repoId: 'r1', name: 'api', command: 'npm run dev', desiredState: 'running' }),
        event(s + 4, 'servers', 'server.state', { repoId: 'r1', name: 'api', state: 'running', pid: 42 }),
      ]),
    ).toBe(s + 4);

    // A batch sent again after a drop (with a changed payload for an old seq) changes nothing old.
    expect(
      await sendEvents(node, [
        event(s + 2, 'repos', 'repo.added', { id: 'r2', name: 'SHOULD-NOT-APPLY' }),
        event(s + 5, 'repos', 'repo.removed', { id: 'r1', name: 'api' }),
        event(s + 6, 'settings', 'setting.updated', { key: 'scanRange', value: '3000-4000' }),
      ]),
    ).toBe(s + 6);

    let mirror = await state();
    expect(mirror).toMatchObject({ online: true, stale: false, seq: s + 6 });
    expect(mirror.topics.repos.find((r) => r.id === 'r2')).toMatchObject({ name: 'web' });
    expect(mirror.topics.repos.find((r) => r.id === 'r1')).toBeUndefined();
    // server.state merged into what server.updated said
    expect(mirror.topics.servers.find((r) => r.repoId === 'r1')).toMatchObject({ command: 'npm run dev', state: 'running', pid: 42 });
    expect(mirror.topics.settings).toEqual([{ key: 'scanRange', value: '3000-4000' }]);

    node.close();
    await waitOffline();
    mirror = await state();
    expect(mirror).toMatchObject({ online: false, stale: true, seq: s + 6 });
    expect(mirror.topics.repos.map((r) => r.id)).toContain('r2');

    // Reconnecting, the node learns where to resume.
    node = await connect();
    expect(node.welcome.ackedSeq).toBe(s + 6);
  });

  it('should refuse malformed event batches without applying any of them', async () => {
    const node = await connect();
    const before = (await state()).seq;
    for (const events of ['x', [{ seq: 'one', topic: 't', type: 'x', at: 1 }], [{ seq: before + 1, topic: 't', at: 1 }], Array.from({ length: 201 }, (_, i) => event(before + 1 + i, 't', 'x', {}))]) {
      node.send(encode.control({ t: 'events', events }));
      const error = await node.next((f) => f.type === FrameType.Control && f.message.t === 'protocol-error');
      expect(String((error as Frame & { type: FrameType.Control }).message.message)).toContain('events must be');
    }
    expect((await state()).seq).toBe(before);
  });
});

describe('commands queued for an offline node', () => {
  it('should queue while offline, deduplicate by id, deliver once on reconnect and record the answer', async () => {
    const post = (body: unknown) => SELF.fetch(`${DASH}/api/nodes/home/commands`, { method: 'POST', headers: WRITE, body: JSON.stringify(body) });
    const first = await post({ id: 'start-api-1', method: 'POST', path: '/api/repos/api/server/start', body: { reason: 'test' } });
    expect(first.status).toBe(202);
    expect(((await first.json()) as { command: { state: string } }).command.state).toBe('queued');
    expect((await post({ id: 'start-api-1', method: 'POST', path: '/api/repos/api/server/start' })).status).toBe(202);
    const cancelled = await post({ id: 'cancel-me', method: 'DELETE', path: '/api/repos/web' });
    expect(cancelled.status).toBe(202);
    const del = await SELF.fetch(`${DASH}/api/nodes/home/commands/cancel-me`, { method: 'DELETE', headers: WRITE });
    expect(del.status).toBe(200);

    const node = await connect();
    const open = await node.next((f) => f.type === FrameType.Open);
    if (open.type !== FrameType.Open) throw new Error('no open');
    expect(open.head).toMatchObject({ method: 'POST', url: '/api/repos/api/server/start', target: { kind: 'api' } });
    expect(open.head.headers).toContainEqual(['x-homeport-command-id', 'start-api-1']);
    const body = await node.next((f) => f.type === FrameType.Data && f.streamId === open.streamId);
    if (body.type !== FrameType.Data) throw new Error('no body');
    expect(JSON.parse(new TextDecoder().decode(body.data))).toEqual({ reason: 'test' });
    node.send(encode.response(open.streamId, { status: 200, headers: [['content-type', 'application/json']] }, false));
    // (the pool may reorder back-to-back frames; give the head a moment to land first)
    await new Promise((r) => setTimeout(r, 50));
    node.send(encode.data(open.streamId, bytesOf('{"state":"starting"}'), true));

    let list: { id: string; state: string; status: number | null; result: unknown }[] = [];
    for (let i = 0; i < 100; i++) {
      list = ((await (await SELF.fetch(`${DASH}/api/nodes/home/commands`, { headers: LOCAL })).json()) as { commands: typeof list }).commands;
      if (list.find((c) => c.id === 'start-api-1')?.state === 'delivered') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(list.find((c) => c.id === 'start-api-1')).toMatchObject({ state: 'delivered', status: 200, result: { state: 'starting' } });
    expect(list.find((c) => c.id === 'cancel-me')).toMatchObject({ state: 'cancelled' });
    // Nothing else went to the node: the cancelled command never did, the duplicate was one.
    expect((await node.drain()).filter((f) => f.type === FrameType.Open)).toEqual([]);
  });

  it('should refuse bad commands with 400', async () => {
    for (const body of [{ method: 'GET', path: '/api/status' }, { method: 'POST', path: 'http://evil/' }, { method: 'POST', path: '/api/x', id: 'bad id!' }, { method: 'POST' }]) {
      const res = await SELF.fetch(`${DASH}/api/nodes/home/commands`, { method: 'POST', headers: WRITE, body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBeTruthy();
    }
  });
});

/** A browser's live socket on the dashboard. */
async function live(headers: Record<string, string> = { ...LOCAL, origin: DASH }) {
  const res = await SELF.fetch(`${DASH}/api/nodes/home/live`, { headers: { upgrade: 'websocket', ...headers } });
  if (res.status !== 101) return { status: res.status, ws: null, messages: [] as unknown[], next: async () => null as unknown };
  const ws = res.webSocket!;
  ws.accept();
  const messages: unknown[] = [];
  const waiters: (() => void)[] = [];
  ws.addEventListener('message', (e) => {
    messages.push(JSON.parse(e.data as string));
    for (const w of waiters.splice(0)) w();
  });
  let read = 0;
  const next = async (timeoutMs = 5000): Promise<unknown> => {
    const deadline = Date.now() + timeoutMs;
    while (read >= messages.length) {
      if (Date.now() > deadline) throw new Error('no live message');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        waiters.push(() => (clearTimeout(t), r()));
      });
    }
    return messages[read++];
  };
  return { status: 101, ws, messages, next };
}

describe('live events for browsers', () => {
  it('should replay what a browser missed, then stream new changes of its topics only', async () => {
    const node = await connect();
    const s = Number(node.welcome.ackedSeq);
    await sendEvents(node, [event(s + 1, 'repos', 'repo.added', { id: 'live1', name: 'one' }), event(s + 2, 'servers', 'server.state', { repoId: 'live1', state: 'running' })]);

    const browser = await live();
    browser.ws!.send(JSON.stringify({ type: 'subscribe', topics: ['repos', 'ports'], since: s }));
    const replayed = (await browser.next()) as EventEnvelope;
    expect(replayed).toMatchObject({ v: 1, nodeId: 'home', topic: 'repos', type: 'repo.added', seq: s + 1, payload: { id: 'live1' } });

    await sendEvents(node, [event(s + 3, 'servers', 'server.state', { repoId: 'live1', state: 'crashed' }), event(s + 4, 'repos', 'repo.updated', { id: 'live1', branch: 'dev' })]);
    const fresh = (await browser.next()) as EventEnvelope;
    // servers events are not subscribed: the next message is the repo update
    expect(fresh).toMatchObject({ topic: 'repos', type: 'repo.updated', seq: s + 4 });

    node.send(encode.control({ t: 'ports', ports: [{ port: 5173, address: '127.0.0.1', pid: 1, command: 'vite', cwd: '/x', repo: null }] }));
    const ports = (await browser.next()) as EventEnvelope<{ ports: { port: number }[] }>;
    expect(ports).toMatchObject({ topic: 'ports', type: 'ports.changed', seq: 0 });
    expect(ports.payload.ports.map((p) => p.port)).toEqual([5173]);
    browser.ws!.close();
  });

  it('should push share changes to browsers at once', async () => {
    const browser = await live();
    browser.ws!.send(JSON.stringify({ type: 'subscribe', topics: ['shares'] }));
    const put = await SELF.fetch(`${DASH}/api/nodes/home/shares/4321`, { method: 'PUT', headers: WRITE, body: JSON.stringify({ mode: 'public', expiresIn: '1h' }) });
    expect(put.status).toBe(200);
    const changed = (await browser.next()) as EventEnvelope<{ ports: number[]; shares: { port: number; mode: string }[] }>;
    expect(changed).toMatchObject({ topic: 'shares', type: 'share.updated', seq: 0, payload: { ports: [4321] } });
    expect(changed.payload.shares).toContainEqual(expect.objectContaining({ port: 4321, mode: 'public' }));
    await SELF.fetch(`${DASH}/api/nodes/home/shares/4321`, { method: 'DELETE', headers: WRITE });
    expect(await browser.next()).toMatchObject({ topic: 'shares', type: 'share.removed', payload: { ports: [4321] } });
    browser.ws!.close();
  });

  it('should tell a browser that resumes from too far back to reload', async () => {
    const node = await connect();
    const s = Number(node.welcome.ackedSeq);
    for (let batch = 0; batch < 11; batch++)
      await sendEvents(node, Array.from({ length: 200 }, (_, i) => event(s + batch * 200 + i + 1, 'noise', 'noise.made', { id: String(i) })));
    const browser = await live();
    browser.ws!.send(JSON.stringify({ type: 'subscribe', topics: ['*'], since: s }));
    expect(await browser.next()).toEqual({ type: 'reset', seq: s + 2200 });
    browser.ws!.close();
  });

  it('should refuse cross-origin pages and bad messages', async () => {
    expect((await live({ ...LOCAL, origin: 'https://share.test' })).status).toBe(403);
    // The same for any WebSocket under the API (browser VS Code is a shell on the node).
    for (const origin of ['https://evil.example', 'https://3000-home.share.test']) {
      const res = await SELF.fetch(`${DASH}/api/nodes/home/api/code/`, { headers: { upgrade: 'websocket', ...LOCAL, origin } });
      expect(res.status, origin).toBe(403);
      expect(((await res.json()) as { error: string }).error).toContain('cross-origin WebSocket');
    }
    expect((await live({ 'x-test-client-ip': '203.0.113.5', origin: DASH })).status).toBe(401);
    const browser = await live();
    browser.ws!.send('not json');
    expect(await browser.next()).toMatchObject({ type: 'error', message: 'not JSON' });
    browser.ws!.send(JSON.stringify({ type: 'subscribe', topics: 'repos' }));
    expect(await browser.next()).toMatchObject({ type: 'error' });
    browser.ws!.close();
  });
});
