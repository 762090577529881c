import { SELF, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { configOf, type Env } from './env.ts';
import { LOCAL, homeNodeToken } from './fake-node.ts';
import { isShareHost } from './share-proxy.ts';

const get = (url: string, headers: Record<string, string> = LOCAL) => SELF.fetch(url, { headers, redirect: 'manual' });

describe('isShareHost', () => {
  it('should match the share host and its subdomains only', () => {
    const config = configOf(env as unknown as Env);
    expect(isShareHost('share.test', config)).toBe(true);
    expect(isShareHost('SHARE.test:443', config)).toBe(true);
    expect(isShareHost('3000-home.share.test', config)).toBe(true);
    expect(isShareHost('dash.test', config)).toBe(false);
    expect(isShareHost('evilshare.test', config)).toBe(false);
    expect(isShareHost('share.test.evil', config)).toBe(false);
  });
});

describe('the share host', () => {
  it('should redirect a bare port path to the path with a slash, keeping the query', async () => {
    const res = await get('https://share.test/3000');
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('/3000/');
    const withQuery = await get('https://share.test/3000?a=1&b=2');
    expect(withQuery.status).toBe(308);
    expect(withQuery.headers.get('location')).toBe('/3000/?a=1&b=2');
  });

  it('should send a root-absolute request into the prefix its Referer lies under, with a 307 that keeps the method', async () => {
    for (const [host, path] of [
      ['share.test', '/@vite/client'],
      ['share.test', '/_next/static/chunks/main.js?v=1'],
      ['laptop.share.test', '/main.js'],
    ]) {
      const res = await SELF.fetch(`https://${host}${path}`, { method: 'POST', body: 'x', headers: { ...LOCAL, referer: `https://${host}/5173/app/` }, redirect: 'manual' });
      expect(res.status, path).toBe(307);
      expect(res.headers.get('location')).toBe(`/5173${path}`);
    }
  });

  it('should explain the path form, with the port\'s own origin, where no Referer places the request or it is a WebSocket', async () => {
    const cases: [Record<string, string>, string | null][] = [
      [{}, null],
      [{ referer: 'https://elsewhere.test/5173/' }, null],
      [{ referer: 'https://share.test/' }, null],
      [{ referer: 'https://share.test/5173/', upgrade: 'websocket' }, 'https://5173-home.share.test/'],
    ];
    for (const [headers, link] of cases) {
      const res = await get('https://share.test/@vite/client', { ...LOCAL, ...headers });
      expect(res.status, JSON.stringify(headers)).toBe(404);
      const body = await res.text();
      expect(body).toContain('Not under a port');
      expect(body).toContain('&#60;port&#62;-&#60;node&#62;.&#60;share host&#62;');
      expect(body).not.toContain('<script');
      if (link) expect(body).toContain(`href="${link}"`);
      else expect(body).not.toContain('<a href');
    }
  });

  it('should never answer the dashboard API: /api/* is a 404 share page, not JSON', async () => {
    for (const path of ['/api/nodes', '/api/nodes/home/ports', '/api/tunnel', '/api/nodes/home/api/status']) {
      const res = await get(`https://share.test${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toContain('text/html');
      const body = await res.text();
      expect(body).toContain('Not under a port');
      expect(body).not.toContain('"nodes"');
    }
  });

  it('should not open a tunnel on the share host', async () => {
    const res = await SELF.fetch('https://share.test/api/tunnel', {
      headers: { upgrade: 'websocket', authorization: `Bearer ${await homeNodeToken()}`, 'x-homeport-node': 'home' },
    });
    expect(res.status).toBe(404);
    expect(res.webSocket).toBeNull();
  });

  it('should send the subdomain form to the node, not to the API', async () => {
    const res = await get('https://3000-home.share.test/api/nodes');
    // No node is connected in this file: the share answers, offline.
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('Home node offline');
  });

  it('should refuse invalid ports with 400 and unknown labels with 404', async () => {
    expect((await get('https://share.test/0/')).status).toBe(400);
    expect((await get('https://share.test/70000/')).status).toBe(400);
    expect((await get('https://70000-home.share.test/')).status).toBe(400);
    expect((await get('https://share.test/')).status).toBe(404);
    expect((await get('https://Bad_Label.share.test/3000/')).status).toBe(400);
  });

  it('should serve the web app nowhere on the share host', async () => {
    const res = await get('https://share.test/index.html');
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('<script');
  });

  it('should refuse oversized request headers', async () => {
    const res = await get('https://share.test/3000/', { ...LOCAL, 'x-big': 'a'.repeat(33 * 1024) });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('too large');
  });
});
