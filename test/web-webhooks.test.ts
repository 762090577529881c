/**
 * End to end: the Webhooks screen in real Chromium against the local stack. A remote
 * owner signs up (the first account adopts the node), maps a GitHub repository, creates
 * a generic endpoint and sees its secret once with the signing example filled in; a
 * request signed here with Node's HMAC as docs/webhooks.md says reaches the edge and
 * shows up in the delivery log with Redeliver (the node has no such repo, so it started
 * nothing); a webhook's live-run link `/nodes/<node>/tasks/<id>` lands on the task console.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.ts';
import { ROOT, startTestStack, type TestStack } from './helpers/stack.ts';

const SHOTS = join(ROOT, 'docs/screenshots');
const WAIT = { timeout: 30_000 };
const OWNER = { name: 'Ada Owner', email: 'ada@example.com', password: 'correct horse battery' };

let stack: TestStack;
let browser: Browser;
let page: Page;

const nav = (p: Page, name: string) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startTestStack({ edgeVars: { GITHUB_WEBHOOK_SECRET: randomBytes(20).toString('hex') } });
  browser = await launchChromium();
  await stack.waitForTunnel('online');
  // A remote visitor (not the loopback local owner): this one has to sign in.
  const context = await browser.newContext({ extraHTTPHeaders: { 'x-test-client-ip': '203.0.113.7' }, viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  page = await context.newPage();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('webhooks in the web app', () => {
  let secret = '';
  let url = '';

  it('should let the signed-in owner map a GitHub repository', async () => {
    await page.goto(stack.dashboardUrl);
    await page.waitForURL('**/signin', WAIT);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Name').fill(OWNER.name);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(stack.dashboardUrl + '/', WAIT);

    await nav(page, 'Webhooks').click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor(WAIT);
    expect(await page.getByTestId('github-secret-state').textContent()).toBe('set on the edge');
    await page.getByText('No repositories mapped yet.').waitFor(WAIT);

    const form = page.getByRole('form', { name: 'Map a GitHub repository' });
    // Not owner/name: said at once, nothing sent.
    await form.getByLabel('GitHub repository').fill('just-a-name');
    await form.getByLabel('Repo on the node').fill('shop');
    await form.getByRole('button', { name: 'Map repository' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent(), WAIT).toContain('owner/name');

    await form.getByLabel('GitHub repository').fill('acme/shop');
    await form.getByLabel('Also allow (GitHub logins)').fill('@grace, linus');
    await form.getByRole('button', { name: 'Map repository' }).click();
    const mapping = page.locator('li[data-mapping="acme/shop"]');
    await mapping.waitFor(WAIT);
    expect(await mapping.textContent()).toContain(`${stack.nodeId} / shop`);
    expect(await mapping.textContent()).toContain('@grace, @linus');
  });

  it('should create an endpoint and show its secret once, with the signing example filled in', async () => {
    const form = page.getByRole('form', { name: 'Create a webhook endpoint' });
    await form.getByLabel('Name').fill('nightly CI');
    await form.getByLabel('Repo (optional)').fill('shop');
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    const shown = page.getByTestId('endpoint-secret');
    await shown.waitFor(WAIT);
    secret = (await page.getByTestId('new-endpoint-secret').textContent())!;
    expect(secret).toMatch(/^hpw_\S{20,}$/);
    const example = (await page.getByTestId('signing-example').textContent())!;
    const endpoint = page.locator('li[data-endpoint]');
    await endpoint.waitFor(WAIT);
    const id = (await endpoint.getAttribute('data-endpoint'))!;
    url = `${stack.dashboardUrl}/webhooks/in/${id}`;
    expect(example).toContain(`URL=${url}\nSECRET=${secret}\n`);
    expect(example).toContain('openssl dgst -sha256 -hmac "$SECRET"');
    await page.screenshot({ path: join(SHOTS, 'webhooks.png') });

    // Once: the list and a fresh load never show it again.
    await page.getByRole('button', { name: 'Done' }).click();
    await page.reload();
    await endpoint.waitFor(WAIT);
    expect(await page.content()).not.toContain(secret);
  });

  it('should show a signed request in the delivery log, with Redeliver when it started nothing', async () => {
    // Signed as docs/webhooks.md says: sha256= HMAC over "<timestamp>.<raw body>".
    const body = JSON.stringify({ prompt: 'The nightly build fails: fix it.' });
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = `sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-homeport-timestamp': ts, 'x-homeport-signature': signature }, body });
    const answer = (await res.json()) as { delivery: string; status?: string; error?: string };
    // The node has no repo "shop": the signature was good, the node refused the task.
    expect({ status: res.status, error: answer.error }).toMatchObject({ status: 422 });

    // A wrong signature is logged too, and cannot be redelivered (its body was never trusted).
    const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-homeport-timestamp': ts, 'x-homeport-signature': `sha256=${'0'.repeat(64)}` }, body });
    expect(bad.status).toBe(401);

    await page.getByRole('button', { name: 'Refresh' }).click();
    const row = page.locator(`tr[data-delivery="${answer.delivery}"]`);
    await row.waitFor(WAIT);
    expect(await row.getAttribute('data-status')).toBe('failed');
    expect(await row.textContent()).toContain('shop');
    await row.getByRole('button', { name: 'Redeliver' }).waitFor(WAIT);
    const refused = page.locator('tr[data-status="refused"]');
    await refused.waitFor(WAIT);
    expect(await refused.getByRole('button', { name: 'Redeliver' }).count()).toBe(0);

    // Redelivered: runs again (and fails again the same way), the run counted.
    await row.getByRole('button', { name: 'Redeliver' }).click();
    await expect.poll(() => page.locator('[role="status"]').textContent(), WAIT).toContain('runs again');
  });

  it("should send a webhook's live-run link to the task console", async () => {
    await page.goto(`${stack.dashboardUrl}/nodes/${stack.nodeId}/tasks/tsk_unknown`);
    await page.waitForURL(`**/n/${stack.nodeId}/tasks/tsk_unknown`, WAIT);
  });
});
