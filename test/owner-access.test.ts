/**
 * End to end: the owner away from home. A Chromium context from another address, signed
 * in on the dashboard, opens the node's private port through the handshake (403 page →
 * the dashboard's confirmation page → a click → the port's own origin); a fresh context
 * stays outside; the app never sees our cookie; the cookie opens that origin only. A
 * script opens the same port with an API token.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.ts';
import { ownHost, ownUrl } from './helpers/own-origin.ts';
import { registerOwner } from './helpers/owner.ts';
import { request, startDevServer, startTestStack, type DevServer, type TestStack } from './helpers/stack.ts';

const PASSWORD = 'a long owner password';
const OWNER_IP = '198.51.100.70';
const STRANGER_IP = '203.0.113.70';

let stack: TestStack;
let app: DevServer;
let browser: Browser;

const remoteContext = (ip: string): Promise<BrowserContext> => browser.newContext({ extraHTTPHeaders: { 'x-test-client-ip': ip } });

beforeAll(async () => {
  stack = await startTestStack();
  [browser, app] = await Promise.all([launchChromium(), startDevServer('private-app')]);
  await stack.waitForTunnel('online');
  // The first account adopts the node `npm start` paired: it is the owner from now on.
  await registerOwner(stack, 'owner@example.com', PASSWORD, OWNER_IP);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await stack?.stop();
});

describe('the owner on the share host', () => {
  it('should let the signed-in owner open a private port in the browser, and keep a fresh browser out', async () => {
    const privateUrl = ownUrl(stack, app.port);
    const owner = await remoteContext(OWNER_IP);
    const signIn = await owner.request.post(`${stack.dashboardUrl}/api/auth/login`, {
      headers: { origin: stack.dashboardUrl },
      data: { email: 'owner@example.com', password: PASSWORD },
    });
    expect(signIn.status()).toBe(200);

    const page = await owner.newPage();
    const refused = await page.goto(privateUrl);
    expect(refused!.status()).toBe(403);
    // The link only shows the dashboard's confirmation page; the owner's click goes on.
    await Promise.all([page.waitForURL(`${stack.dashboardUrl}/api/nodes/**`), page.click('text=Signed in as the owner? Open it')]);
    expect(await page.textContent('body')).toContain(`${privateUrl.slice(0, -1)}`);
    await Promise.all([page.waitForURL(privateUrl), page.click('button:has-text("Open as the owner")')]);
    expect(await page.textContent('h1')).toBe(`dev server ${app.port}`);
    const cookies = await owner.cookies(privateUrl);
    expect(cookies.find((c) => c.name === 'homeport_owner')).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', domain: ownHost(stack, app.port).split(':')[0] });

    // Deeper pages open directly now; the app sees the request but not our cookie.
    await page.goto(`${privateUrl}echo`);
    const echoed = JSON.parse((await page.textContent('pre'))!) as { headers: Record<string, string> };
    expect(echoed.headers.cookie ?? '').not.toContain('homeport_owner');
    expect(echoed.headers.authorization).toBeUndefined();

    // The path form shares one origin between ports: no owner cookie counts there, its page links the port's own origin.
    expect((await page.goto(`${stack.shareBaseUrl}/${app.port}/`))!.status()).toBe(403);
    expect(await page.textContent('h1')).toBe('Open this share at its own origin');
    expect(await page.getAttribute('a', 'href')).toBe(privateUrl);

    const stranger = await remoteContext(STRANGER_IP);
    const strangerPage = await stranger.newPage();
    expect((await strangerPage.goto(privateUrl))!.status()).toBe(403);
    // Following the owner's link without a session ends at the dashboard's refusal, not at the app.
    const [answer] = await Promise.all([strangerPage.waitForResponse((r) => r.url().startsWith(`${stack.dashboardUrl}/api/nodes/`)), strangerPage.click('text=Signed in as the owner? Open it')]);
    expect(answer.status()).toBe(401);
    expect((await strangerPage.goto(privateUrl))!.status()).toBe(403);
    await Promise.all([owner.close(), stranger.close()]);
  });

  it('should open the private port to a script with the owner API token, and to nobody with a wrong one', async () => {
    const login = await fetch(`${stack.dashboardUrl}/api/auth/login`, {
      method: 'POST',
      headers: { origin: stack.dashboardUrl, 'content-type': 'application/json', 'x-test-client-ip': OWNER_IP },
      body: JSON.stringify({ email: 'owner@example.com', password: PASSWORD }),
    });
    const session = login.headers.get('set-cookie')!.split(';')[0];
    const made = await fetch(`${stack.dashboardUrl}/api/tokens`, {
      method: 'POST',
      headers: { origin: stack.dashboardUrl, 'content-type': 'application/json', cookie: session, 'x-test-client-ip': OWNER_IP },
      body: JSON.stringify({ name: 'curl', scopes: ['read'] }),
    });
    expect(made.status).toBe(201);
    const { token } = (await made.json()) as { token: string };

    const withToken = await request(stack, '/echo', { host: ownHost(stack, app.port), headers: { 'x-test-client-ip': STRANGER_IP, authorization: `Bearer ${token}`, connection: 'close' } });
    expect(withToken.status).toBe(200);
    expect((JSON.parse(withToken.text) as { headers: Record<string, string> }).headers.authorization).toBeUndefined();
    const wrong = await request(stack, '/echo', { host: ownHost(stack, app.port), headers: { 'x-test-client-ip': STRANGER_IP, authorization: `Bearer ${token.slice(0, -2)}xx`, connection: 'close' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('invalid_token');
  });
});
