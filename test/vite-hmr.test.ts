/**
 * End to end in real Chromium: a real Vite dev server behind a share, hot module
 * replacement over the proxied WebSocket, in the path form (Vite configured with the
 * /<port>/ base and the port set to keep its prefix) and in the subdomain form.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.ts';
import { freePort } from './helpers/ports.ts';
import { ROOT, makeRepo, startTestStack, waitFor, type TestStack } from './helpers/stack.ts';

let stack: TestStack;
let browser: Browser;
const vites: ChildProcess[] = [];

async function startVite(withBase: boolean) {
  const port = await freePort();
  const base = withBase ? `/${port}/` : undefined;
  const repo = makeRepo(`vite-app-${port}`);
  writeFileSync(join(repo, 'index.html'), '<!doctype html><html><body><h1 id="msg">…</h1><script type="module" src="./main.js"></script></body></html>');
  writeFileSync(join(repo, 'msg.js'), "export const msg = 'one';\n");
  writeFileSync(
    join(repo, 'main.js'),
    `import { msg } from './msg.js';
window.loadId ??= Math.random();
const render = (m) => { document.getElementById('msg').textContent = m; };
render(msg);
if (import.meta.hot) import.meta.hot.accept('./msg.js', (mod) => render(mod.msg));
`,
  );
  const args = [join(ROOT, 'node_modules/vite/bin/vite.js'), '--port', String(port), '--strictPort', '--host', '127.0.0.1', ...(base ? ['--base', base] : [])];
  const vite = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  vites.push(vite);
  await waitFor('vite', async () => (await fetch(`http://127.0.0.1:${port}${base ?? '/'}`)).ok, 30_000);
  return { port, repo };
}

beforeAll(async () => {
  stack = await startTestStack();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const vite of vites) vite.kill();
  await stack?.stop();
});

async function expectHotUpdate(url: string, repo: string) {
  // The owner's key on every request (the page's and the HMR socket's): nobody is the owner by address.
  const context = await browser.newContext({ extraHTTPHeaders: stack.ownerHeaders });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('msg')?.textContent === 'one');
  const loadId = await page.evaluate(() => (window as unknown as { loadId: number }).loadId);
  writeFileSync(join(repo, 'msg.js'), "export const msg = 'two';\n");
  await page.waitForFunction(() => document.getElementById('msg')?.textContent === 'two', undefined, { timeout: 20_000 });
  // Replaced in place over the WebSocket, not by reloading the page.
  expect(await page.evaluate(() => (window as unknown as { loadId: number }).loadId)).toBe(loadId);
  await context.close();
}

describe('Vite hot reload through a share', () => {
  it('should hot-update in the path form, Vite on base /<port>/ and the port keeping its prefix', async () => {
    const vite = await startVite(true);
    expect(stack.cli('port', String(vite.port), '--keep-prefix').code).toBe(0);
    // The path form serves public shares only.
    expect(stack.cli('share', String(vite.port), '--public').code).toBe(0);
    await expectHotUpdate(`http://${stack.shareHost}/${vite.port}/`, vite.repo);
  });

  it('should hot-update in the subdomain form with no configuration at all', async () => {
    const vite = await startVite(false);
    await expectHotUpdate(`http://${vite.port}-${stack.nodeId}.${stack.shareHost}/`, vite.repo);
  });
});
