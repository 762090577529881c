/**
 * End to end: the owner shares ports with the CLI; a visitor who is not the owner (a
 * fresh Chromium context from another address) meets the password page, fails once,
 * gets in; a public share opens for anyone; `homeport logs` shows those requests.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.ts';
import { ownHost, ownUrl } from './helpers/own-origin.ts';
import { request, startDevServer, startTestStack, waitFor, type DevServer, type TestStack } from './helpers/stack.ts';

let stack: TestStack;
let secret: DevServer;
let open: DevServer;
let browser: Browser;

const VISITOR_IP = '203.0.113.50';
const visitorContext = (): Promise<BrowserContext> => browser.newContext({ extraHTTPHeaders: { 'x-test-client-ip': VISITOR_IP } });

beforeAll(async () => {
  stack = await startTestStack();
  [browser, secret, open] = await Promise.all([launchChromium(), startDevServer('secret-app'), startDevServer('open-app')]);
  await stack.waitForTunnel('online');
});

afterAll(async () => {
  await browser?.close();
  await secret?.stop();
  await open?.stop();
  await stack?.stop();
});

describe('sharing with the CLI', () => {
  it('should refuse a visitor on a private port and let the owner in', async () => {
    const host = ownHost(stack, secret.port);
    expect((await request(stack, '/', { host, headers: { 'x-test-client-ip': VISITOR_IP, connection: 'close' } })).status).toBe(403);
    // From this very machine (loopback) with no credential: still nobody.
    expect((await request(stack, '/', { host, headers: { connection: 'close' } })).status).toBe(403);
    expect((await request(stack, '/', { host, headers: { connection: 'close', ...stack.ownerHeaders } })).status).toBe(200);
  });

  it('should put a password share behind a password page in a real browser', async () => {
    const shared = stack.cli('share', String(secret.port), '--password', 'open sesame', '--expires', '2h');
    expect(shared.code, shared.stderr).toBe(0);
    expect(shared.stdout).toMatch(/mode\s+password/);
    // The port's own origin first, then its link: a host of its own too.
    expect(shared.stdout).toMatch(new RegExp(`url\\s+${ownUrl(stack, secret.port).replace(/\./g, '\\.')}\n`));
    expect(shared.stdout).toMatch(new RegExp(`link\\s+http://[0-3][0-9a-v]{26}-${stack.nodeId}\\.${stack.shareHost.replace('.', '\\.')}/`));
    expect(shared.stdout).toMatch(/token\s+[A-Za-z0-9_-]{43}/);
    const noValue = stack.cli('share', String(secret.port), '--password');
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toContain('--password needs a value');

    const context = await visitorContext();
    const page = await context.newPage();
    const first = await page.goto(ownUrl(stack, secret.port));
    expect(first!.status()).toBe(401);
    expect(await page.textContent('h1')).toBe('Password required');

    await page.fill('input[name=password]', 'wrong guess');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(await page.textContent('.error')).toContain('Wrong password');

    await page.fill('input[name=password]', 'open sesame');
    await Promise.all([page.waitForURL(ownUrl(stack, secret.port)), page.click('button[type=submit]')]);
    expect(await page.textContent('h1')).toBe(`dev server ${secret.port}`);
    // The cookie is the share's alone: this visitor still may not open another port.
    const other = await page.goto(ownUrl(stack, open.port));
    expect(other!.status()).toBe(403);
    await context.close();
  });

  it('should open a public share to a visitor without any password', async () => {
    const shared = stack.cli('share', String(open.port), '--public');
    expect(shared.code, shared.stderr).toBe(0);
    const link = /link\s+(\S+)/.exec(shared.stdout)![1];
    const context = await visitorContext();
    const page = await context.newPage();
    expect((await page.goto(ownUrl(stack, open.port)))!.status()).toBe(200);
    expect(await page.textContent('h1')).toBe(`dev server ${open.port}`);
    // A public share answers in the path form too, once its port turns it on.
    expect((await page.goto(`http://${stack.shareHost}/${open.port}/`))!.status()).toBe(404);
    expect(stack.cli('port', String(open.port), '--path-form').code).toBe(0);
    expect((await page.goto(`http://${stack.shareHost}/${open.port}/`))!.status()).toBe(200);
    expect((await page.goto(`${link}deep?x=1`))!.status()).toBe(200);
    expect(await page.textContent('#path')).toBe('/deep?x=1');
    await context.close();
    expect(stack.cli('url', String(open.port), '--link').stdout.trim()).toBe(link);
  });

  it('should list modes and show the access log', async () => {
    const list = await waitFor('the modes in homeport list', async () => {
      const { stdout } = stack.cli('list');
      return stdout.includes('password') && stdout.includes('public') ? stdout : undefined;
    });
    expect(list.split('\n').find((l) => l.startsWith(String(secret.port)))).toMatch(/password\s+in (1h|2h|120m)/);
    const logs = await waitFor('the access log', async () => {
      const { stdout } = stack.cli('logs', String(secret.port));
      return stdout.includes(' 200 ') ? stdout : undefined;
    });
    const rows = logs.split('\n').slice(1);
    const visitorRows = rows.filter((r) => r.includes(VISITOR_IP));
    expect(visitorRows.map((r) => r.split(/\s{2,}/)[3])).toEqual(expect.arrayContaining(['200', '303', '401']));
    expect(visitorRows.find((r) => / 200 /.test(r))).toMatch(/\byes\b/);
    expect(visitorRows.find((r) => / 401 /.test(r))).toMatch(/\bno\b/);
    // The owner's own visit from this machine: a local edge records every client as "local".
    expect(rows.some((r) => r.includes('local') && / 200 /.test(r))).toBe(true);
    const json = JSON.parse(stack.cli('logs', String(open.port), '--json').stdout);
    expect(json.entries.some((e: { clientIp: string; status: number; form: string }) => e.clientIp === VISITOR_IP && e.status === 200 && e.form === 'slug')).toBe(true);
  });

  it('should make a port private again with unshare', async () => {
    expect(stack.cli('unshare', String(open.port)).code).toBe(0);
    const context = await visitorContext();
    const page = await context.newPage();
    expect((await page.goto(ownUrl(stack, open.port)))!.status()).toBe(403);
    // The path form serves public shares only: a page that links the port's own origin.
    const path = await page.goto(`http://${stack.shareHost}/${open.port}/`);
    expect(path!.status()).toBe(403);
    expect(await page.textContent('h1')).toBe('Open this share at its own origin');
    await context.close();
    const bad = stack.cli('share', String(open.port), '--public', '--expires', 'soon');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('expiresIn must be a duration');
  });
});
