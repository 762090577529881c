/**
 * Attacks on the LAN door, end to end against a real homeportd: a client on loopback
 * without the key, a rebinding page's Host, the key leaking to the app; and the door's
 * own origin per dev port (`<port>.localhost`, a door port per dev port on the LAN).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanAuth, lanKey } from '../helpers/lan.ts';
import { request, startDevServer, startTestStack, waitFor, type DevServer, type TestStack } from '../helpers/stack.ts';

/** Dev port P has its own door port P + OFFSET (outside the ports the test helpers hand out). */
const OFFSET = 50_000;

let stack: TestStack;
let dev: DevServer;
let key: string;

const echoed = (text: string) => JSON.parse(text) as { url: string; headers: Record<string, string> };
/** A request to the main LAN door port with the given Host. */
const door = (path: string, host: string, headers: Record<string, string> = {}) => request(stack, path, { port: stack.lanPort, host, headers });

beforeAll(async () => {
  // The offset asks for door ports even on loopback (a LAN address would open them by itself).
  stack = await startTestStack({ nodeEnv: { HOMEPORT_LAN_PORT_OFFSET: String(OFFSET) } });
  dev = await startDevServer('lan-app');
  key = lanKey(stack.dataDir);
  await waitFor('the dev server in a scan', async () => (await stack.cli('list', '--json')).stdout.includes(`"port": ${dev.port}`));
});

afterAll(async () => {
  await dev?.stop();
  await stack?.stop();
});

describe('the LAN key', () => {
  it('should refuse a client on loopback that has no key', async () => {
    const res = await door('/echo', `${dev.port}.localhost:${stack.lanPort}`);
    expect(res.status).toBe(403);
    expect(res.text).toContain('LAN key');
    expect(res.text).not.toContain('"url"');
  });

  it('should trade the key link for an HttpOnly cookie and a clean URL, and never show the app the key', async () => {
    const host = `${dev.port}.localhost:${stack.lanPort}`;
    const first = await door(`/echo?a=1&homeport_key=${key}&b=two%20words`, host);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/echo?a=1&b=two%20words');
    const cookie = first.headers['set-cookie']![0];
    expect(cookie).toMatch(/^homeport_lan=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);

    const res = await door('/echo?a=1&b=two%20words', host, { cookie: `theme=dark; ${cookie.split(';')[0]}; lang=en` });
    expect(res.status).toBe(200);
    const seen = echoed(res.text);
    expect(seen.url).toBe('/echo?a=1&b=two%20words');
    expect(seen.headers.cookie).toBe('theme=dark; lang=en');
    expect(seen.headers.host).toBe(`localhost:${dev.port}`);

    // a POST with the key in its URL: served, the key taken off first
    const post = await request(stack, `/echo?homeport_key=${key}`, { port: stack.lanPort, host, method: 'POST', body: 'x' });
    expect(echoed(post.text).url).toBe('/echo');

    // a script's bearer token is the door's, not the app's
    const scripted = echoed((await door('/echo', host, lanAuth(stack.dataDir))).text);
    expect(scripted.headers.authorization).toBeUndefined();
    expect(JSON.stringify(scripted)).not.toContain(key);
  });
});

describe('DNS rebinding', () => {
  it('should refuse a Host that is not this machine, key or not', async () => {
    for (const host of ['rebind.attacker.example', `rebind.attacker.example:${stack.lanPort}`, `${dev.port}.rebind.attacker.example:${stack.lanPort}`]) {
      const res = await door(`/${dev.port}/echo`, host, lanAuth(stack.dataDir));
      expect(res.status, host).toBe(421);
      expect(res.text).not.toContain('"url"');
    }
    // this machine's names on another port than the one asked are not the door's either
    expect((await door('/echo', `${dev.port}.localhost:9`, lanAuth(stack.dataDir))).status).toBe(421);
  });
});

describe('one origin per dev port', () => {
  it('should serve a dev port at <port>.localhost on the door', async () => {
    const res = await door('/echo?lan=1', `${dev.port}.localhost:${stack.lanPort}`, lanAuth(stack.dataDir));
    expect(res.status).toBe(200);
    expect(echoed(res.text).url).toBe('/echo?lan=1');
    const cookies = (await door('/cookies', `${dev.port}.localhost:${stack.lanPort}`, lanAuth(stack.dataDir))).headers['set-cookie']!;
    expect(cookies[0]).toBe('session=abc; Path=/; HttpOnly');
  });

  it('should serve a dev port on its own door port while the door is open, and print that URL with the key', async () => {
    const doorPort = dev.port + OFFSET;
    const res = await request(stack, '/echo?own=1', { port: doorPort, host: `127.0.0.1:${doorPort}`, headers: lanAuth(stack.dataDir) });
    expect(res.status).toBe(200);
    expect(echoed(res.text).url).toBe('/echo?own=1');
    expect(stack.cli('url', String(dev.port), '--lan').stdout.trim()).toBe(`http://127.0.0.1:${doorPort}/?homeport_key=${key}`);
    // the door port is Homeport's own: not a dev server
    expect(stack.cli('list', '--json').stdout).not.toContain(`"port": ${doorPort}`);
  });

  it('should send the path form to the port\'s own origin unless the port opted in to a base path', async () => {
    const moved = await door(`/${dev.port}/echo?x=1`, `localhost:${stack.lanPort}`, lanAuth(stack.dataDir));
    expect(moved.status).toBe(307);
    expect(moved.headers.location).toBe(`http://${dev.port}.localhost:${stack.lanPort}/echo?x=1&homeport_key=${key}`);
    const fromLan = await door(`/${dev.port}/echo`, `127.0.0.1:${stack.lanPort}`, lanAuth(stack.dataDir));
    expect(fromLan.headers.location).toBe(`http://127.0.0.1:${dev.port + OFFSET}/echo?homeport_key=${key}`);

    expect(stack.cli('port', String(dev.port), '--keep-prefix').code).toBe(0);
    const kept = await door(`/${dev.port}/echo`, `127.0.0.1:${stack.lanPort}`, lanAuth(stack.dataDir));
    expect(kept.status).toBe(200);
    expect(kept.text).toContain(`<p id="path">/${dev.port}/echo</p>`);
    expect(stack.cli('port', String(dev.port), '--strip-prefix').code).toBe(0);
  });
});
