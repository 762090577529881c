import { SELF } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Flags, FrameType, INITIAL_WINDOW, PROTOCOL_VERSION, encode } from '@homeport/shared';
import { FakeNode, LOCAL, answer, bytesOf, concat, textOfBytes, waitOffline, homeNodeToken } from './fake-node.ts';

beforeEach(async () => {
  await homeNodeToken();
});

// The machine may be busy (end-to-end suites run alongside): room beyond the edge's 1.5 s answer timeout.
vi.setConfig({ testTimeout: 15_000, hookTimeout: 15_000 });

let node: FakeNode | null = null;

async function connect() {
  node = await FakeNode.connect();
  return node;
}

afterEach(async () => {
  node?.close();
  node = null;
  await waitOffline();
});

/** `/<port>/rest` on that port's own origin (the subdomain form: the path form serves public shares only). */
const share = (path: string, init: RequestInit = {}) => {
  const [, port, rest] = /^\/(\d+)(.*)$/.exec(path)!;
  return SELF.fetch(`https://${port}-home.share.test${rest || '/'}`, { redirect: 'manual', ...init, headers: { ...LOCAL, ...(init.headers as Record<string, string>) } });
};

const headerOf = (headers: [string, string][], name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);

describe('NodeHub with no node connected', () => {
  it('should answer a share request with the 503 node offline page', async () => {
    const res = await share('/3000/');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('retry-after')).toBe('5');
    const body = await res.text();
    expect(body).toContain('Home node offline');
    expect(body).toContain('The home node &#34;home&#34; is not connected');
  });

  it('should report the node offline on the API', async () => {
    const res = await SELF.fetch('https://dash.test/api/nodes', { headers: LOCAL });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { nodes: { id: string; online: boolean; shareBaseUrl: string }[] };
    expect(body.nodes).toHaveLength(1);
    expect(body.nodes[0]).toMatchObject({ id: 'home', online: false, shareBaseUrl: 'https://share.test' });
  });
});

describe('NodeHub tunnel', () => {
  it('should welcome the node with its share URLs and show it online', async () => {
    const n = await connect();
    expect(n.welcome).toEqual({
      t: 'welcome',
      nodeId: 'home',
      shareBaseUrl: 'https://share.test',
      subdomainUrlTemplate: 'https://{port}-home.share.test/',
      dashboardUrl: 'https://dash.test',
      // where the node's outbox resumes (nothing applied in this file)
      ackedSeq: 0,
    });
    const body = (await (await SELF.fetch('https://dash.test/api/nodes', { headers: LOCAL })).json()) as { nodes: { online: boolean; agent: string }[] };
    expect(body.nodes[0]).toMatchObject({ online: true, agent: 'test' });
  });

  it('should answer pings with pongs carrying the same bytes', async () => {
    const n = await connect();
    n.send(encode.ping(new Uint8Array([1, 2, 3, 4])));
    const pong = await n.expect(FrameType.Pong);
    expect([...pong.data]).toEqual([1, 2, 3, 4]);
  });

  it('should close a tunnel that speaks another protocol version', async () => {
    const res = await SELF.fetch('https://dash.test/api/tunnel', {
      headers: { upgrade: 'websocket', authorization: `Bearer ${await homeNodeToken()}`, 'x-homeport-node': 'home' },
    });
    const ws = res.webSocket!;
    ws.accept();
    const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener('close', resolve));
    ws.send(encode.control({ t: 'hello', nodeId: 'home', agent: 'test', protocol: PROTOCOL_VERSION + 1, ports: [] }));
    const event = await closed;
    expect(event.code).toBe(4002);
    expect(event.reason).toContain('not supported');
  });

  it('should replace an older tunnel when the node reconnects', async () => {
    const first = await FakeNode.connect();
    const second = await connect();
    const closed = await first.closed;
    expect(closed.code).toBe(4000);
    // Requests now go through the new tunnel.
    const resP = share('/3000/');
    const open = await second.expect(FrameType.Open);
    second.send(encode.response(open.streamId, { status: 204, headers: [] }, true));
    expect((await resP).status).toBe(204);
  });

  it('should report a malformed binary frame and keep the tunnel working', async () => {
    const n = await connect();
    const bad = encode.data(1, bytesOf('x'));
    bad[0] = 9; // wrong version
    n.send(bad);
    const error = await n.expect(FrameType.Control);
    expect(error.message.t).toBe('protocol-error');
    expect(String(error.message.message)).toContain('version');
    n.send(new Uint8Array([1, 2, 3]));
    const short = await n.expect(FrameType.Control);
    expect(short.message).toMatchObject({ t: 'protocol-error' });
    await expectWorkingTunnel(n);
  });

  it('should answer a text message with a protocol error and keep the tunnel working', async () => {
    const n = await connect();
    n.send('{"t":"hello"}');
    const error = await n.expect(FrameType.Control);
    expect(error.message).toMatchObject({ t: 'protocol-error', message: 'the tunnel carries binary frames only' });
    await expectWorkingTunnel(n);
  });

  it('should refuse streams opened by the node', async () => {
    const n = await connect();
    n.send(encode.open(99, { method: 'GET', url: '/', headers: [], target: { kind: 'api' } }, true));
    const reset = await n.expect(FrameType.Reset);
    expect(reset.streamId).toBe(99);
    expect(reset.reset.code).toBe('refused');
  });

  it('should tell the node to drop frames for streams the edge does not know', async () => {
    const n = await connect();
    n.send(encode.data(4242, bytesOf('late')));
    const reset = await n.expect(FrameType.Reset);
    expect(reset).toMatchObject({ streamId: 4242, reset: { code: 'unknown_stream' } });
  });

  it('should keep the ports the node reports and show them on the API', async () => {
    const n = await connect();
    const ports = [
      { port: 3000, address: '127.0.0.1', pid: 1234, command: 'node server.js', cwd: '/src/app', repo: { root: '/src/app', name: 'app' }, firstSeen: 1 },
      { port: 5173, address: '::', pid: null, command: null, cwd: null, repo: null, firstSeen: 2 },
    ];
    n.send(encode.control({ t: 'ports', ports }));
    await vi.waitFor(
      async () => {
        const res = await SELF.fetch('https://dash.test/api/nodes/home/ports', { headers: LOCAL });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { node: string; online: boolean; ports: Record<string, unknown>[] };
        expect(body.node).toBe('home');
        expect(body.online).toBe(true);
        expect(body.ports).toEqual([
          { ...ports[0], url: 'https://3000-home.share.test/', subdomainUrl: 'https://3000-home.share.test/', pathUrl: 'https://share.test/3000/', mode: 'private', expiresAt: null },
          { ...ports[1], url: 'https://5173-home.share.test/', subdomainUrl: 'https://5173-home.share.test/', pathUrl: 'https://share.test/5173/', mode: 'private', expiresAt: null },
        ]);
      },
      { timeout: 5000, interval: 20 },
    );
    // A later list replaces the earlier one.
    n.send(encode.control({ t: 'ports', ports: [ports[1]] }));
    await vi.waitFor(async () => expect((await portsOnApi()).map((p) => p.port)).toEqual([5173]), { timeout: 5000, interval: 20 });
    // An invalid one is ignored.
    n.send(encode.control({ t: 'ports', ports: [{ port: 'x' }] }));
    await n.drain();
    await n.drain();
    expect((await portsOnApi()).map((p) => p.port)).toEqual([5173]);
  });

  it('should keep the last ports while the node is offline', async () => {
    const n = await connect();
    n.send(encode.control({ t: 'ports', ports: [{ port: 8080, address: '0.0.0.0', pid: 1, command: null, cwd: null, repo: null, firstSeen: 0 }] }));
    await vi.waitFor(async () => expect((await portsOnApi()).map((p) => p.port)).toEqual([8080]), { timeout: 5000, interval: 20 });
    n.close();
    node = null;
    await waitOffline();
    const body = (await (await SELF.fetch('https://dash.test/api/nodes/home/ports', { headers: LOCAL })).json()) as {
      online: boolean;
      lastSeen: number | null;
      ports: { port: number }[];
    };
    expect(body.online).toBe(false);
    expect(body.lastSeen).toEqual(expect.any(Number));
    expect(body.ports.map((p) => p.port)).toEqual([8080]);
  });
});

async function portsOnApi(): Promise<{ port: number }[]> {
  const res = await SELF.fetch('https://dash.test/api/nodes/home/ports', { headers: LOCAL });
  return ((await res.json()) as { ports: { port: number }[] }).ports;
}

/** A full GET through the tunnel still works. */
async function expectWorkingTunnel(n: FakeNode) {
  const resP = share('/3000/still-ok');
  const open = await n.expect(FrameType.Open);
  expect(open.head.url).toBe('/still-ok');
  const { res, body } = await answer(n, open.streamId, resP, { status: 200, headers: [['content-type', 'text/plain']] }, ['ok']);
  expect(res.status).toBe(200);
  expect(textOfBytes(body)).toBe('ok');
}

describe('NodeHub forwarding HTTP', () => {
  it('should forward a GET end to end with its head, keeping every Set-Cookie', async () => {
    const n = await connect();
    const resP = share('/3000/app/page?q=1&r=two', {
      headers: { accept: 'text/html', 'x-custom': 'yes', cookie: 'a=1', 'x-homeport-target': '{"kind":"api"}', 'cf-ray': 'abc' },
    });
    const open = await n.expect(FrameType.Open);
    expect(open.flags & Flags.End).toBe(Flags.End);
    expect(open.head).toMatchObject({
      method: 'GET',
      url: '/app/page?q=1&r=two',
      target: { kind: 'port', port: 3000, prefix: '' },
      clientIp: 'local',
      origin: 'https://3000-home.share.test',
    });
    expect(open.head.websocket).toBeUndefined();
    expect(headerOf(open.head.headers, 'accept')).toEqual(['text/html']);
    expect(headerOf(open.head.headers, 'x-custom')).toEqual(['yes']);
    expect(headerOf(open.head.headers, 'cookie')).toEqual(['a=1']);
    // Our internal headers and Cloudflare's never reach the node.
    const names = open.head.headers.map(([name]) => name);
    expect(names.filter((name) => name.startsWith('x-homeport-') || name.startsWith('cf-') || name === 'host')).toEqual([]);

    const head = {
      status: 201,
      headers: [
        ['content-type', 'text/plain; charset=utf-8'],
        ['set-cookie', 'a=1; Path=/3000/'],
        ['set-cookie', 'b=2; Path=/3000/; HttpOnly'],
        ['x-app', 'demo'],
      ] as [string, string][],
    };
    const { res, body } = await answer(n, open.streamId, resP, head, ['hello ', 'world']);
    expect(res.status).toBe(201);
    expect(res.headers.getAll('set-cookie')).toEqual(['a=1; Path=/3000/', 'b=2; Path=/3000/; HttpOnly']);
    expect(res.headers.get('x-app')).toBe('demo');
    expect(textOfBytes(body)).toBe('hello world');
  });

  it('should give each request its own stream', async () => {
    const n = await connect();
    const aP = share('/3000/a');
    const bP = share('/3001/b');
    // Heads go out as each stream opens (the edge's answer timer covers only the head).
    const first = await n.expect(FrameType.Open);
    n.send(encode.response(first.streamId, { status: 200, headers: [] }, false));
    const second = await n.expect(FrameType.Open);
    n.send(encode.response(second.streamId, { status: 200, headers: [] }, false));
    expect(first.streamId).not.toBe(second.streamId);
    const [a, b] = await Promise.all([aP, bP]);
    // Bodies in reverse order; each goes to its own request.
    for (const open of [second, first])
      n.send(encode.data(open.streamId, bytesOf(`${open.head.target.kind === 'port' ? open.head.target.port : 0}${open.head.url}`), true));
    expect(await a.text()).toBe('3000/a');
    expect(await b.text()).toBe('3001/b');
  });

  it('should send a POST body in Data frames ending with End', async () => {
    const n = await connect();
    const body = new Uint8Array(300 * 1024).map((_, i) => (i * 7) & 0xff);
    const resP = share('/3000/upload', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    const open = await n.expect(FrameType.Open);
    expect(open.flags & Flags.End).toBe(0);
    expect(open.head.method).toBe('POST');
    expect(headerOf(open.head.headers, 'content-type')).toEqual(['application/octet-stream']);
    const parts: Uint8Array[] = [];
    let frames = 0;
    for (;;) {
      const data = await n.expect(FrameType.Data);
      expect(data.streamId).toBe(open.streamId);
      frames++;
      parts.push(data.data);
      if (data.flags & Flags.End) break;
    }
    expect(frames).toBeGreaterThanOrEqual(2);
    const received = concat(parts);
    expect(received.byteLength).toBe(body.byteLength);
    // (a byte loop: deep equality on 300 K elements is slow)
    expect(received.findIndex((b, i) => b !== body[i])).toBe(-1);
    const answered = await answer(n, open.streamId, resP, { status: 200, headers: [] }, [`got ${received.byteLength}`]);
    expect(textOfBytes(answered.body)).toBe(`got ${body.byteLength}`);
  });

  it('should stream a response body as the Data frames arrive', async () => {
    const n = await connect();
    const resP = share('/3000/stream');
    const open = await n.expect(FrameType.Open);
    n.send(encode.response(open.streamId, { status: 200, headers: [['content-type', 'text/event-stream']] }, false));
    const res = await resP;
    expect(res.status).toBe(200);
    n.send(encode.data(open.streamId, bytesOf('data: one\n\n')));
    const reader = res.body!.getReader();
    // The first chunk is readable before the node has sent the rest.
    const first = await reader.read();
    expect(textOfBytes(first.value!)).toBe('data: one\n\n');
    n.send(encode.data(open.streamId, bytesOf('data: two\n\n')));
    const second = await reader.read();
    expect(textOfBytes(second.value!)).toBe('data: two\n\n');
    n.send(encode.data(open.streamId, bytesOf('data: three\n\n')));
    expect(textOfBytes((await reader.read()).value!)).toBe('data: three\n\n');
    n.send(encode.end(open.streamId));
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += textOfBytes(value);
    }
    expect(rest).toBe('');
  });

  it('should grant the node credit as the visitor reads a large body', async () => {
    const n = await connect();
    const resP = share('/3000/big');
    const open = await n.expect(FrameType.Open);
    const chunk = new Uint8Array(200 * 1024).fill(42);
    const { body } = await answer(n, open.streamId, resP, { status: 200, headers: [] }, [chunk, chunk]);
    expect(body.byteLength).toBe(2 * chunk.byteLength);
    expect(body.every((b) => b === 42)).toBe(true);
    const window = await n.next((f) => f.type === FrameType.Window);
    expect(window.streamId).toBe(open.streamId);
    expect(window.type === FrameType.Window && window.credit).toBeGreaterThanOrEqual(INITIAL_WINDOW / 4);
  });

  it('should refuse a Content-Length over the limit with 413 without opening a stream', async () => {
    const n = await connect();
    const res = await share('/3000/upload', { method: 'POST', body: new Uint8Array(1_000_001) });
    expect(res.status).toBe(413);
    expect(await res.text()).toContain('Upload too large');
    expect(await n.drain()).toEqual([]);
  });

  it('should answer 504 when the node never answers, and reset the stream', async () => {
    const n = await connect();
    const started = Date.now();
    const resP = share('/3000/slow');
    const open = await n.expect(FrameType.Open);
    const res = await resP;
    const elapsed = Date.now() - started;
    expect(res.status).toBe(504);
    expect(await res.text()).toContain('did not answer');
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(10_000);
    const reset = await n.expect(FrameType.Reset);
    expect(reset).toMatchObject({ streamId: open.streamId, reset: { code: 'timeout' } });
  });

  it('should answer 502 when the tunnel drops before the response head', async () => {
    const n = await connect();
    const resP = share('/3000/pending');
    await n.expect(FrameType.Open);
    n.close(1001, 'node going away');
    node = null;
    const res = await resP;
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('Home node disconnected');
  });

  it('should error the body when the tunnel drops mid-body', async () => {
    const n = await connect();
    const resP = share('/3000/download');
    const open = await n.expect(FrameType.Open);
    n.send(encode.response(open.streamId, { status: 200, headers: [] }, false));
    const res = await resP;
    expect(res.status).toBe(200);
    n.send(encode.data(open.streamId, bytesOf('partial')));
    const reader = res.body!.getReader();
    expect(textOfBytes((await reader.read()).value!)).toBe('partial');
    n.close(1001, 'node going away');
    node = null;
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return 'ended cleanly';
      })(),
    ).rejects.toThrow();
  });

  it('should end the body with an error when the node resets the stream', async () => {
    const n = await connect();
    const resP = share('/3000/reset');
    const open = await n.expect(FrameType.Open);
    n.send(encode.reset(open.streamId, 'upstream_failed', 'ECONNREFUSED'));
    const res = await resP;
    expect(res.status).toBe(502);
    await expectWorkingTunnel(n);
  });
});

describe('NodeHub routing of share URLs', () => {
  it('should route the subdomain form to the port with an empty prefix', async () => {
    const n = await connect();
    const resP = SELF.fetch('https://3000-home.share.test/x?y=1', { headers: LOCAL });
    const open = await n.expect(FrameType.Open);
    expect(open.head.url).toBe('/x?y=1');
    expect(open.head.target).toEqual({ kind: 'port', port: 3000, prefix: '' });
    expect(open.head.origin).toBe('https://3000-home.share.test');
    n.send(encode.response(open.streamId, { status: 200, headers: [] }, true));
    expect((await resP).status).toBe(200);
  });
});

describe('NodeHub forwarding WebSockets', () => {
  it('should relay text and binary messages both ways and pass the close to the node', async () => {
    const n = await connect();
    const resP = share('/3000/hmr', { headers: { upgrade: 'websocket', 'sec-websocket-protocol': 'vite-hmr' } });
    const open = await n.expect(FrameType.Open);
    expect(open.head.websocket).toBe(true);
    expect(open.head.url).toBe('/hmr');
    expect(headerOf(open.head.headers, 'upgrade')).toEqual(['websocket']);
    expect(headerOf(open.head.headers, 'sec-websocket-protocol')).toEqual(['vite-hmr']);
    n.send(encode.response(open.streamId, { status: 101, headers: [['sec-websocket-protocol', 'vite-hmr']] }, false));
    const res = await resP;
    expect(res.status).toBe(101);
    expect(res.headers.get('sec-websocket-protocol')).toBe('vite-hmr');
    const visitor = res.webSocket!;
    visitor.binaryType = 'arraybuffer';
    const received: (string | ArrayBuffer)[] = [];
    let wake: () => void = () => {};
    visitor.addEventListener('message', (e) => {
      received.push(e.data as string | ArrayBuffer);
      wake();
    });
    visitor.accept();
    const nextMessage = async () => {
      while (!received.length) await new Promise<void>((resolve) => (wake = resolve));
      return received.shift()!;
    };

    // node → visitor
    n.send(encode.wsMessage(open.streamId, 'hello from the dev server'));
    expect(await nextMessage()).toBe('hello from the dev server');
    n.send(encode.wsMessage(open.streamId, new Uint8Array([0, 1, 254, 255])));
    const binary = await nextMessage();
    expect(binary).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(binary as ArrayBuffer)]).toEqual([0, 1, 254, 255]);

    // visitor → node
    visitor.send('{"type":"ping"}');
    const text = await n.expect(FrameType.WsMessage);
    expect(text.streamId).toBe(open.streamId);
    expect(text.flags & Flags.Binary).toBe(0);
    expect(textOfBytes(text.data)).toBe('{"type":"ping"}');
    visitor.send(new Uint8Array([9, 8, 7, 0, 255]));
    const bin = await n.expect(FrameType.WsMessage);
    expect(bin.flags & Flags.Binary).toBe(Flags.Binary);
    expect([...bin.data]).toEqual([9, 8, 7, 0, 255]);

    visitor.close(4321, 'visitor done');
    const close = await n.expect(FrameType.WsClose);
    expect(close).toMatchObject({ streamId: open.streamId, code: 4321, reason: 'visitor done' });
  });

  it('should close the visitor socket with the code the node sends', async () => {
    const n = await connect();
    const resP = share('/3000/ws', { headers: { upgrade: 'websocket' } });
    const open = await n.expect(FrameType.Open);
    n.send(encode.response(open.streamId, { status: 101, headers: [] }, false));
    const visitor = (await resP).webSocket!;
    const closed = new Promise<CloseEvent>((resolve) => visitor.addEventListener('close', resolve));
    visitor.accept();
    n.send(encode.wsClose(open.streamId, 4001, 'server restarting'));
    const event = await closed;
    expect(event.code).toBe(4001);
    expect(event.reason).toBe('server restarting');
  });

  it('should pass a refused upgrade through as a plain response', async () => {
    const n = await connect();
    const resP = share('/3000/ws', { headers: { upgrade: 'websocket' } });
    const open = await n.expect(FrameType.Open);
    const { res, body } = await answer(n, open.streamId, resP, { status: 404, headers: [['content-type', 'text/plain']] }, ['no socket here']);
    expect(res.status).toBe(404);
    expect(res.webSocket).toBeNull();
    expect(textOfBytes(body)).toBe('no socket here');
  });
});
