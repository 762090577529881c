/**
 * End to end in Chromium: the sign-in screen offers "Sign in with GitHub" when the edge
 * has it configured (a local fake GitHub, test/fakes/github.ts); the button signs the
 * first GitHub user in as the owner; a cancelled sign-in comes back with its message on
 * the sign-in screen; a later GitHub user lands on the pending notice.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from './fakes/github.ts';
import { launchChromium } from './helpers/browser.ts';
import { startTestStack, type TestStack } from './helpers/stack.ts';

const WAIT = { timeout: 30_000 };
let stack: TestStack;
let github: FakeGitHub;
let browser: Browser;

/** A browser context of one client address (not the loopback local owner). */
const client = (ip: string): Promise<BrowserContext> => browser.newContext({ extraHTTPHeaders: { 'x-test-client-ip': ip } });

function addUser(id: number, login: string, email: string) {
  github.addUser({ id, login, name: `${login} (GitHub)`, emails: [{ email, primary: true, verified: true }] });
}

beforeAll(async () => {
  github = await FakeGitHub.start();
  [stack, browser] = await Promise.all([
    startTestStack({ edgeVars: { GITHUB_CLIENT_ID: github.clientId, GITHUB_CLIENT_SECRET: github.clientSecret, GITHUB_OAUTH_URL: github.url, GITHUB_API_URL: github.url } }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await github?.stop();
});

describe('GitHub sign-in in the web app', () => {
  it('should sign the first GitHub user in as the owner from the button', async () => {
    addUser(501, 'octocat', 'mona@example.com');
    github.signInAs('octocat');
    const context = await client('203.0.113.21');
    const page = await context.newPage();
    await page.goto(stack.dashboardUrl);
    const button = page.getByRole('link', { name: 'Sign in with GitHub' });
    await button.waitFor(WAIT);
    await button.click();
    await page.waitForURL(stack.dashboardUrl + '/', WAIT);
    expect(await page.locator('header .who').textContent(WAIT)).toBe('octocat (GitHub)');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    expect(await page.getByTestId('github-login').textContent(WAIT)).toBe('Connected as @octocat.');
    await context.close();
  });

  it('should show why a cancelled GitHub sign-in did not work', async () => {
    github.denyNextAuthorization();
    const context = await client('203.0.113.22');
    const page = await context.newPage();
    await page.goto(`${stack.dashboardUrl}/signin`);
    await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
    await page.waitForURL('**/signin?signin_error=*', WAIT);
    expect(await page.getByRole('alert').textContent(WAIT)).toBe('GitHub sign-in was cancelled');
    await context.close();
  });

  it('should show the pending notice to a later GitHub user', async () => {
    addUser(502, 'hubot', 'hubot@example.com');
    github.signInAs('hubot');
    const context = await client('203.0.113.23');
    const page = await context.newPage();
    await page.goto(`${stack.dashboardUrl}/signin`);
    await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
    await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor(WAIT);
    expect(new URL(page.url()).pathname).toBe('/pending');
    await context.close();
  });
});
