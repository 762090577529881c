/**
 * End to end: a real dev server, reached through the real local edge (workerd) and the
 * tunnel to a real homeportd, in both URL forms and through the LAN door. The path form
 * serves public shares only, on ports that turn it on: this one is shared publicly with
 * its path form on.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanAuth } from './helpers/lan.ts';
import { ownerRequest as request, rssOf, startDevServer, startTestStack, workerdPidOf, type DevServer, type TestStack } from './helpers/stack.ts';

let stack: TestStack;
let dev: DevServer;
const MAX_BODY = 60_000_000;

beforeAll(async () => {
  stack = await startTestStack({ edgeVars: { UPSTREAM_TIMEOUT_MS: '2000', MAX_BODY_BYTES: String(MAX_BODY) } });
  dev = await startDevServer('shop-frontend');
  await stack.waitForTunnel('online');
  expect(stack.cli('share', String(dev.port), '--public').code).toBe(0);
  expect(stack.cli('port', String(dev.port), '--path-form').stdout).toContain('path form on');
});

afterAll(async () => {
  await dev?.stop();
  await stack?.stop();
});

const json = (text: string) => JSON.parse(text);

describe('path form /<port>/…', () => {
  it('should forward every method with its query, headers and body, prefix stripped', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const body = method === 'GET' || method === 'OPTIONS' ? undefined : `payload-${method}`;
      const res = await request(stack, `/${dev.port}/echo?q=1&q=2&x=%20y`, { method, body, headers: { 'x-custom': `v-${method}`, accept: 'application/json' } });
      expect(res.status).toBe(200);
      const seen = json(res.text);
      expect(seen.method).toBe(method);
      expect(seen.url).toBe('/echo?q=1&q=2&x=%20y');
      expect(seen.headers['x-custom']).toBe(`v-${method}`);
      expect(seen.size).toBe(body ? Buffer.byteLength(body) : 0);
    }
  });

  it('should set the Host header dev servers accept and X-Forwarded-* for the public origin', async () => {
    const seen = json((await request(stack, `/${dev.port}/echo`)).text);
    expect(seen.headers.host).toBe(`localhost:${dev.port}`);
    expect(seen.headers['x-forwarded-host']).toBe(stack.shareHost);
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-prefix']).toBe(`/${dev.port}`);
    // A local edge cannot know the visitor's address, so it vouches for none.
    expect(seen.headers['x-forwarded-for']).toBeUndefined();
  });

  it('should keep multi-value response headers, several Set-Cookie among them, with paths rewritten', async () => {
    const res = await request(stack, `/${dev.port}/cookies`);
    const cookies = res.headers['set-cookie']!;
    expect(cookies).toHaveLength(3);
    expect(cookies[0]).toBe(`session=abc; Path=/${dev.port}/; HttpOnly`);
    expect(cookies[1]).toBe(`theme=dark; Path=/${dev.port}/settings`);
    expect(cookies[2]).toBe('plain=1');
    const multi = await request(stack, `/${dev.port}/echo`);
    expect(multi.headers['x-multi']).toBe('one, two');
  });

  it("should pass a dev server's compressed answer through as it is, not compressed twice", async () => {
    const res = await request(stack, `/${dev.port}/gzip`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(res.body).toString()).toBe('compressed by the dev server '.repeat(200));
  });

  it('should rewrite Location so redirects stay inside the share', async () => {
    const relative = await request(stack, `/${dev.port}/redirect?to=/landing`);
    expect(relative.status).toBe(302);
    expect(relative.headers.location).toBe(`/${dev.port}/landing`);
    const absolute = await request(stack, `/${dev.port}/redirect?to=${encodeURIComponent(`http://localhost:${dev.port}/abs?a=1`)}`);
    expect(absolute.headers.location).toBe(`http://${stack.shareHost}/${dev.port}/abs?a=1`);
    const foreign = await request(stack, `/${dev.port}/redirect?to=${encodeURIComponent('https://example.org/x')}`);
    expect(foreign.headers.location).toBe('https://example.org/x');
  });

  it('should send a root-absolute request into the prefix of the page that asked for it', async () => {
    const res = await request(stack, '/echo?from=root', { method: 'POST', body: 'kept', headers: { referer: `http://${stack.shareHost}/${dev.port}/app/` } });
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe(`/${dev.port}/echo?from=root`);
    const followed = json((await request(stack, res.headers.location!, { method: 'POST', body: 'kept' })).text);
    expect(followed).toMatchObject({ method: 'POST', url: '/echo?from=root', size: 4 });
  });

  it("should answer a port whose path form is off with a page that links the port's own origin", async () => {
    expect(stack.cli('port', String(dev.port), '--no-path-form').stdout).toContain('path form off');
    try {
      const res = await request(stack, `/${dev.port}/echo`);
      expect(res.status).toBe(404);
      expect(res.text).toContain('Path form off for this port');
      expect(res.text).toContain(`href="http://${dev.port}-${stack.nodeId}.${stack.shareHost}/"`);
    } finally {
      expect(stack.cli('port', String(dev.port), '--path-form').code).toBe(0);
    }
  });

  it('should redirect /<port> to /<port>/ so relative links resolve', async () => {
    const res = await request(stack, `/${dev.port}?a=b`);
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe(`/${dev.port}/?a=b`);
  });

  it('should keep the prefix for a port configured that way', async () => {
    expect(stack.cli('port', String(dev.port), '--keep-prefix').code).toBe(0);
    try {
      // The dev server now sees the prefix (its fallback page prints the path it got).
      const page = (await request(stack, `/${dev.port}/echo?k=1`)).text;
      expect(page).toContain(`<p id="path">/${dev.port}/echo?k=1</p>`);
    } finally {
      expect(stack.cli('port', String(dev.port), '--strip-prefix').code).toBe(0);
    }
    expect(json((await request(stack, `/${dev.port}/echo`)).text).url).toBe('/echo');
  });

  it('should pass status codes through and answer unknown ports with a clear page', async () => {
    expect((await request(stack, `/${dev.port}/status?code=418`)).status).toBe(418);
    const nothing = await request(stack, '/', { host: `9999-${stack.nodeId}.${stack.shareHost}` });
    expect(nothing.status).toBe(502);
    expect(nothing.text).toContain('No dev server answers on port 9999');
    const outside = await request(stack, '/', { host: `22-${stack.nodeId}.${stack.shareHost}` });
    expect(outside.status).toBe(403);
    expect(outside.text).toContain('outside this node');
  });

  it("should answer with Homeport's own 504 when the dev server does not answer in time", async () => {
    const started = Date.now();
    const res = await request(stack, `/${dev.port}/slow`);
    expect(res.status).toBe(504);
    expect(res.text).toContain(`The dev server on port ${dev.port} did not answer`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('should stream Server-Sent Events event by event', async () => {
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: stack.edgePort, path: `/${dev.port}/sse`, headers: { host: stack.shareHost, accept: 'text/event-stream', ...stack.ownerHeaders } }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buffer += d;
          const parts = buffer.split('\n\n');
          buffer = parts.pop()!;
          for (const part of parts) {
            events.push(part);
            // The second event is only sent once the first has arrived: a buffering proxy would hang here.
            if (events.length === 1) request(stack, `/${dev.port}/sse-next`).catch(reject);
          }
        });
        res.on('end', () => resolve());
      });
      req.on('error', reject);
    });
    expect(events).toEqual(['id: 1\nevent: tick\ndata: first', 'id: 2\nevent: tick\ndata: second']);
  });
});

describe('subdomain form <port>-<node>.<share host>', () => {
  it('should route by host with no prefix to strip or add', async () => {
    const host = `${dev.port}-${stack.nodeId}.${stack.shareHost}`;
    const seen = json((await request(stack, '/echo?sub=1', { host })).text);
    expect(seen.url).toBe('/echo?sub=1');
    expect(seen.headers['x-forwarded-host']).toBe(host);
    const cookies = (await request(stack, '/cookies', { host })).headers['set-cookie']!;
    expect(cookies[0]).toBe('session=abc; Path=/; HttpOnly');
    expect((await request(stack, '/redirect?to=/next', { host })).headers.location).toBe('/next');
  });
});

describe('the LAN door', () => {
  it('should serve each port on its own origin straight from homeportd', async () => {
    const lan = { port: stack.lanPort, host: `${dev.port}.localhost:${stack.lanPort}`, headers: lanAuth(stack.dataDir) };
    const res = await request(stack, '/echo?lan=1', lan);
    expect(res.status).toBe(200);
    const seen = json(res.text);
    expect(seen.url).toBe('/echo?lan=1');
    expect(seen.headers.host).toBe(`localhost:${dev.port}`);
    const cookies = (await request(stack, '/cookies', lan)).headers['set-cookie']!;
    expect(cookies).toHaveLength(3);
    expect(cookies[0]).toBe('session=abc; Path=/; HttpOnly');
  });
});

describe('large bodies', () => {
  it('should stream a 200 MB download with bounded memory at the edge and the node, even with a slow reader', async () => {
    const workerd = workerdPidOf(stack.edge.pid!);
    const node = stack.node.pid!;
    // Warm up first (code loaded, buffers and JIT in place), so the baseline is the steady one.
    const warm = await request(stack, `/${dev.port}/download?mb=16`);
    expect(warm.body.length).toBe(16 * 1024 * 1024);
    const base = { edge: rssOf(workerd), node: rssOf(node) };
    const peak = { edge: base.edge, node: base.node };
    const sample = setInterval(() => {
      peak.edge = Math.max(peak.edge, rssOf(workerd));
      peak.node = Math.max(peak.node, rssOf(node));
    }, 50);
    const mb = 200;
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: stack.edgePort, path: `/${dev.port}/download?mb=${mb}`, headers: { host: stack.shareHost, ...stack.ownerHeaders } }, (res) => {
        expect(res.statusCode).toBe(200);
        let paused = false;
        res.on('data', (c: Buffer) => {
          received += c.length;
          // Stop reading for a while at 20 MB: nothing may pile up anywhere meanwhile.
          if (!paused && received > 20 * 1024 * 1024) {
            paused = true;
            res.pause();
            setTimeout(() => res.resume(), 2000);
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      }).on('error', reject);
    });
    clearInterval(sample);
    expect(received).toBe(mb * 1024 * 1024);
    // Without flow control the pause alone would pile up the remaining ~180 MB somewhere.
    // The bound leaves room for garbage the isolate's GC has not collected yet, which on a
    // busy machine (CI runs the other projects alongside) reached ~85 MiB at the edge.
    const BOUND = 100 * 1024 * 1024;
    expect(peak.edge - base.edge, `edge grew ${((peak.edge - base.edge) / 1048576).toFixed(1)} MiB`).toBeLessThan(BOUND);
    expect(peak.node - base.node, `node grew ${((peak.node - base.node) / 1048576).toFixed(1)} MiB`).toBeLessThan(BOUND);
  });

  it('should stream a 50 MB upload through intact', async () => {
    const size = 50 * 1024 * 1024;
    const piece = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < piece.length; i++) piece[i] = (i * 31) & 0xff;
    const hash = createHash('sha256');
    for (let i = 0; i < size / piece.length; i++) hash.update(piece);
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: stack.edgePort, path: `/${dev.port}/echo`, method: 'POST', headers: { host: stack.shareHost, 'content-length': String(size), ...stack.ownerHeaders } },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      Readable.from(
        (function* () {
          for (let i = 0; i < size / piece.length; i++) yield piece;
        })(),
      ).pipe(req);
    });
    const seen = json(body);
    expect(seen.size).toBe(size);
    expect(seen.sha256).toBe(hash.digest('hex'));
  });

  // A declared Content-Length over the limit is refused by the Worker before any byte is
  // read (edge/src tests, in workerd); wrangler's local proxy waits for the body first.
  it('should refuse a streamed body once it passes the limit', async () => {
    const streamed = await new Promise<{ status: number; text: string; page: string | undefined }>((resolve, reject) => {
      // Like a browser or curl, the client stops uploading once the answer arrives; writing on
      // would race the server's close against the answer's body.
      let answered = false;
      const req = http.request({ host: '127.0.0.1', port: stack.edgePort, path: `/${dev.port}/echo`, method: 'POST', headers: { host: stack.shareHost, ...stack.ownerHeaders } }, (res) => {
        answered = true;
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, text, page: res.headers['x-homeport-error'] as string | undefined }));
      });
      req.on('error', reject);
      const piece = Buffer.alloc(1024 * 1024, 1);
      let sent = 0;
      const write = () => {
        while (sent < MAX_BODY + 5 * 1024 * 1024 && !answered) {
          sent += piece.length;
          if (!req.write(piece)) return void req.once('drain', write);
        }
        req.end();
      };
      write();
    });
    // Homeport's own page, known by its header: local workerd sometimes closes the socket of an
    // upload it stopped reading before the page's body is through, so the text may not arrive.
    expect(streamed.status).toBe(413);
    expect(streamed.page).toBe('413');
    if (streamed.text) expect(streamed.text).toContain('Upload too large');
  });
});
