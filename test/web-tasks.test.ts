/**
 * End to end: agent tasks in the web app, in real Chromium against the local stack, with
 * a real Docker engine (the busybox test image as the sandbox) and the fake Anthropic
 * server (the real SDK in homeportd talks to it). The Anthropic key is set, replaced and
 * cleared through the write-only form; a task started from the form streams its
 * transcript (Markdown, tool calls folded), survives reloads mid-run with nothing
 * missing or doubled, shows its diff, usage and commit, and takes a follow-up; another
 * one is cancelled mid-request. Screenshots go to docs/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkTree, tempDir } from '../homenode/src/repos/git-fixtures.ts';
import { count, usd } from '../web/src/format.ts';
import { markdown } from '../web/src/markdown.ts';
import { FakeAnthropic, text, toolUse, type FakeAnswer } from './fakes/anthropic.ts';
import { launchChromium } from './helpers/browser.ts';
import { ensureDocker, ensureTestImage } from './helpers/docker.ts';
import { ROOT, nodeApi, startTestStack, type TestStack, ownerContext } from './helpers/stack.ts';

const SHOTS = join(ROOT, 'docs/screenshots');
/** generous: a loaded 2-core machine; every wait is for an element, never a sleep */
const WAIT = { timeout: 60_000 };
const PROMPT = 'Make the greeting say hello, world';
/** Streamed slowly enough that a reload lands in the middle of it; plain words first. */
const FINAL_WORDS =
  'I changed the greeting so that it now says hello world as you asked and then I read it back from the file to check that the new text is really there and that nothing else in the file has moved or changed in any way at all';
const FINAL = `${FINAL_WORDS}\n\n- read **greeting.txt**\n- wrote \`hello, world\`\n\nSee [the docs](https://example.com/docs) for more.`;

let stack: TestStack;
let anthropic: FakeAnthropic;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let wrongKey: string;
/** the third model turn of the first task waits for this */
const hold = gate();

async function shot(p: Page, name: string) {
  await p.screenshot({ path: join(SHOTS, `${name}.png`) });
}

const nav = (p: Page, name: string) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

/** A promise the test opens when it wants: holds a model turn until then. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** The transcript as entries: what a reload must give back exactly. */
async function entries(p: Page) {
  return p.getByTestId('transcript').locator('[data-seq]').evaluateAll((els) => els.map((el) => `${el.getAttribute('data-seq')} ${el.className} ${el.textContent}`));
}

/** The raw events tab's sequence numbers. */
async function rawSeqs(p: Page): Promise<number[]> {
  await p.getByRole('tab', { name: 'Raw events' }).click();
  const lines = await p.getByTestId('raw-events').locator('[data-seq]').allTextContents();
  await p.getByRole('tab', { name: 'Transcript' }).click();
  return lines.map((line) => JSON.parse(line).seq);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const docker = await ensureDocker();
  const image = await ensureTestImage(docker);
  anthropic = await FakeAnthropic.start();
  wrongKey = `sk-ant-api03-wrong-${Date.now()}`;
  stack = await startTestStack();
  const work = makeWorkTree(join(tempDir('homeport-web-tasks-'), 'shop'), { 'greeting.txt': 'hello\n', 'README.md': '# shop\n' });
  await nodeApi(stack.socketPath, '/api/repos', 'POST', { path: work });
  await nodeApi(stack.socketPath, '/api/settings', 'PUT', { anthropicBaseUrl: anthropic.url, agentImage: image });
  browser = await launchChromium();
  await stack.waitForTunnel('online');
  // The local owner (loopback, local mode): no sign-in.
  context = await ownerContext(browser, stack, { viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  page = await context.newPage();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await anthropic?.stop();
});

describe('agent tasks in the web app', () => {
  it('should set and replace the Anthropic key with a write-only form that never shows it', async () => {
    await page.goto(`${stack.dashboardUrl}/settings`);
    const section = page.locator(`section[data-anthropic="${stack.nodeId}"]`);
    await section.getByTestId('anthropic-key-state').getByText(/^Not set/).waitFor(WAIT);
    await section.getByLabel('Key', { exact: true }).fill(wrongKey);
    await section.getByRole('button', { name: 'Save key' }).click();
    await section.getByTestId('anthropic-key-state').getByText(/^Set/).waitFor(WAIT);
    expect(await section.getByLabel('New key').inputValue()).toBe('');
    expect(await section.getByLabel('New key').getAttribute('type')).toBe('password');
    // Replaced by the right one: the runs below only work if this took.
    await section.getByLabel('New key').fill(anthropic.apiKey);
    await section.getByRole('button', { name: 'Replace key' }).click();
    // Saved: the field is emptied (it never gets the key back).
    await expect.poll(() => section.getByLabel('New key').inputValue(), WAIT).toBe('');
    const html = await page.content();
    expect(html).not.toContain(anthropic.apiKey);
    expect(html).not.toContain(wrongKey);
    expect(await nodeApi(stack.socketPath, '/api/secrets/anthropic-key')).toMatchObject({ set: true });
  });

  let taskId = '';

  it('should start a task from the form and stream its transcript with tool calls folded', async () => {
    anthropic.enqueue(
      { content: [text('Let me look at the greeting first.'), toolUse('read_file', { path: 'greeting.txt' })] },
      { content: [text('Now I will fix it.'), toolUse('write_file', { path: 'greeting.txt', content: 'hello, world\n' })] },
      async (): Promise<FakeAnswer> => {
        await hold.opened;
        return { content: [text(FINAL)], chunkDelayMs: 400 };
      },
    );
    await nav(page, 'Tasks').click();
    await page.getByRole('heading', { name: 'Agent tasks', level: 1 }).waitFor(WAIT);
    const form = page.getByRole('form', { name: 'New task' });
    await form.getByLabel('Repo').locator('option', { hasText: 'shop' }).waitFor({ state: 'attached', ...WAIT });
    await form.getByLabel('Repo').selectOption('shop');
    await form.getByLabel('Prompt').fill(PROMPT);
    await form.getByLabel('Max turns').fill('10');
    await form.getByLabel('Budget ($)').fill('1.5');
    await form.getByLabel('Timeout (minutes)').fill('10');
    await shot(page, 'task-new');
    await form.getByRole('button', { name: 'Start task' }).click();
    await page.waitForURL(`**/n/${stack.nodeId}/tasks/task_*`, WAIT);
    taskId = page.url().split('/').pop()!;
    const saved = await nodeApi<{ task: { limits: { maxTurns: number; maxCostUsd: number; wallClockMs: number }; source: string } }>(stack.socketPath, `/api/tasks/${taskId}`);
    expect(saved.task.limits).toMatchObject({ maxTurns: 10, maxCostUsd: 1.5, wallClockMs: 600_000 });
    expect(saved.task.source).toBe('web');

    const transcript = page.getByTestId('transcript');
    await page.getByRole('heading', { name: PROMPT, level: 1 }).waitFor(WAIT);
    await transcript.locator('.msg.user', { hasText: PROMPT }).waitFor(WAIT);
    await transcript.locator('.msg.assistant', { hasText: 'Let me look at the greeting first.' }).waitFor(WAIT);
    // Each tool call is folded, with its result once it came back.
    const write = transcript.locator('details.tool[data-tool="write_file"]');
    await write.locator('summary .badge', { hasText: / ms$/ }).waitFor(WAIT);
    expect(await transcript.locator('details.tool[data-tool="read_file"] summary').textContent()).toContain('greeting.txt');
    expect(await write.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    await write.locator('summary').click();
    await write.locator('pre', { hasText: '"content": "hello, world\\n"' }).waitFor(WAIT);
    await page.getByTestId('task-status').getByText('running').waitFor(WAIT);
    await expect.poll(() => anthropic.requests.length, WAIT).toBe(3);
    await shot(page, 'task-console');
  });

  it('should replay the transcript once after a reload mid-run, then go on live', async () => {
    const before = await entries(page);
    expect(before.length).toBeGreaterThanOrEqual(6);
    await page.reload();
    const transcript = page.getByTestId('transcript');
    await transcript.locator('details.tool[data-tool="write_file"] summary .badge', { hasText: / ms$/ }).waitFor(WAIT);
    await expect.poll(() => entries(page), WAIT).toEqual(before);
  });

  it('should stream the answer in, survive a reload in the middle of it, and render it as Markdown', async () => {
    const transcript = page.getByTestId('transcript');
    const streaming = transcript.locator('.msg.assistant.streaming');
    // The held turn answers now, a word every 400 ms.
    hold.open();
    await streaming.waitFor(WAIT);
    await page.reload();
    // After the reload: the words so far once each, and more coming.
    await streaming.waitFor(WAIT);
    const partial = (await streaming.textContent())!.trim();
    expect(FINAL_WORDS.startsWith(partial)).toBe(true);
    const final = transcript.locator('.msg.assistant', { hasText: 'See the docs' });
    await final.waitFor(WAIT);
    await page.getByTestId('task-status').getByText('completed').waitFor(WAIT);
    expect(await final.getAttribute('class')).not.toContain('streaming');
    expect(await final.locator('.md').innerHTML()).toBe(markdown(FINAL));
    expect(await final.locator('strong').textContent()).toBe('greeting.txt');
    expect(await final.locator('li code').textContent()).toBe('hello, world');
    expect(await final.locator('a').getAttribute('href')).toBe('https://example.com/docs');
    expect(await transcript.locator('.msg.assistant', { hasText: FINAL_WORDS }).count()).toBe(1);
    // Every event exactly once, in order.
    const seqs = await rawSeqs(page);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const stored = await nodeApi<{ events: { seq: number }[] }>(stack.socketPath, `/api/tasks/${taskId}/events`);
    expect(seqs.length).toBe(stored.events.length);
  });

  it('should show usage, cost, the commit and the diff', async () => {
    const task = (await nodeApi<{ task: { commitSha: string; branch: string; usage: { inputTokens: number }; costUsd: number } }>(stack.socketPath, `/api/tasks/${taskId}`)).task;
    expect(task.costUsd).toBeGreaterThan(0);
    await page.getByTestId('task-commit').getByText(task.commitSha.slice(0, 10)).waitFor(WAIT);
    expect(await page.getByText(task.branch, { exact: true }).count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('task-usage').textContent(), WAIT).toContain(`${count(task.usage.inputTokens)} in · `);
    expect(await page.getByTestId('task-usage').textContent()).toContain(` out · ${usd(task.costUsd)}`);
    await page.getByRole('tab', { name: 'Diff' }).click();
    const diff = page.getByTestId('diff');
    await diff.locator('.add', { hasText: '+hello, world' }).waitFor(WAIT);
    expect(await diff.locator('.del').allTextContents()).toContain('-hello\n');
    expect(await page.getByRole('tab', { name: 'Diff' }).getAttribute('aria-selected')).toBe('true');
    await shot(page, 'task-diff');
    // The tabs move with the arrow keys.
    await page.getByRole('tab', { name: 'Diff' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'Transcript' }).getAttribute('aria-selected')).toBe('true');
    await page.getByTestId('transcript').waitFor(WAIT);
  });

  it('should take a follow-up on the same task', async () => {
    anthropic.enqueue({ content: [text('Follow-up done: the README mentions the greeting now.'), toolUse('write_file', { path: 'README.md', content: '# shop\n\nSays hello, world.\n' })] }, { content: [text('All set.')] });
    await page.getByLabel('Follow-up').fill('Mention the greeting in the README');
    await page.getByRole('button', { name: 'Send follow-up' }).click();
    const transcript = page.getByTestId('transcript');
    await transcript.locator('.msg.user', { hasText: 'Mention the greeting in the README' }).waitFor(WAIT);
    await transcript.locator('.msg.assistant', { hasText: 'All set.' }).waitFor(WAIT);
    await page.getByTestId('task-status').getByText('completed').waitFor(WAIT);
    expect(await transcript.locator('.msg.user').count()).toBe(2);
    const seqs = await rawSeqs(page);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });

  it('should cancel a task whose model request hangs', async () => {
    anthropic.enqueue(() => new Promise<FakeAnswer>(() => {}));
    const asked = anthropic.requests.length;
    // Ctrl+K: a new task in the repo, from anywhere.
    await page.keyboard.press('Control+k');
    const palette = page.getByRole('dialog', { name: 'Command palette' });
    await palette.waitFor(WAIT);
    await page.keyboard.type('new task in shop');
    await expect.poll(() => palette.getByRole('option').first().textContent(), WAIT).toContain('New task in shop');
    await page.keyboard.press('Enter');
    const form = page.getByRole('form', { name: 'New task' });
    await form.waitFor(WAIT);
    expect(await form.getByLabel('Repo').inputValue()).toBe('shop');
    await form.getByLabel('Prompt').fill('Loop forever');
    await form.getByRole('button', { name: 'Start task' }).click();
    await page.waitForURL(`**/n/${stack.nodeId}/tasks/task_*`, WAIT);
    await expect.poll(() => anthropic.requests.length, WAIT).toBe(asked + 1);
    await page.getByTestId('task-status').getByText('running').waitFor(WAIT);
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await page.getByTestId('task-status').getByText('cancelled').waitFor(WAIT);
    await page.getByTestId('transcript').locator('.note-line', { hasText: 'Cancelled: cancelled by the owner' }).waitFor(WAIT);
    expect(await page.getByRole('button', { name: 'Cancel task' }).count()).toBe(0);
  });

  it('should list the tasks with their status, per repo and overall', async () => {
    await nav(page, 'Tasks').click();
    const list = page.locator(`section[data-node="${stack.nodeId}"] ul.tasks`);
    await list.locator(`li[data-task="${taskId}"] .badge`, { hasText: 'completed' }).waitFor(WAIT);
    await list.locator('li .badge', { hasText: 'cancelled' }).waitFor(WAIT);
    expect(await list.locator('li.task-row').count()).toBe(2);
    expect(await list.locator(`li[data-task="${taskId}"]`).textContent()).toMatch(/shop · .* tokens · \$\d/);
    await page.getByLabel('Show').selectOption('shop');
    await page.waitForURL('**/tasks?repo=shop', WAIT);
    expect(await list.locator('li.task-row').count()).toBe(2);
    await shot(page, 'tasks');
    await list.locator(`li[data-task="${taskId}"] a`).click();
    await page.waitForURL(`**/tasks/${taskId}`, WAIT);
    await page.getByTestId('transcript').locator('.msg.assistant', { hasText: 'All set.' }).waitFor(WAIT);
  });

  it('should fit a phone without horizontal scrolling', async () => {
    const phone = await ownerContext(browser, stack, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    const p = await phone.newPage();
    await p.goto(`${stack.dashboardUrl}/n/${stack.nodeId}/tasks/${taskId}`);
    await p.getByTestId('transcript').locator('.msg.assistant', { hasText: 'All set.' }).waitFor(WAIT);
    await p.getByTestId('transcript').locator('details.tool').first().locator('summary').click();
    const { scrollWidth, innerWidth } = await p.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, innerWidth: window.innerWidth }));
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    await shot(p, 'phone-task');
    await p.goto(`${stack.dashboardUrl}/tasks`);
    await p.locator('li.task-row').first().waitFor(WAIT);
    const tasks = await p.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, innerWidth: window.innerWidth }));
    expect(tasks.scrollWidth).toBeLessThanOrEqual(tasks.innerWidth);
    await phone.close();
  });

  it('should clear the key after asking', async () => {
    await nav(page, 'Settings').click();
    const section = page.locator(`section[data-anthropic="${stack.nodeId}"]`);
    await section.getByRole('button', { name: 'Clear key' }).click();
    const confirm = page.getByRole('dialog', { name: `Clear the Anthropic key of ${stack.nodeId}?` });
    await confirm.getByRole('button', { name: 'Clear key' }).click();
    await section.getByTestId('anthropic-key-state').getByText(/^Not set/).waitFor(WAIT);
    expect(await nodeApi(stack.socketPath, '/api/secrets/anthropic-key')).toMatchObject({ set: false });
  });
});
