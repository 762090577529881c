/**
 * End to end: the web app in real Chromium against the local stack. A remote owner (not
 * the loopback local owner) creates the first account through the UI; a dev server
 * started meanwhile appears on the dashboard by itself; the owner shares it with a
 * password through the modal; a visitor in a fresh context is refused, enters the
 * password and sees the page; the access log shows the visit; a flow driven only by the
 * keyboard through Ctrl+K; a second account waits for approval; a phone-sized viewport
 * has no horizontal scroll. Screenshots of the main screens go to docs/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.ts';
import { ROOT, makeRepo, nodeApi, startDevServer, startTestStack, type DevServer, type TestStack } from './helpers/stack.ts';
import { freePort } from './helpers/ports.ts';

const OWNER_IP = '203.0.113.7';
const VISITOR_IP = '203.0.113.50';
const OWNER = { name: 'Ada Owner', email: 'ada@example.com', password: 'correct horse battery' };
const SHARE_PASSWORD = 'open sesame 42';
const SHOTS = join(ROOT, 'docs/screenshots');
/** generous: a loaded 2-core machine; every wait is for an element, never a sleep */
const WAIT = { timeout: 30_000 };

let stack: TestStack;
let browser: Browser;
let owner: BrowserContext;
let page: Page;
let early: DevServer;
let late: DevServer | undefined;

async function shot(p: Page, name: string) {
  await p.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** A link of the header's main navigation. */
const nav = (p: Page, name: string) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

/** No horizontal scrolling: the page is no wider than the window. */
async function expectNoHorizontalScroll(p: Page) {
  const { scrollWidth, innerWidth } = await p.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startTestStack();
  [browser, early] = await Promise.all([launchChromium(), startDevServer('early-app')]);
  await stack.waitForTunnel('online');
  owner = await browser.newContext({ extraHTTPHeaders: { 'x-test-client-ip': OWNER_IP }, viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page = await owner.newPage();
});

afterAll(async () => {
  await browser?.close();
  await early?.stop();
  await late?.stop();
  await stack?.stop();
});

describe('the web app', () => {
  it('should send a remote visitor to sign in, and create the owner account there', async () => {
    await page.goto(stack.dashboardUrl);
    await page.waitForURL('**/signin', WAIT);
    await page.getByRole('heading', { name: 'Sign in to Homeport' }).waitFor(WAIT);
    await shot(page, 'sign-in');
    // Wrong credentials: a message for people, still on the sign-in screen.
    await page.getByLabel('Email').fill('nobody@example.com');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), WAIT).toContain('wrong email or password');

    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Name').fill(OWNER.name);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(stack.dashboardUrl + '/', WAIT);
    await page.getByRole('heading', { name: stack.nodeId, level: 2 }).waitFor(WAIT);
    expect(await page.locator('header .who').textContent()).toBe(OWNER.name);
    await page.locator(`header [data-node="${stack.nodeId}"].online`).waitFor(WAIT);
    // The edge's live socket for the node is open (not the 2 s polling fallback).
    await page.getByTestId('live-status').getByText('Live', { exact: true }).waitFor(WAIT);
    // The dev server that was already running is there.
    await page.locator(`li.port[data-port="${early.port}"]`).waitFor(WAIT);
  });

  it('should show a dev server started later on the dashboard by itself', async () => {
    late = await startDevServer('demo-app');
    const row = page.locator(`li.port[data-port="${late.port}"]`);
    await row.waitFor(WAIT);
    expect(await page.locator('article.repo[data-repo="demo-app"] h3').textContent()).toBe('demo-app');
    expect(await row.getByTestId('share-mode').textContent()).toBe('private');
    // The node's system stats, with their charts (CPU needs two samples).
    // (a flat line has no height, so "attached", not "visible")
    await page.locator('.system [data-stat=cpu] svg path.line[d*="L"]').waitFor({ state: 'attached', ...WAIT });
    await page.locator('.system [data-stat=cpu] svg').waitFor(WAIT);
    await page.locator('.system [data-stat=memory]').waitFor(WAIT);
    await shot(page, 'dashboard');
  });

  let ownUrl = '';

  it('should share the port with a password through the modal', async () => {
    // The dashboard's port link is the port's own origin.
    expect(await page.locator(`li.port[data-port="${late!.port}"] a.port-num`).getAttribute('href')).toBe(`http://${late!.port}-${stack.nodeId}.${stack.shareHost}/`);
    await page.locator(`li.port[data-port="${late!.port}"]`).getByRole('button', { name: `Share port ${late!.port}` }).click();
    const dialog = page.getByRole('dialog', { name: `Share :${late!.port} · demo-app` });
    await dialog.waitFor(WAIT);
    await dialog.getByTestId('share-state').getByText('private').waitFor(WAIT);
    await dialog.getByRole('radio', { name: /Password/ }).check();
    await dialog.locator('input[name=share-password]').fill(SHARE_PASSWORD);
    await dialog.getByLabel('Ends').selectOption('24h');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByTestId('share-state').getByText('password').waitFor(WAIT);
    expect(await dialog.getByTestId('share-state').textContent()).toMatch(/ends in (23 h 59 min|1 d|24 h)/);
    // The token for scripts is shown once; the three link forms can be copied.
    await dialog.getByText('shown only now').waitFor(WAIT);
    // The port's own origin first, then the link (a host of its own); no path form for a
    // password share (the path form serves public shares only).
    expect(await dialog.locator('ul.links a').evaluateAll((links) => links.map((a) => a.getAttribute('data-link')))).toEqual(['subdomain', 'link']);
    ownUrl = (await dialog.locator('a[data-link=subdomain]').getAttribute('href'))!;
    expect(ownUrl).toBe(`http://${late!.port}-${stack.nodeId}.${stack.shareHost}/`);
    expect(await dialog.locator('a[data-link=link]').getAttribute('href')).toMatch(new RegExp(`^http://[0-3][0-9a-v]{26}-${stack.nodeId}\\.${stack.shareHost}/$`));
    await dialog.getByRole('button', { name: 'Copy subdomain URL' }).click();
    await page.getByRole('status').getByText('Link copied').waitFor(WAIT);
    await shot(page, 'share-modal');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', ...WAIT });
    // The dashboard follows: the port's badge says password.
    await page.locator(`li.port[data-port="${late!.port}"] .mode-password`).waitFor(WAIT);
  });

  it('should refuse a visitor until the password is entered, then show the page', async () => {
    const visitor = await browser.newContext({ extraHTTPHeaders: { 'x-test-client-ip': VISITOR_IP } });
    const v = await visitor.newPage();
    const first = await v.goto(ownUrl);
    expect(first!.status()).toBe(401);
    expect(await v.textContent('h1')).toBe('Password required');
    await v.fill('input[name=password]', SHARE_PASSWORD);
    await Promise.all([v.waitForURL(ownUrl, WAIT), v.click('button[type=submit]')]);
    expect(await v.textContent('h1')).toBe(`dev server ${late!.port}`);
    await visitor.close();
  });

  it('should show the visit in the access log, a page at a time', async () => {
    await page.locator(`li.port[data-port="${late!.port}"]`).getByRole('link', { name: `Access log of port ${late!.port}` }).click();
    await page.waitForURL(`**/n/${stack.nodeId}/p/${late!.port}/log`, WAIT);
    const visit = page.locator('table.log tbody tr', { hasText: VISITOR_IP }).filter({ has: page.locator('td', { hasText: /^200$/ }) });
    await visit.first().waitFor(WAIT);
    expect(await visit.first().locator('td').last().textContent()).toBe('yes');
    await visit.first().locator('td', { hasText: /^own origin$/ }).waitFor(WAIT);
    // The refused first attempt is there too.
    await page.locator('table.log tbody tr', { hasText: VISITOR_IP }).filter({ has: page.locator('td', { hasText: /^401$/ }) }).first().waitFor(WAIT);
    expect(await page.getByRole('button', { name: 'Newest' }).isDisabled()).toBe(true);
    await shot(page, 'access-log');
  });

  it('should start and stop a dev server from the repo page', async () => {
    const repo = makeRepo('served-app');
    const port = await freePort();
    const added = await nodeApi<{ repo: { id: string; name: string } }>(stack.socketPath, '/api/repos', 'POST', { path: repo });
    expect(added.repo.name).toBe('served-app');
    await nodeApi(stack.socketPath, `/api/repos/${added.repo.id}/settings`, 'PUT', { command: `${process.execPath} ${join(ROOT, 'test/fixtures/dev-server.mjs')} ${port}` });

    // Known to homeportd but not running: a stopped card on the dashboard, by itself.
    await nav(page, 'Dashboard').click();
    const card = page.locator('article.repo[data-repo="served-app"]');
    await card.getByTestId('repo-state').getByText('stopped').waitFor(WAIT);
    await card.getByRole('link', { name: 'served-app' }).click();
    await page.getByRole('heading', { name: 'served-app', level: 1 }).waitFor(WAIT);
    const state = page.getByTestId('server-state');
    expect(await state.textContent({ timeout: 30_000 })).toBe('stopped');

    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await state.getByText('running').waitFor(WAIT);
    await page.locator(`li.port[data-port="${port}"]`).waitFor(WAIT);
    await page.getByTestId('server-log').getByText(`listening ${port}`).waitFor(WAIT);
    await shot(page, 'repo');

    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await state.getByText('stopped').waitFor(WAIT);
    await page.locator(`li.port[data-port="${port}"]`).waitFor({ state: 'detached', ...WAIT });
    expect(await page.getByTestId('repo-state').textContent()).toBe('stopped');
  });

  it('should drive a flow with the keyboard through Ctrl+K', async () => {
    await page.goto(stack.dashboardUrl);
    await page.locator(`li.port[data-port="${late!.port}"]`).waitFor(WAIT);
    // Each screen names itself in the tab; the shortcut is written as this (Linux) keyboard has it.
    expect(await page.title()).toBe('Dashboard · Homeport');
    expect(await page.locator('header .kbd-button').textContent()).toContain('Ctrl K');
    expect(await page.locator('header .kbd-button .shortcut').isVisible()).toBe(true);
    await page.keyboard.press('Control+k');
    const palette = page.getByRole('dialog', { name: 'Command palette' });
    await palette.waitFor(WAIT);
    const input = palette.getByRole('combobox');
    expect(await input.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type(`share :${late!.port}`);
    const options = palette.getByRole('option');
    // The best match first, already selected.
    await expect.poll(() => options.first().textContent(), WAIT).toContain(`Share :${late!.port} demo-app`);
    expect(await options.first().getAttribute('aria-selected')).toBe('true');
    // Tab stays inside the palette.
    await page.keyboard.press('Tab');
    expect(await palette.evaluate((el) => el.contains(document.activeElement))).toBe(true);
    await input.focus();
    await page.keyboard.press('Enter');
    await palette.waitFor({ state: 'detached', ...WAIT });

    // In the share modal: the chosen mode has the focus; arrow to Public, Enter saves.
    const dialog = page.getByRole('dialog', { name: `Share :${late!.port} · demo-app` });
    await dialog.getByTestId('share-state').getByText('password').waitFor(WAIT);
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value), WAIT).toBe('password');
    await page.keyboard.press('ArrowDown');
    expect(await dialog.getByRole('radio', { name: /Public/ }).isChecked()).toBe(true);
    await page.keyboard.press('Enter');
    await dialog.getByTestId('share-state').getByText('public').waitFor(WAIT);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', ...WAIT });
    await page.locator(`li.port[data-port="${late!.port}"] .mode-public`).waitFor(WAIT);

    // Arrows move the selection; Enter runs it: the access log, by keyboard only.
    await page.keyboard.press('Control+k');
    await palette.waitFor(WAIT);
    await page.keyboard.type(`:${late!.port}`);
    await expect.poll(() => options.count(), WAIT).toBe(4);
    const selected = () => palette.locator('[role=option][aria-selected=true]').textContent();
    const labels = await options.allTextContents();
    const logIndex = labels.findIndex((l) => l.startsWith('Access log of'));
    for (let i = 0; i < logIndex; i++) await page.keyboard.press('ArrowDown');
    expect(await selected()).toContain(`Access log of :${late!.port}`);
    await page.keyboard.press('ArrowUp');
    expect(await selected()).not.toContain('Access log of');
    await page.keyboard.press('ArrowDown');
    await shot(page, 'command-palette');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/n/${stack.nodeId}/p/${late!.port}/log`, WAIT);

    // Start and stop a supervised dev server from the palette; the dashboard follows.
    await nav(page, 'Dashboard').click();
    const served = page.locator('article.repo[data-repo="served-app"]').getByTestId('repo-state');
    await served.getByText('stopped').waitFor(WAIT);
    await page.keyboard.press('Control+k');
    await palette.waitFor(WAIT);
    await page.keyboard.type('start served');
    await expect.poll(() => options.first().textContent(), WAIT).toContain('Start served-app');
    await page.keyboard.press('Enter');
    await served.getByText('running').waitFor(WAIT);
    await page.keyboard.press('Control+k');
    await palette.waitFor(WAIT);
    await page.keyboard.type('stop served');
    await expect.poll(() => options.first().textContent(), WAIT).toContain('Stop served-app');
    await page.keyboard.press('Enter');
    await served.getByText('stopped').waitFor(WAIT);

    // Esc closes the palette and gives the page back.
    await page.keyboard.press('Control+k');
    await palette.waitFor(WAIT);
    await page.keyboard.press('Escape');
    await palette.waitFor({ state: 'detached', ...WAIT });
  });

  it('should keep a second account pending until the owner approves it', async () => {
    const other = await browser.newContext({ extraHTTPHeaders: { 'x-test-client-ip': '203.0.113.9' } });
    const p = await other.newPage();
    await p.goto(`${stack.dashboardUrl}/signin`);
    await p.getByRole('button', { name: 'Create an account' }).click();
    await p.getByLabel('Email').fill('bob@example.com');
    await p.getByLabel('Password').fill('bob password 123');
    await p.getByRole('button', { name: 'Create account' }).click();
    await p.getByRole('heading', { name: 'Waiting for approval' }).waitFor(WAIT);

    await nav(page, 'Users').click();
    const bob = page.locator('li[data-user="bob@example.com"]');
    await bob.getByText('pending').waitFor(WAIT);
    await shot(page, 'users');
    await bob.getByRole('button', { name: 'approve bob@example.com' }).click();
    await bob.getByText('active').waitFor(WAIT);

    await p.goto(`${stack.dashboardUrl}/signin`);
    await p.getByLabel('Email').fill('bob@example.com');
    await p.getByLabel('Password').fill('bob password 123');
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.waitForURL(stack.dashboardUrl + '/', WAIT);
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.getByRole('heading', { name: 'Sign in to Homeport' }).waitFor(WAIT);
    await other.close();
  });

  it('should create and delete an API token in settings', async () => {
    await nav(page, 'Settings').click();
    await page.getByRole('heading', { name: 'API tokens' }).waitFor(WAIT);
    await page.getByLabel('Name', { exact: true }).fill('ci script');
    await page.getByRole('button', { name: 'Create token' }).click();
    expect(await page.getByTestId('new-token').textContent({ timeout: 30_000 })).toMatch(/^hpt_/);
    await page.locator('li[data-token="ci script"]').waitFor(WAIT);
    await shot(page, 'settings');
    await page.getByRole('button', { name: 'Delete token ci script' }).click();
    await page.locator('li[data-token="ci script"]').waitFor({ state: 'detached', ...WAIT });

    // The node's dev-server settings, saved on the node.
    const servers = page.locator(`section[data-settings="${stack.nodeId}"]`);
    await servers.getByLabel('Restart a server that crashes').uncheck(WAIT);
    await servers.getByLabel(/Stop a server unused for/).fill('45');
    await servers.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').getByText(`Saved the dev-server settings of ${stack.nodeId}`).waitFor(WAIT);
    const saved = await nodeApi<{ settings: { autoRestart: boolean; idleTimeoutMinutes: number | null } }>(stack.socketPath, '/api/settings');
    expect(saved.settings).toMatchObject({ autoRestart: false, idleTimeoutMinutes: 45 });
    await servers.getByLabel(/Stop a server unused for/).fill('');
    await servers.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await nodeApi<{ settings: { idleTimeoutMinutes: number | null } }>(stack.socketPath, '/api/settings')).settings.idleTimeoutMinutes, WAIT).toBe(null);
  });

  it('should render on a phone with no horizontal scroll', async () => {
    const phone = await browser.newContext({
      storageState: await owner.storageState(),
      extraHTTPHeaders: { 'x-test-client-ip': OWNER_IP },
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      colorScheme: 'dark',
    });
    const p = await phone.newPage();
    await p.goto(stack.dashboardUrl);
    await p.locator(`li.port[data-port="${late!.port}"]`).waitFor(WAIT);
    // No keyboard shortcut on a touch screen: the button says what it does.
    expect(await p.locator('header .kbd-button .shortcut').isVisible()).toBe(false);
    expect(await p.locator('header .kbd-button .touch-only').isVisible()).toBe(true);
    await expectNoHorizontalScroll(p);
    await shot(p, 'phone-dashboard');
    await p.goto(`${stack.dashboardUrl}/n/${stack.nodeId}/p/${late!.port}/log`);
    await p.locator('table.log tbody tr').first().waitFor(WAIT);
    await expectNoHorizontalScroll(p);
    await p.goto(`${stack.dashboardUrl}/`);
    await p.locator(`li.port[data-port="${late!.port}"]`).getByRole('button', { name: `Share port ${late!.port}` }).click();
    await p.getByRole('dialog').getByTestId('share-state').waitFor(WAIT);
    await expectNoHorizontalScroll(p);
    await shot(p, 'phone-share-modal');
    await phone.close();
  });

  it('should show a node going offline and coming back, keeping its last ports', async () => {
    await nav(page, 'Dashboard').click();
    const pill = page.locator(`header [data-node="${stack.nodeId}"]`);
    await page.locator(`li.port[data-port="${late!.port}"]`).waitFor(WAIT);
    await stack.stopNode();
    await page.locator(`header [data-node="${stack.nodeId}"].offline`).waitFor(WAIT);
    const section = page.locator(`section.node[data-node="${stack.nodeId}"]`);
    await section.getByText(/last seen/).waitFor(WAIT);
    await section.getByText('The node is offline: these are the last ports it reported.').waitFor(WAIT);
    expect(await page.locator(`li.port[data-port="${late!.port}"]`).count()).toBe(1);
    await shot(page, 'node-offline');
    await stack.startNode();
    await page.locator(`header [data-node="${stack.nodeId}"].online`).waitFor(WAIT);
    expect(await pill.getAttribute('title')).toBe('online');
  });

  it('should pair, rename and revoke nodes on the nodes screen', async () => {
    await nav(page, 'Nodes').click();
    await page.getByRole('heading', { name: 'Nodes', level: 1 }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Pair a node' }).click();
    const command = await page.getByTestId('pair-command').textContent({ timeout: 30_000 });
    expect(command).toMatch(new RegExp(`^npx homeport pair ${stack.dashboardUrl.replace(/[.]/g, '\\.')} [A-Z2-9]{4}-[A-Z2-9]{4}$`));

    const row = page.locator(`li[data-node="${stack.nodeId}"]`);
    await row.getByRole('button', { name: /^Rename/ }).click();
    await row.getByLabel('Name').fill('Desk box');
    await row.getByRole('button', { name: 'Save' }).click();
    await row.getByRole('heading', { name: /Desk box/ }).waitFor(WAIT);
    await page.locator(`header [data-node="${stack.nodeId}"]`).getByText('Desk box').waitFor(WAIT);
    await shot(page, 'nodes');

    // Revoke asks first; Cancel keeps the node.
    await row.getByRole('button', { name: 'Revoke Desk box' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke Desk box?' });
    await confirm.waitFor(WAIT);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached', ...WAIT });
    await row.getByRole('button', { name: 'Revoke Desk box' }).click();
    await confirm.getByRole('button', { name: 'Revoke node' }).click();
    await row.waitFor({ state: 'detached', ...WAIT });
    await page.getByRole('status').getByText('Desk box revoked').waitFor(WAIT);
  });

  it("should let nobody in by address, and the local owner in by the one-time link (local mode)", async () => {
    const local = await browser.newContext();
    const p = await local.newPage();
    // The edge's own machine, with no credential: the sign-in screen, which says where the link is.
    await p.goto(stack.dashboardUrl);
    await p.waitForURL('**/signin', WAIT);
    expect(await p.getByTestId('local-sign-in').textContent(WAIT)).toContain('npm run sign-in-link');
    expect(await p.title()).toBe('Sign in · Homeport');
    await p.goto(await stack.signInLink());
    expect(await p.locator('header .who').textContent(WAIT)).toBe('Local owner');
    expect(new URL(p.url()).pathname).toBe('/');
    // The local owner is an admin: the Users screen lists the accounts.
    await nav(p, 'Users').click();
    await p.locator(`[data-user="${OWNER.email}"]`).waitFor(WAIT);
    expect(await p.title()).toBe('Users · Homeport');
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.waitForURL('**/signin', WAIT);
    await p.goto(stack.dashboardUrl);
    await p.waitForURL('**/signin', WAIT);
    await local.close();
  });

  it('should sign out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Homeport' }).waitFor(WAIT);
    await page.goto(stack.dashboardUrl);
    await page.waitForURL('**/signin', WAIT);
  });
});
