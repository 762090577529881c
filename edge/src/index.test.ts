import { SELF } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameType } from '@homeport/shared';
import { FakeNode, LOCAL, answer, concat, homeNodeToken, textOfBytes, waitOffline } from './fake-node.ts';

// The machine may be busy (end-to-end suites run alongside): room beyond the edge's 1.5 s answer timeout.
vi.setConfig({ testTimeout: 15_000, hookTimeout: 15_000 });

const tunnel = (headers: Record<string, string>) => SELF.fetch('https://dash.test/api/tunnel', { headers });

describe('the tunnel endpoint', () => {
  it('should refuse a node without a token', async () => {
    const res = await tunnel({ upgrade: 'websocket', 'x-homeport-node': 'home' });
    expect(res.status).toBe(401);
    expect(res.webSocket).toBeNull();
    expect(((await res.json()) as { error: string }).error).toContain('pair this node again');
  });

  it('should refuse a wrong token, a token without Bearer, and an unknown node', async () => {
    const NODE_TOKEN = await homeNodeToken();
    const cases: Record<string, string>[] = [
      { upgrade: 'websocket', authorization: 'Bearer wrong-token', 'x-homeport-node': 'home' },
      { upgrade: 'websocket', authorization: `Bearer ${NODE_TOKEN}x`, 'x-homeport-node': 'home' },
      { upgrade: 'websocket', authorization: NODE_TOKEN, 'x-homeport-node': 'home' },
      { upgrade: 'websocket', authorization: `Bearer ${NODE_TOKEN}`, 'x-homeport-node': 'other' },
      { upgrade: 'websocket', authorization: `Bearer hpn_${'A'.repeat(43)}` },
    ];
    for (const headers of cases) {
      const res = await tunnel(headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.webSocket).toBeNull();
    }
  });

  it('should answer 426 to a right token without a WebSocket upgrade', async () => {
    const NODE_TOKEN = await homeNodeToken();
    const res = await tunnel({ authorization: `Bearer ${NODE_TOKEN}`, 'x-homeport-node': 'home' });
    expect(res.status).toBe(426);
    expect(res.webSocket).toBeNull();
  });

  it('should not need the owner address: the token is the credential', async () => {
    const NODE_TOKEN = await homeNodeToken();
    // The node id header is optional: the token says which node this is.
    const res = await tunnel({ upgrade: 'websocket', authorization: `Bearer ${NODE_TOKEN}`, 'x-test-client-ip': '203.0.113.9' });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    ws.close(1000, 'done');
    await waitOffline();
  });
});

describe('the dashboard host', () => {
  it('should answer unknown API routes with JSON 404', async () => {
    const res = await SELF.fetch('https://dash.test/api/nope', { headers: LOCAL });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'no such API route' });
  });

  it('should refuse node ids that are not ids', async () => {
    const res = await SELF.fetch('https://dash.test/api/nodes/Not_A_Node/ports', { headers: LOCAL });
    expect(res.status).toBe(400);
  });

  it('should serve the web app outside /api', async () => {
    const res = await SELF.fetch('https://dash.test/', { headers: LOCAL });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect((await res.text()).toLowerCase()).toContain('<!doctype html>');
  });
});

describe('the node API through the tunnel', () => {
  let node: FakeNode | null = null;
  afterEach(async () => {
    node?.close();
    node = null;
    await waitOffline();
  });

  it('should forward /api/nodes/<node>/api/* to the node API with only safe headers', async () => {
    node = await FakeNode.connect();
    const resP = SELF.fetch('https://dash.test/api/nodes/home/api/ports/3000?x=1', {
      method: 'PUT',
      body: '{"share":"private"}',
      // A state-changing call carries the dashboard's Origin (CSRF); cookies and Origin stay at the edge.
      headers: { ...LOCAL, origin: 'https://dash.test', 'content-type': 'application/json', accept: 'application/json', cookie: 'session=secret' },
    });
    const open = await node.expect(FrameType.Open);
    expect(open.head).toMatchObject({ method: 'PUT', url: '/api/ports/3000?x=1', target: { kind: 'api' } });
    expect(open.head.headers.map(([n]) => n).sort()).toEqual(['accept', 'content-type']);
    const parts: Uint8Array[] = [];
    for (;;) {
      const data = await node.expect(FrameType.Data);
      parts.push(data.data);
      if (data.flags & 1) break;
    }
    expect(textOfBytes(concat(parts))).toBe('{"share":"private"}');
    const { res, body } = await answer(node, open.streamId, resP, { status: 200, headers: [['content-type', 'application/json']] }, ['{"ok":true}']);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(textOfBytes(body))).toEqual({ ok: true });
  });
});
