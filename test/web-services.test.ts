/**
 * End to end: the services, MCP and browser-editor screens in real Chromium against the
 * local stack. Services run in a real Docker engine from test templates
 * (HOMEPORT_SERVICE_TEMPLATES, built on the busybox test image): install from the
 * catalog (a template that wants the Docker socket asks for the owner's grant first),
 * honest status (running and healthy, a job completed, stopped), live logs, connection
 * strings masked until revealed and copied, uninstall with purge after a confirm. MCP:
 * the SDK fixture server registered with a secret variable typed into a password field,
 * started, its tools listed, toggled and called with JSON arguments, its crash and log
 * seen, stopped and removed. "Open in editor" says when code-server is not installed and
 * otherwise opens the repo in it (a code-server STAND-IN, test/fixtures/
 * code-server-stand-in.mjs: the real one cannot be installed here).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { volumeName } from '../homenode/src/services/containers.ts';
import { testCatalog } from '../homenode/src/services/fixtures.ts';
import { launchChromium } from './helpers/browser.ts';
import { ensureDocker, ensureTestImage } from './helpers/docker.ts';
import { ROOT, makeRepo, nodeApi, startTestStack, type TestStack, ownerContext } from './helpers/stack.ts';

const SHOTS = join(ROOT, 'docs/screenshots');
const WAIT = { timeout: 60_000 };
const suffix = randomBytes(3).toString('hex');
/** service names no other test on this engine uses */
const SITE = `site-${suffix}`;
const JOB = `job-${suffix}`;
const SOCKET = `sock-${suffix}`;
const MCP_SECRET = `fixture-secret-${randomBytes(8).toString('hex')}`;

let stack: TestStack;
let docker: Docker;
let browser: Browser;
let context: BrowserContext;
let page: Page;

async function shot(p: Page, name: string) {
  await p.screenshot({ path: join(SHOTS, `${name}.png`) });
}

const nav = (p: Page, name: string) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

async function expectNoHorizontalScroll(p: Page) {
  const { scrollWidth, innerWidth } = await p.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
}

const node = <T = Record<string, unknown>>(path: string, method = 'GET', body?: unknown) => nodeApi<T>(stack.socketPath, path, method, body);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  docker = await ensureDocker();
  const image = await ensureTestImage(docker);
  // The busybox templates, as the owner would add their own (docs/services.md).
  const templates = join(mkdtempSync(join(tmpdir(), 'homeport-web-services-')), 'templates.json');
  const base = 21000 + Math.floor(Math.random() * 8000);
  writeFileSync(templates, JSON.stringify(testCatalog(image, base).filter((t) => ['web', 'job', 'socket'].includes(t.id))));
  stack = await startTestStack({ nodeEnv: { HOMEPORT_SERVICE_TEMPLATES: templates, HOMEPORT_CODE_SERVER: join(ROOT, 'test/fixtures/code-server-stand-in.mjs') } });
  browser = await launchChromium();
  await stack.waitForTunnel('online');
  // The local owner (loopback, local mode); the clipboard readable for the copy check.
  context = await ownerContext(browser, stack, { viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.dashboardUrl });
  page = await context.newPage();
}, 240_000);

afterAll(async () => {
  for (const name of [SITE, JOB, SOCKET]) await node(`/api/services/${name}?purge=1`, 'DELETE').catch(() => {});
  await browser?.close();
  await stack?.stop();
});

describe('services in the web app', () => {
  const card = (name: string) => page.locator(`li.service[data-service="${name}"]`);

  it('should install a service from the catalog and show it running and healthy', async () => {
    await page.goto(stack.dashboardUrl);
    await nav(page, 'Services').click();
    await page.getByRole('heading', { name: 'Services', level: 1 }).waitFor(WAIT);
    await page.getByText('No services installed yet').waitFor(WAIT);
    await page.locator('li[data-template="postgres"]').waitFor(WAIT);
    await page.locator('li[data-template="web"]').getByRole('button', { name: 'Install Test web' }).click();
    const dialog = page.getByRole('dialog', { name: 'Install Test web' });
    await dialog.getByLabel('Name').fill(SITE);
    expect(await dialog.locator('fieldset.grant').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Install' }).click();
    await dialog.waitFor({ state: 'detached', ...WAIT });
    await card(SITE).getByTestId('service-state').getByText('running', { exact: true }).waitFor(WAIT);
    await card(SITE).getByText('web: running (healthy)').waitFor(WAIT);
    const service = await node<{ endpoints: { hostPort: number }[] }>(`/api/services/${SITE}`);
    expect(await card(SITE).getByRole('link', { name: `127.0.0.1:${service.endpoints[0].hostPort}` }).getAttribute('href')).toBe(`http://127.0.0.1:${service.endpoints[0].hostPort}/`);
  });

  it('should mask the connection string until asked, and copy the real one', async () => {
    const revealed = await node<{ connections: { label: string; value: string }[]; credentials: { name: string; value: string }[] }>(`/api/services/${SITE}/connection?reveal=1`);
    const password = revealed.credentials.find((c) => c.name === 'ADMIN_PASSWORD')!.value;
    await card(SITE).getByRole('button', { name: `Connection of ${SITE}` }).click();
    const connection = card(SITE).getByTestId('service-connection');
    await connection.getByText('ADMIN_PASSWORD').waitFor(WAIT);
    expect(await connection.textContent()).toContain('********');
    expect(await page.content()).not.toContain(password);
    await connection.getByRole('button', { name: 'Copy URL' }).click();
    await page.getByRole('status').getByText('URL copied').waitFor(WAIT);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(revealed.connections[0].value);
    expect(await page.content()).not.toContain(password);
    await connection.getByRole('button', { name: 'Reveal secrets' }).click();
    await connection.getByText(password).first().waitFor(WAIT);
    await card(SITE).getByRole('button', { name: `Connection of ${SITE}` }).click();
    await connection.waitFor({ state: 'detached', ...WAIT });
  });

  it('should follow its logs, stop and start it', async () => {
    await card(SITE).getByRole('button', { name: `Logs of ${SITE}` }).click();
    await card(SITE).getByTestId('service-log').getByText('web | web ready').first().waitFor(WAIT);
    await card(SITE).getByRole('button', { name: `Stop ${SITE}`, exact: true }).click();
    await card(SITE).getByTestId('service-state').getByText('stopped', { exact: true }).waitFor(WAIT);
    await card(SITE).getByText('Logs: every container stopped').waitFor(WAIT);
    await card(SITE).getByRole('button', { name: `Start ${SITE}`, exact: true }).click();
    await card(SITE).getByTestId('service-state').getByText('running', { exact: true }).waitFor(WAIT);
    await card(SITE).getByRole('button', { name: `Logs of ${SITE}` }).click();
  });

  it('should show a one-shot job as completed', async () => {
    await page.locator('li[data-template="job"]').getByRole('button', { name: 'Install Test job' }).click();
    const dialog = page.getByRole('dialog', { name: 'Install Test job' });
    await dialog.getByLabel('Name').fill(JOB);
    await dialog.getByRole('button', { name: 'Install' }).click();
    await card(JOB).getByTestId('service-state').getByText('completed', { exact: true }).waitFor(WAIT);
    await card(JOB).getByText('once: completed exit 0').waitFor(WAIT);
  });

  it("should ask for the owner's grant before installing a template that wants the Docker socket", async () => {
    await page.locator('li[data-template="socket"]').getByText('Needs your grant: docker-socket').waitFor(WAIT);
    await page.locator('li[data-template="socket"]').getByRole('button', { name: 'Install Needs the socket' }).click();
    const dialog = page.getByRole('dialog', { name: 'Install Needs the socket' });
    await dialog.getByLabel('Name').fill(SOCKET);
    const grant = dialog.getByRole('checkbox', { name: /docker-socket: mounts the Docker socket/ });
    await grant.waitFor(WAIT);
    await shot(page, 'service-grant');
    // Without the grant the form does not go.
    await dialog.getByRole('button', { name: 'Install' }).click();
    expect(await dialog.isVisible()).toBe(true);
    expect(await grant.evaluate((el) => (el as HTMLInputElement).validity.valueMissing)).toBe(true);
    expect((await node<{ services: { name: string }[] }>('/api/services')).services.map((s) => s.name)).not.toContain(SOCKET);
    await grant.check();
    await dialog.getByRole('button', { name: 'Install' }).click();
    await card(SOCKET).getByTestId('service-state').getByText('running', { exact: true }).waitFor(WAIT);
    expect((await node<{ grants: string[] }>(`/api/services/${SOCKET}`)).grants).toEqual(['docker-socket']);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'services');
  });

  it('should uninstall after a confirm, deleting the data only when asked', async () => {
    await card(SOCKET).getByRole('button', { name: `Uninstall ${SOCKET}` }).click();
    let confirm = page.getByRole('dialog', { name: `Uninstall ${SOCKET}?` });
    await confirm.getByRole('button', { name: 'Uninstall', exact: true }).click();
    await card(SOCKET).waitFor({ state: 'detached', ...WAIT });

    await card(SITE).getByRole('button', { name: `Uninstall ${SITE}` }).click();
    confirm = page.getByRole('dialog', { name: `Uninstall ${SITE}?` });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached', ...WAIT });
    expect(await card(SITE).count()).toBe(1);
    await card(SITE).getByRole('button', { name: `Uninstall ${SITE}` }).click();
    await confirm.getByRole('checkbox', { name: /Also delete its data/ }).check();
    await confirm.getByRole('button', { name: 'Uninstall and delete data' }).click();
    await card(SITE).waitFor({ state: 'detached', ...WAIT });
    await page.getByRole('status').getByText(`${SITE} uninstalled, its data deleted`).waitFor(WAIT);
    await expect(docker.getVolume(volumeName(SITE, 'data')).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('should fit a phone without horizontal scrolling', async () => {
    const phone = await ownerContext(browser, stack, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    const p = await phone.newPage();
    await p.goto(`${stack.dashboardUrl}/services`);
    await p.locator(`li.service[data-service="${JOB}"]`).waitFor(WAIT);
    await expectNoHorizontalScroll(p);
    await phone.close();
  });
});

describe('MCP servers in the web app', () => {
  const server = () => page.locator('li.mcp-server[data-mcp="fixture"]');
  const tools = () => page.getByRole('region', { name: 'Tools of fixture' });

  async function call(tool: string, args: string) {
    await tools().getByLabel('Call a tool').selectOption(tool);
    await tools().getByLabel('Arguments (JSON)').fill(args);
    await tools().getByRole('button', { name: 'Call', exact: true }).click();
  }

  it('should register a server with a secret variable that never comes back', async () => {
    await page.keyboard.press('Control+k');
    const palette = page.getByRole('dialog', { name: 'Command palette' });
    await palette.waitFor(WAIT);
    await page.keyboard.type('mcp');
    await expect.poll(() => palette.getByRole('option').first().textContent(), WAIT).toContain('Go to MCP servers');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'MCP servers', level: 1 }).waitFor(WAIT);
    await page.getByText('No MCP servers registered yet.').waitFor(WAIT);
    await page.getByText('Register a server').click();
    const form = page.locator('details.register form');
    await form.getByLabel('Name').fill('fixture');
    await form.getByLabel('Command').fill(process.execPath);
    await form.getByLabel('Arguments (one per line)').fill(join(ROOT, 'test/fixtures/mcp-server.mjs'));
    await form.getByLabel('Environment (KEY=value, one per line)').fill('GREETING=hi there');
    await form.getByRole('button', { name: 'Add a secret variable' }).click();
    await form.getByLabel('Variable', { exact: true }).fill('FIXTURE_TOKEN');
    expect(await form.getByLabel('Value', { exact: true }).getAttribute('type')).toBe('password');
    await form.getByLabel('Value', { exact: true }).fill(MCP_SECRET);
    await form.getByRole('button', { name: 'Register', exact: true }).click();
    await server().getByTestId('mcp-state').getByText('stopped').waitFor(WAIT);
    await server().getByText('secrets: FIXTURE_TOKEN').waitFor(WAIT);
    expect(await page.content()).not.toContain(MCP_SECRET);
    expect(JSON.stringify(await node('/api/mcp/servers/fixture'))).not.toContain(MCP_SECRET);
  });

  it('should start it, list its tools and call them with JSON arguments', async () => {
    await server().getByRole('button', { name: 'Start fixture', exact: true }).click();
    await server().getByTestId('mcp-state').getByText('running').waitFor(WAIT);
    await server().getByText('fixture-mcp 1.2.3').waitFor(WAIT);
    for (const tool of ['echo', 'env', 'spawn_grandchild', 'fail', 'crash']) await tools().locator(`li[data-tool="${tool}"]`).waitFor(WAIT);
    // The first tool's example arguments: its required properties.
    expect(JSON.parse(await tools().getByLabel('Arguments (JSON)').inputValue())).toEqual({ text: '' });

    await call('echo', '{"text": "hello from the web"}');
    await tools().getByTestId('mcp-result').getByText('hello from the web').waitFor(WAIT);
    await call('env', '{"name": "GREETING"}');
    await tools().getByTestId('mcp-result').getByText('hi there').waitFor(WAIT);
    // The secret reached the server's environment (and only the tool's answer shows it).
    await call('env', '{"name": "FIXTURE_TOKEN"}');
    await tools().getByTestId('mcp-result').getByText(MCP_SECRET).waitFor(WAIT);
    await call('fail', '{}');
    await tools().getByText('The tool reported an error:').waitFor(WAIT);
    await tools().getByTestId('mcp-result').getByText('this tool always fails').waitFor(WAIT);
    await call('echo', '{"text": ');
    await tools().getByRole('alert').getByText(/The arguments are not JSON/).waitFor(WAIT);
  });

  it('should switch a tool off for agents and on again', async () => {
    const toggle = tools().getByRole('switch', { name: 'Offer crash to agents' });
    expect(await toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await expect.poll(async () => (await node<{ server: { disabledTools: string[] } }>('/api/mcp/servers/fixture')).server.disabledTools, WAIT).toEqual(['crash']);
    await page.getByRole('status').getByText('crash not offered to agents').waitFor(WAIT);
    expect(await toggle.isChecked()).toBe(false);
    await call('echo', '{"text": "still here"}');
    await tools().getByTestId('mcp-result').getByText('still here').waitFor(WAIT);
    await shot(page, 'mcp');
    await toggle.check();
    await expect.poll(async () => (await node<{ server: { disabledTools: string[] } }>('/api/mcp/servers/fixture')).server.disabledTools, WAIT).toEqual([]);
  });

  it('should show a crash honestly with the log that explains it, then stop and remove the server', async () => {
    await call('crash', '{"code": 7}');
    await server().getByTestId('mcp-state').getByText('crashed').waitFor(WAIT);
    await server().getByText(/the server exited with code 7/).waitFor(WAIT);
    await server().locator('details.mcp-logs summary').click();
    await server().locator('details.mcp-logs').getByText('fixture: crashing on purpose').waitFor(WAIT);
    await server().getByRole('button', { name: 'Start fixture', exact: true }).click();
    await server().getByTestId('mcp-state').getByText('running').waitFor(WAIT);
    await server().getByRole('button', { name: 'Stop fixture', exact: true }).click();
    await server().getByTestId('mcp-state').getByText('stopped').waitFor(WAIT);
    await server().getByRole('button', { name: 'Remove fixture' }).click();
    await page.getByRole('dialog', { name: 'Remove fixture?' }).getByRole('button', { name: 'Remove server' }).click();
    await server().waitFor({ state: 'detached', ...WAIT });
    expect((await node<{ servers: unknown[] }>('/api/mcp/servers')).servers).toEqual([]);
  });
});

describe('the browser editor from the repo page', () => {
  it('should say so when code-server is not installed, and open the repo in it when it is', async () => {
    const repo = makeRepo('editme');
    await node('/api/repos', 'POST', { path: repo });
    await node('/api/settings', 'PUT', { codeServerPath: '/nonexistent/code-server' });
    await page.goto(`${stack.dashboardUrl}/n/${stack.nodeId}/r/editme`);
    await page.getByRole('heading', { name: 'editme', level: 1 }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Open in editor' }).click();
    const problem = page.getByTestId('editor-problem');
    await problem.getByText(/code-server is not installed on this machine/).waitFor(WAIT);
    expect(await problem.textContent()).toContain('/nonexistent/code-server, which is not an executable file');
    // The tab opened for it closed again.
    await expect.poll(() => context.pages().length, WAIT).toBe(1);

    await node('/api/settings', 'PUT', { codeServerPath: null });
    const opened = context.waitForEvent('page', WAIT);
    await page.getByRole('button', { name: 'Open in editor' }).click();
    const editor = await opened;
    await editor.waitForURL(`**/api/nodes/${stack.nodeId}/api/code/?folder=${encodeURIComponent(repo)}`, WAIT);
    await expect.poll(() => editor.title(), WAIT).toBe('code-server stand-in');
    const info = JSON.parse((await editor.locator('#info').textContent())!);
    expect(info).toMatchObject({ standIn: true, folder: repo });
    expect(await editor.evaluate(() => window.opener)).toBe(null);
    expect(await problem.count()).toBe(0);
    await editor.close();
  });
});
