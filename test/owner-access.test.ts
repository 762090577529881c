/**
 * End to end: the owner away from home. A Chromium context from another address, signed
 * in on the dashboard, opens the node's private port through the handshake (403 page →
 * dashboard → share host); a fresh context stays outside; the app never sees our cookie;
 * the subdomain form is its own origin. A script opens the same port with an API token.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.ts';
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
  const registered = await fetch(`${stack.dashboardUrl}/api/auth/register`, {
    method: 'POST',
    headers: { origin: stack.dashboardUrl, 'content-type': 'application/json', 'x-test-client-ip': OWNER_IP },
    body: JSON.stringify({ email: 'owner@example.com', password: PASSWORD }),
  });
  expect(registered.status, await registered.clone().text()).toBe(201);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await stack?.stop();
});

describe('the owner on the share host', () => {
  it('should let the signed-in owner open a private port in the browser, and keep a fresh browser out', async () => {
    const privateUrl = `${stack.shareBaseUrl}/${app.port}/`;
    const owner = await remoteContext(OWNER_IP);
    const signIn = await owner.request.post(`${stack.dashboardUrl}/api/auth/login`, {
      headers: { origin: stack.dashboardUrl },
      data: { email: 'owner@example.com', password: PASSWORD },
    });
    expect(signIn.status()).toBe(200);

    const page = await owner.newPage();
    const refused = await page.goto(privateUrl);
    expect(refused!.status()).toBe(403);
    await Promise.all([page.waitForURL(privateUrl), page.click('text=Signed in as the owner? Open it')]);
    expect(await page.textContent('h1')).toBe(`dev server ${app.port}`);
    const cookies = await owner.cookies(stack.shareBaseUrl);
    expect(cookies.find((c) => c.name === 'homeport_owner')).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });

    // Deeper pages open directly now; the app sees the request but not our cookie.
    await page.goto(`${stack.shareBaseUrl}/${app.port}/echo`);
    const echoed = JSON.parse((await page.textContent('pre'))!) as { headers: Record<string, string> };
    expect(echoed.headers.cookie ?? '').not.toContain('homeport_owner');
    expect(echoed.headers.authorization).toBeUndefined();

    // The subdomain form is another origin: the cookie does not reach it; its own handshake does.
    const subdomainUrl = `http://${app.port}-${stack.nodeId}.${stack.shareHost}/`;
    expect((await page.goto(subdomainUrl))!.status()).toBe(403);
    await Promise.all([page.waitForURL(subdomainUrl), page.click('text=Signed in as the owner? Open it')]);
    expect(await page.textContent('h1')).toBe(`dev server ${app.port}`);

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

    const withToken = await request(stack, `/${app.port}/echo`, { headers: { 'x-test-client-ip': STRANGER_IP, authorization: `Bearer ${token}`, connection: 'close' } });
    expect(withToken.status).toBe(200);
    expect((JSON.parse(withToken.text) as { headers: Record<string, string> }).headers.authorization).toBeUndefined();
    const wrong = await request(stack, `/${app.port}/echo`, { headers: { 'x-test-client-ip': STRANGER_IP, authorization: `Bearer ${token.slice(0, -2)}xx`, connection: 'close' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('invalid_token');
  });
});
