/**
 * End to end, the attack of issue 13: the owner is signed in on the dashboard (a real
 * session, from another address than loopback) and also opened a private port at its own
 * origin. A page served by a PUBLIC share of the same node, in every form it is offered
 * (own origin, link host, path form), tries everything a page can: fetch, iframe and
 * window.open of the private port's URLs in every form, walking the owner through the
 * handshake with its own URL as next, posting the handshake's form cross-site, reading
 * cookies. It never gets the private app's content, and the handshake stops at a page that
 * waits for the owner's click.
 */
import http from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.ts';
import { ownUrl } from '../helpers/own-origin.ts';
import { registerOwner } from '../helpers/owner.ts';
import { freePort } from '../helpers/ports.ts';
import { nodeApi, startDevServer, startTestStack, type DevServer, type TestStack } from '../helpers/stack.ts';

const PASSWORD = 'a long owner password';
const OWNER_IP = '198.51.100.80';

let stack: TestStack;
let secret: DevServer;
let attacker: http.Server;
let attackerPort: number;
let browser: Browser;
let owner: BrowserContext;

/** The public app: an empty page; the test runs the attacker's script in it (page.evaluate runs as the page does). */
async function startAttacker(): Promise<void> {
  attackerPort = await freePort();
  attacker = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>public app</title><h1>public app</h1>');
  });
  await new Promise<void>((resolve) => attacker.listen(attackerPort, '127.0.0.1', resolve));
}

beforeAll(async () => {
  stack = await startTestStack();
  [browser, secret] = await Promise.all([launchChromium(), startDevServer('private-app'), startAttacker()]);
  await stack.waitForTunnel('online');
  await registerOwner(stack, 'owner@example.com', PASSWORD, OWNER_IP);
  // The public app is shared, with its path form on; the private one keeps the defaults.
  expect(stack.cli('share', String(attackerPort), '--public').code).toBe(0);
  await nodeApi(stack.socketPath, `/api/ports/${attackerPort}/settings`, 'PATCH', { pathForm: true });

  owner = await browser.newContext({ extraHTTPHeaders: { 'x-test-client-ip': OWNER_IP } });
  const signIn = await owner.request.post(`${stack.dashboardUrl}/api/auth/login`, { headers: { origin: stack.dashboardUrl }, data: { email: 'owner@example.com', password: PASSWORD } });
  expect(signIn.status()).toBe(200);
}, 180_000);

afterAll(async () => {
  await owner?.close();
  await browser?.close();
  await new Promise((resolve) => attacker?.close(resolve));
  await secret?.stop();
  await stack?.stop();
});

const MARKER = () => `dev server ${secret.port}`;
const privateUrls = () => [
  ownUrl(stack, secret.port),
  `http://${stack.shareHost}/${secret.port}/`,
  `http://${stack.nodeId}.${stack.shareHost}/${secret.port}/`,
];

/** Where the public app is offered: its own origin, its link host, the path form. */
async function publicUrls(): Promise<string[]> {
  const { shares } = await nodeApi<{ shares: { port: number; url: string; linkUrl: string; pathUrl?: string }[] }>(stack.socketPath, '/api/shares');
  const share = shares.find((s) => s.port === attackerPort)!;
  return [share.url, share.linkUrl, `http://${stack.shareHost}/${attackerPort}/`];
}

/** Everything a page's script can try against the private URLs; what it could read, by attempt. */
function probe(page: Page, urls: string[]): Promise<Record<string, string>> {
  return page.evaluate(async (targets) => {
    const seen: Record<string, string> = {};
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (const url of targets) {
      for (const credentials of ['include', 'same-origin'] as const) {
        try {
          const res = await fetch(url, { credentials });
          seen[`fetch ${credentials} ${url}`] = `${res.status} ${await res.text()}`;
        } catch (error) {
          seen[`fetch ${credentials} ${url}`] = `refused: ${String(error)}`;
        }
      }
      const frame = document.createElement('iframe');
      const loaded = new Promise((r) => frame.addEventListener('load', r, { once: true }));
      frame.src = url;
      document.body.append(frame);
      await Promise.race([loaded, wait(5000)]);
      try {
        seen[`iframe ${url}`] = frame.contentDocument?.documentElement.outerHTML ?? 'unreadable';
      } catch (error) {
        seen[`iframe ${url}`] = `unreadable: ${String(error)}`;
      }
      frame.remove();
      const opened = window.open(url, '_blank');
      for (let i = 0; i < 50 && opened; i++) {
        try {
          if (opened.document.readyState === 'complete' && opened.location.href !== 'about:blank') break;
        } catch {
          break; // cross-origin: nothing to read
        }
        await wait(100);
      }
      try {
        seen[`window.open ${url}`] = opened?.document.documentElement.outerHTML ?? 'blocked';
      } catch (error) {
        seen[`window.open ${url}`] = `unreadable: ${String(error)}`;
      }
      opened?.close();
    }
    seen['document.cookie'] = document.cookie;
    return seen;
  }, urls);
}

function expectNothingRead(seen: Record<string, string>, where: string) {
  for (const [attempt, text] of Object.entries(seen)) expect(text, `${where}: ${attempt}`).not.toContain(MARKER());
  expect(seen['document.cookie'], where).not.toContain('homeport_owner');
}

/** The page sends the owner to the handshake with its own URL as next; it must stop at the confirmation page. */
async function walkThroughHandshake(page: Page, publicUrl: string) {
  const accessUrl = `${stack.dashboardUrl}/api/nodes/${stack.nodeId}/share-access?next=${encodeURIComponent(publicUrl)}`;
  const answers: string[] = [];
  page.on('response', (r) => answers.push(r.url()));
  // The navigation ends at the first page that is no redirect.
  const settled = page.waitForResponse((r) => r.request().isNavigationRequest() && r.frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400));
  await page.evaluate((to) => void (location.href = to), accessUrl);
  const final = await settled;
  await page.waitForURL(final.url());
  expect(answers.filter((url) => url.includes('__homeport/owner')), `${publicUrl}: no ticket reached a share`).toEqual([]);
  const landed = page.url();
  expect(landed, publicUrl).toBe(accessUrl);
  if (new URL(publicUrl).hostname === new URL(`http://${stack.shareHost}`).hostname) {
    // A next in the path form is refused outright.
    expect(final.status()).toBe(400);
    expect(await page.textContent('body')).toContain('must be a URL of this node');
  } else {
    // The confirmation page, waiting for a click the page cannot make for the owner.
    expect(final.status()).toBe(200);
    expect(await page.textContent('body')).toContain('Open as the owner');
  }
}

/** The page posts the handshake's form itself, cross-site: refused before any ticket. */
async function postHandshakeCrossSite(page: Page, publicUrl: string) {
  await page.goto(publicUrl);
  const action = `${stack.dashboardUrl}/api/nodes/${stack.nodeId}/share-access`;
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url() === action),
    page.evaluate(
      ([to, next]) => {
        const form = document.createElement('form');
        form.method = 'POST';
        form.action = to;
        const input = Object.assign(document.createElement('input'), { type: 'hidden', name: 'next', value: next });
        form.append(input);
        document.body.append(form);
        form.submit();
      },
      [action, privateUrls()[0]],
    ),
  ]);
  await page.waitForURL(action);
  expect(answer.status(), `${publicUrl}: cross-site POST`).toBeGreaterThanOrEqual(400);
  expect(answer.headers().location).toBeUndefined();
}

async function attackFromEveryForm() {
  for (const publicUrl of await publicUrls()) {
    const page = await owner.newPage();
    const opened = await page.goto(publicUrl);
    expect(opened!.status(), publicUrl).toBe(200);
    expect(await page.textContent('h1')).toBe('public app');
    expectNothingRead(await probe(page, privateUrls()), `${publicUrl} before the handshake`);

    await walkThroughHandshake(page, publicUrl);
    await page.goto(publicUrl);
    expectNothingRead(await probe(page, privateUrls()), `${publicUrl} after the handshake`);

    await postHandshakeCrossSite(page, publicUrl);
    await page.goto(publicUrl);
    expectNothingRead(await probe(page, privateUrls()), `${publicUrl} after the cross-site POST`);
    await page.close();
  }
  // No public origin ever got an owner cookie.
  for (const publicUrl of await publicUrls()) expect((await owner.cookies(publicUrl)).map((c) => c.name), publicUrl).not.toContain('homeport_owner');
}

describe('one share can never reach another', () => {
  it('should keep a public share page away from a private port, with the owner signed in on the dashboard', async () => {
    await attackFromEveryForm();
  });

  it('should keep it away too once the owner opened the private port at its own origin, by a click', async () => {
    const ownUrl = privateUrls()[0];
    const page = await owner.newPage();
    expect((await page.goto(ownUrl))!.status()).toBe(403);
    await page.click('text=Signed in as the owner? Open it');
    await page.waitForURL((u) => u.href.startsWith(`${stack.dashboardUrl}/api/nodes/`));
    await Promise.all([page.waitForURL(ownUrl), page.click('button:has-text("Open as the owner")')]);
    expect(await page.textContent('h1')).toBe(MARKER());
    // The owner cookie is host-only, on that origin.
    expect((await owner.cookies(ownUrl)).find((c) => c.name === 'homeport_owner')).toMatchObject({ domain: `${secret.port}-${stack.nodeId}.share.localhost`, httpOnly: true });
    await page.close();

    await attackFromEveryForm();
  });
});
