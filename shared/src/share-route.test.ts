import { describe, expect, it } from 'vitest';
import { MAX_LINK_NODE_ID, hostnameOf, isValidNodeId, isValidPort, linkLabelOf, parseLinkLabel, pathFormPortOf, routePath, routeShareRequest, shareUrlsFor } from './share-route.ts';

const SHARE = 'share.example.com';
const route = (hostname: string, path: string) => routeShareRequest(hostname, path, SHARE, 'home');

describe('routeShareRequest', () => {
  it('should route link slugs on the share host and named node hosts, with the slug as prefix', () => {
    const slug = 'AbCdEfGhIjKlMnOpQrSt_-';
    expect(route(SHARE, `/s/${slug}/app?x=1`)).toEqual({
      ok: true,
      route: { node: 'home', port: 0, mode: 'slug', slug, prefix: `/s/${slug}`, needsSlash: false },
    });
    expect(route(`laptop.${SHARE}`, `/s/${slug}`)).toMatchObject({ ok: true, route: { node: 'laptop', mode: 'slug', needsSlash: true } });
    for (const bad of ['/s/', '/s/short/', `/s/${slug}x/`, '/s/../3000/']) expect(route(SHARE, bad), bad).toMatchObject({ ok: false, status: 404 });
    // In subdomain form /s/… is the app's own path.
    expect(route(`3000-home.${SHARE}`, `/s/${slug}/`)).toMatchObject({ ok: true, route: { port: 3000, mode: 'subdomain' } });
  });

  it('should route the path form on the bare share host to the default node', () => {
    expect(route(SHARE, '/3000/app/page?x=1')).toEqual({
      ok: true,
      route: { node: 'home', port: 3000, mode: 'path', prefix: '/3000', needsSlash: false },
    });
    expect(route(SHARE, '/8080/')).toEqual({ ok: true, route: { node: 'home', port: 8080, mode: 'path', prefix: '/8080', needsSlash: false } });
  });

  it('should route the path form on a named node host', () => {
    expect(route(`laptop.${SHARE}`, '/5173/src/main.ts')).toEqual({
      ok: true,
      route: { node: 'laptop', port: 5173, mode: 'path', prefix: '/5173', needsSlash: false },
    });
    expect(route(`my-box-2.${SHARE}`, '/1/')).toMatchObject({ ok: true, route: { node: 'my-box-2', port: 1 } });
  });

  it('should route the subdomain form with an empty prefix', () => {
    expect(route(`3000-home.${SHARE}`, '/x')).toEqual({
      ok: true,
      route: { node: 'home', port: 3000, mode: 'subdomain', prefix: '', needsSlash: false },
    });
    expect(route(`65535-laptop.${SHARE}`, '/')).toMatchObject({ ok: true, route: { node: 'laptop', port: 65535, mode: 'subdomain' } });
    // In subdomain form the path is the app's own, even when it looks like a port.
    expect(route(`3000-home.${SHARE}`, '/4000/')).toMatchObject({ ok: true, route: { port: 3000, prefix: '' } });
  });

  it('should ask for a slash when the path is exactly the prefix', () => {
    expect(route(SHARE, '/3000')).toEqual({ ok: true, route: { node: 'home', port: 3000, mode: 'path', prefix: '/3000', needsSlash: true } });
    expect(route(`laptop.${SHARE}`, '/3000')).toMatchObject({ ok: true, route: { needsSlash: true } });
    expect(route(`3000-home.${SHARE}`, '')).toMatchObject({ ok: true, route: { needsSlash: false } });
  });

  it('should refuse invalid ports with 400', () => {
    expect(route(SHARE, '/0/')).toMatchObject({ ok: false, status: 400 });
    expect(route(SHARE, '/70000/')).toMatchObject({ ok: false, status: 400 });
    expect(route(SHARE, '/65536')).toMatchObject({ ok: false, status: 400 });
    expect(route(`0-home.${SHARE}`, '/')).toMatchObject({ ok: false, status: 400 });
    expect(route(`70000-home.${SHARE}`, '/')).toMatchObject({ ok: false, status: 400 });
  });

  it('should answer 404 for paths that do not start with a port', () => {
    for (const path of ['/', '', '/abc/', '/3000abc', '/123456/', '//3000/', '/-1/']) expect(route(SHARE, path)).toMatchObject({ ok: false, status: 404 });
  });

  it('should answer 404 for labels that are neither a node nor port-node', () => {
    for (const label of ['Home', '1home', 'a.b', '3000_home', '3000-', '-home', 'x'.repeat(64), '3000-9home', 'ho me'])
      expect(route(`${label}.${SHARE}`, '/3000/')).toMatchObject({ ok: false, status: 404 });
  });

  it('should return null for hosts that are not share hosts', () => {
    expect(route('dash.example.com', '/3000/')).toBeNull();
    expect(route('example.com', '/3000/')).toBeNull();
    expect(route(`evil${SHARE}`, '/3000/')).toBeNull();
    expect(route(`${SHARE}.evil.com`, '/3000/')).toBeNull();
    expect(route('', '/3000/')).toBeNull();
  });
});

describe('link hosts', () => {
  const slug = 'AbCdEfGhIjKlMnOpQrSt_-';

  it('should derive a DNS-safe, digit-led label from the slug and read it back', () => {
    const label = linkLabelOf(slug, 'home')!;
    expect(label).toMatch(/^[0-3][0-9a-v]{26}-home$/);
    expect(parseLinkLabel(label)).toEqual({ slug, node: 'home' });
    for (const edge of ['A'.repeat(22), '_'.repeat(22), '-'.repeat(22)]) expect(parseLinkLabel(linkLabelOf(edge, 'n')!)).toEqual({ slug: edge, node: 'n' });
  });

  it('should route a link host to its node in link form, with no prefix', () => {
    const label = linkLabelOf(slug, 'my-box-2')!;
    expect(route(`${label}.${SHARE}`, '/app?x=1')).toEqual({ ok: true, route: { node: 'my-box-2', port: 0, mode: 'slug', slug, prefix: '', needsSlash: false } });
    // The path is the app's own, even /s/… or a port.
    expect(route(`${label}.${SHARE}`, '/3000/')).toMatchObject({ ok: true, route: { mode: 'slug', prefix: '' } });
  });

  it('should never confuse a link label with a node or a port-node label', () => {
    const label = linkLabelOf(slug, 'home')!;
    expect(isValidNodeId(label)).toBe(false);
    expect(route(`12345-home.${SHARE}`, '/')).toMatchObject({ route: { mode: 'subdomain' } });
    // A node id whose start looks like a link is still a node id (a letter first).
    expect(route(`a${label.slice(1)}.${SHARE}`, '/3000/')).toMatchObject({ route: { mode: 'path', node: `a${label.slice(1)}` } });
  });

  it('should fit one DNS label, and give no link to a node id too long for one', () => {
    const longest = 'n'.repeat(MAX_LINK_NODE_ID);
    expect(linkLabelOf(slug, longest)!.length).toBe(63);
    expect(linkLabelOf(slug, longest + 'n')).toBeNull();
    expect(shareUrlsFor('https', SHARE, longest + 'n', 'home').linkUrl(slug)).toBeNull();
    expect(linkLabelOf('short', 'home')).toBeNull();
  });

  it('should give the URLs of a node, the subdomain and link forms on hosts of their own', () => {
    const urls = shareUrlsFor('http', 'share.localhost:8787', 'home', 'home');
    expect(urls.pathBaseUrl).toBe('http://share.localhost:8787');
    expect(urls.subdomainUrl(3000)).toBe('http://3000-home.share.localhost:8787/');
    expect(urls.linkUrl(slug)).toBe(`http://${linkLabelOf(slug, 'home')}.share.localhost:8787/`);
    expect(shareUrlsFor('http', 'share.localhost:8787', 'box', 'home').pathBaseUrl).toBe('http://box.share.localhost:8787');
  });
});

describe('pathFormPortOf', () => {
  it('should read the port of a path-form page on the same host only', () => {
    expect(pathFormPortOf(`https://${SHARE}/3000/app/`, SHARE)).toBe(3000);
    expect(pathFormPortOf(`https://${SHARE}:8787/3000/`, SHARE)).toBe(3000);
    for (const url of [null, 'nonsense', `https://${SHARE}/`, `https://${SHARE}/3000`, `https://other.example/3000/`, `https://${SHARE}/70000/`])
      expect(pathFormPortOf(url, SHARE), String(url)).toBeNull();
  });
});

describe('routePath', () => {
  it('should keep the port digits as the visitor wrote them in the prefix', () => {
    expect(routePath('home', '/03000/x')).toEqual({ ok: true, route: { node: 'home', port: 3000, mode: 'path', prefix: '/03000', needsSlash: false } });
  });
});

describe('isValidPort and isValidNodeId', () => {
  it('should accept 1-65535 only', () => {
    expect([1, 80, 65535].every(isValidPort)).toBe(true);
    expect([0, -1, 65536, 70000, 3000.5, NaN].some(isValidPort)).toBe(false);
  });

  it('should accept lower-case ids starting with a letter', () => {
    expect(['home', 'a', 'my-node-1', 'a'.repeat(63)].every(isValidNodeId)).toBe(true);
    expect(['', 'Home', '1a', '-a', 'a_b', 'a'.repeat(64), 'a.b'].some(isValidNodeId)).toBe(false);
  });
});

describe('hostnameOf', () => {
  it('should lower-case and drop the port', () => {
    expect(hostnameOf('Share.Example.COM')).toBe('share.example.com');
    expect(hostnameOf('share.example.com:8787')).toBe('share.example.com');
    expect(hostnameOf('localhost:80')).toBe('localhost');
    expect(hostnameOf('127.0.0.1:3000')).toBe('127.0.0.1');
  });

  it('should keep IPv6 literals whole, with or without a port', () => {
    expect(hostnameOf('[::1]:8787')).toBe('[::1]');
    expect(hostnameOf('[::1]')).toBe('[::1]');
    expect(hostnameOf('[2001:DB8::1]:443')).toBe('[2001:db8::1]');
  });
});
