import { describe, expect, it } from 'vitest';
import { downstreamHeaders, rewriteLocation, rewriteSetCookie, upstreamHeaders, upstreamPath, type ProxyContext } from './rewrite.ts';

const path: ProxyContext = { port: 3000, prefix: '/3000', keepPrefix: false, publicOrigin: 'https://share.test', clientIp: '203.0.113.7' };
const kept: ProxyContext = { ...path, keepPrefix: true };
const subdomain: ProxyContext = { port: 3000, prefix: '', keepPrefix: false, publicOrigin: 'https://3000-home.share.test', clientIp: '203.0.113.7' };

describe('upstreamPath', () => {
  it('should strip the share prefix, keeping the query', () => {
    expect(upstreamPath('/3000/app/page?x=1&y=2', path)).toBe('/app/page?x=1&y=2');
    expect(upstreamPath('/3000/', path)).toBe('/');
    expect(upstreamPath('/3000', path)).toBe('/');
    expect(upstreamPath('/3000?x=1', path)).toBe('/?x=1');
  });

  it('should keep the path when the prefix is kept, empty or absent', () => {
    expect(upstreamPath('/3000/app', kept)).toBe('/3000/app');
    expect(upstreamPath('/app?x=1', subdomain)).toBe('/app?x=1');
    expect(upstreamPath('/other/app', path)).toBe('/other/app');
  });
});

describe('upstreamHeaders', () => {
  const incoming: [string, string][] = [
    ['Host', 'share.test'],
    ['Accept', 'text/html'],
    ['Connection', 'keep-alive'],
    ['Keep-Alive', 'timeout=5'],
    ['Transfer-Encoding', 'chunked'],
    ['Upgrade', 'h2c'],
    ['Proxy-Authorization', 'Basic x'],
    ['TE', 'trailers'],
    ['X-Forwarded-For', '6.6.6.6'],
    ['x-forwarded-host', 'evil.example'],
    ['X-Forwarded-Proto', 'http'],
    ['X-Forwarded-Prefix', '/evil'],
    ['Forwarded', 'for=6.6.6.6'],
    ['Cookie', 'a=1; b=2'],
    ['x-custom', 'kept'],
  ];

  it('should set the host dev servers accept and add the forwarded headers', () => {
    expect(upstreamHeaders(incoming, path)).toEqual([
      ['Accept', 'text/html'],
      ['Cookie', 'a=1; b=2'],
      ['x-custom', 'kept'],
      ['host', 'localhost:3000'],
      ['x-forwarded-host', 'share.test'],
      ['x-forwarded-proto', 'https'],
      ['x-forwarded-for', '203.0.113.7'],
      ['x-real-ip', '203.0.113.7'],
      ['x-forwarded-prefix', '/3000'],
    ]);
  });

  it('should drop every hop-by-hop and spoofed forwarding header', () => {
    const names = upstreamHeaders(incoming, path).map(([n]) => n.toLowerCase());
    for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'te', 'forwarded'])
      expect(names).not.toContain(name);
    const out = upstreamHeaders(incoming, path);
    expect(out.filter(([n]) => n.toLowerCase() === 'host')).toEqual([['host', 'localhost:3000']]);
    expect(out.filter(([n]) => n.toLowerCase() === 'x-forwarded-for')).toEqual([['x-forwarded-for', '203.0.113.7']]);
    expect(out.filter(([n]) => n.toLowerCase() === 'x-forwarded-host')).toEqual([['x-forwarded-host', 'share.test']]);
  });

  it('should leave out what it does not know, and the prefix in subdomain form', () => {
    expect(upstreamHeaders([['accept', '*/*']], { port: 8080, prefix: '', keepPrefix: false })).toEqual([
      ['accept', '*/*'],
      ['host', 'localhost:8080'],
    ]);
    const sub = upstreamHeaders([], subdomain);
    expect(sub).toContainEqual(['x-forwarded-host', '3000-home.share.test']);
    expect(sub.some(([n]) => n === 'x-forwarded-prefix')).toBe(false);
  });
});

describe('rewriteLocation', () => {
  it('should put the prefix in front of relative redirects', () => {
    expect(rewriteLocation('/login?next=%2F', path)).toBe('/3000/login?next=%2F');
    expect(rewriteLocation('/', path)).toBe('/3000/');
  });

  it('should leave relative redirects alone when the prefix is kept or empty', () => {
    expect(rewriteLocation('/3000/login', kept)).toBe('/3000/login');
    expect(rewriteLocation('/login', subdomain)).toBe('/login');
  });

  it('should turn absolute localhost URLs into public share URLs', () => {
    expect(rewriteLocation('http://localhost:3000/login?x=1#top', path)).toBe('https://share.test/3000/login?x=1#top');
    expect(rewriteLocation('http://127.0.0.1:3000/', path)).toBe('https://share.test/3000/');
    expect(rewriteLocation('http://[::1]:3000/a', path)).toBe('https://share.test/3000/a');
    expect(rewriteLocation('http://localhost:3000/3000/a', kept)).toBe('https://share.test/3000/a');
    expect(rewriteLocation('http://localhost:3000/a', subdomain)).toBe('https://3000-home.share.test/a');
    expect(rewriteLocation('http://localhost:3000/a', { ...path, publicOrigin: undefined })).toBe('/3000/a');
  });

  it('should add the prefix to URLs on the public host that lack it', () => {
    expect(rewriteLocation('https://share.test/dashboard', path)).toBe('https://share.test/3000/dashboard');
    expect(rewriteLocation('https://share.test/3000/dashboard', path)).toBe('https://share.test/3000/dashboard');
    expect(rewriteLocation('https://3000-home.share.test/x', subdomain)).toBe('https://3000-home.share.test/x');
  });

  it('should not touch other hosts, other ports or what is not a URL', () => {
    expect(rewriteLocation('https://github.com/login/oauth', path)).toBe('https://github.com/login/oauth');
    expect(rewriteLocation('http://localhost:4000/x', path)).toBe('http://localhost:4000/x');
    expect(rewriteLocation('//evil.example/x', path)).toBe('//evil.example/x');
    expect(rewriteLocation('next-page', path)).toBe('next-page');
  });
});

describe('rewriteSetCookie', () => {
  it('should prefix the Path, drop the Domain and keep everything else', () => {
    expect(rewriteSetCookie('sid=abc; Path=/; Domain=localhost; HttpOnly; Secure; SameSite=Lax; Max-Age=60', path)).toBe(
      'sid=abc; Path=/3000/; HttpOnly; Secure; SameSite=Lax; Max-Age=60',
    );
    expect(rewriteSetCookie('a=1; path=/api; Expires=Wed, 21 Oct 2065 07:28:00 GMT', path)).toBe('a=1; Path=/3000/api; Expires=Wed, 21 Oct 2065 07:28:00 GMT');
  });

  it('should keep a value holding = and a cookie without attributes', () => {
    expect(rewriteSetCookie('token=a=b==', path)).toBe('token=a=b==');
    expect(rewriteSetCookie('token=a=b==; Path=/', path)).toBe('token=a=b==; Path=/3000/');
  });

  it('should not prefix the Path when the prefix is kept or empty, but still drop the Domain', () => {
    expect(rewriteSetCookie('a=1; Path=/3000/; domain=127.0.0.1', kept)).toBe('a=1; Path=/3000/');
    expect(rewriteSetCookie('a=1; Path=/; Domain=localhost', subdomain)).toBe('a=1; Path=/');
  });
});

describe('downstreamHeaders', () => {
  const raw = [
    'Set-Cookie',
    'a=1; Path=/',
    'Content-Type',
    'text/html',
    'Set-Cookie',
    'b=2; Path=/x; Domain=localhost',
    'Connection',
    'keep-alive',
    'Transfer-Encoding',
    'chunked',
    'Keep-Alive',
    'timeout=5',
    'Location',
    '/next',
    'Upgrade',
    'websocket',
  ];

  it('should keep each Set-Cookie as its own entry, rewritten, and drop hop-by-hop headers', () => {
    expect(downstreamHeaders(raw, path)).toEqual([
      ['Set-Cookie', 'a=1; Path=/3000/'],
      ['Content-Type', 'text/html'],
      ['Set-Cookie', 'b=2; Path=/3000/x'],
      ['Location', '/3000/next'],
    ]);
  });

  it('should keep Upgrade and Connection for an accepted WebSocket', () => {
    const out = downstreamHeaders(raw, path, true);
    expect(out).toContainEqual(['Upgrade', 'websocket']);
    expect(out).toContainEqual(['Connection', 'keep-alive']);
    expect(out.some(([n]) => n === 'Transfer-Encoding')).toBe(false);
  });

  it('should ignore a dangling name without a value', () => {
    expect(downstreamHeaders(['X-A', '1', 'X-B'], path)).toEqual([['X-A', '1']]);
  });
});

describe('headers a Connection header names', () => {
  it('should drop them both ways as hop-by-hop', () => {
    const ctx = { port: 3000, prefix: '', keepPrefix: false };
    const up = upstreamHeaders([['Connection', 'keep-alive, X-Secret-Hop'], ['x-secret-hop', '1'], ['x-kept', '2']], ctx);
    expect(up.some(([n]) => n.toLowerCase() === 'x-secret-hop')).toBe(false);
    expect(up).toContainEqual(['x-kept', '2']);
    const down = downstreamHeaders(['Connection', 'close, X-Internal', 'X-Internal', 'a', 'X-Public', 'b'], ctx);
    expect(down).toEqual([['X-Public', 'b']]);
  });
});
