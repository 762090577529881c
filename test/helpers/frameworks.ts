/**
 * @module
 * Stock dev servers for the framework tests: each app is written the way its own
 * starter writes it (no Homeport-specific config), in a fresh git repository, and
 * started with its own CLI from node_modules/.bin. The apps live under test/.apps/
 * inside the checkout and find its node_modules by walking up, except Next.js: its
 * Turbopack stops at the app's git repository, so that app gets a node_modules of its
 * own (hardlinks of the checkout's packages, as `npm install` would leave them).
 * `checkInBrowser` opens one URL form in Chromium and proves render, hydration (a click
 * changes state) and a hot update (an edit arrives without a reload).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.ts';
import { lanKey } from './lan.ts';
import { freePort } from './ports.ts';
import { GaveUp } from '../../scripts/local-stack.ts';
import { ROOT, startTestStack, waitFor, type TestStack } from './stack.ts';

export const APPS_DIR = join(ROOT, 'test/.apps');

export interface StockApp {
  name: string;
  port: number;
  dir: string;
  /** writes the edit that turns the visible message from "one" into "two" (or back) */
  edit(message: 'one' | 'two'): void;
  /** whether the framework keeps a component's state across a hot update */
  keepsState: boolean;
  stop(): Promise<void>;
}

interface AppSpec {
  files(message: string): Record<string, string>;
  /** the file the edit rewrites */
  edited: string;
  command(port: number): string[];
  keepsState: boolean;
  /** packages the app gets in its own node_modules (with their dependencies) */
  ownModules?: string[];
}

/** The counter and the message each app shows: #msg holds the text, #count the clicks. */
const SPECS: Record<string, AppSpec> = {
  // Vite's vanilla starter: index.html + main.js; main.js accepts updates of msg.js.
  vite: {
    files: (message) => ({
      'index.html': '<!doctype html>\n<html><head><meta charset="utf-8"><title>vite app</title></head>\n<body><h1 id="msg"></h1><button id="count">count is 0</button><script type="module" src="/main.js"></script></body></html>\n',
      'msg.js': `export const msg = '${message}';\n`,
      'main.js': [
        "import { msg } from './msg.js';",
        "let count = 0;",
        "const button = document.querySelector('#count');",
        "button.addEventListener('click', () => (button.textContent = `count is ${++count}`));",
        "const render = (m) => (document.querySelector('#msg').textContent = m);",
        'render(msg);',
        "if (import.meta.hot) import.meta.hot.accept('./msg.js', (mod) => render(mod.msg));",
        '',
      ].join('\n'),
    }),
    edited: 'msg.js',
    command: (port) => ['vite', '--port', String(port), '--strictPort', '--host', '127.0.0.1'],
    keepsState: true,
  },
  // create-next-app's App Router layout, a client component with a button, `next dev` (Turbopack).
  next: {
    files: (message) => ({
      'package.json': JSON.stringify({ name: 'next-app', private: true, scripts: { dev: 'next dev' } }, null, 2) + '\n',
      'app/layout.tsx': 'export default function RootLayout({ children }: { children: React.ReactNode }) {\n  return (\n    <html lang="en">\n      <body>{children}</body>\n    </html>\n  );\n}\n',
      'app/page.tsx': "import Counter from './counter';\n\nexport default function Home() {\n  return (\n    <main>\n      <Counter />\n    </main>\n  );\n}\n",
      'app/counter.tsx': [
        "'use client';",
        "import { useState } from 'react';",
        '',
        'export default function Counter() {',
        '  const [count, setCount] = useState(0);',
        '  return (',
        '    <>',
        `      <h1 id="msg">${message}</h1>`,
        '      <button id="count" onClick={() => setCount(count + 1)}>count is {count}</button>',
        '    </>',
        '  );',
        '}',
        '',
      ].join('\n'),
    }),
    edited: 'app/counter.tsx',
    command: (port) => ['next', 'dev', '--port', String(port), '--hostname', '127.0.0.1'],
    keepsState: true,
    // what create-next-app installs for a TypeScript app (without them next dev installs them itself)
    ownModules: ['next', 'react', 'react-dom', 'typescript', '@types/react', '@types/react-dom', '@types/node'],
  },
  // The minimal SvelteKit skeleton (no adapter: `vite dev` needs none), Svelte 5 runes.
  sveltekit: {
    files: (message) => ({
      'package.json': JSON.stringify({ name: 'kit-app', private: true, type: 'module', scripts: { dev: 'vite dev' } }, null, 2) + '\n',
      'svelte.config.js': 'export default { kit: {} };\n',
      'vite.config.js': "import { sveltekit } from '@sveltejs/kit/vite';\nimport { defineConfig } from 'vite';\n\nexport default defineConfig({ plugins: [sveltekit()] });\n",
      'src/app.html': '<!doctype html>\n<html lang="en">\n\t<head>\n\t\t<meta charset="utf-8" />\n\t\t%sveltekit.head%\n\t</head>\n\t<body data-sveltekit-preload-data="hover">\n\t\t<div style="display: contents">%sveltekit.body%</div>\n\t</body>\n</html>\n',
      'src/routes/+page.svelte': `<script>\n\tlet count = $state(0);\n</script>\n\n<h1 id="msg">${message}</h1>\n<button id="count" onclick={() => count++}>count is {count}</button>\n`,
    }),
    edited: 'src/routes/+page.svelte',
    command: (port) => ['vite', 'dev', '--port', String(port), '--strictPort', '--host', '127.0.0.1'],
    // Svelte 5 remounts an edited component: its local state starts again (seen here: 1 → 0).
    keepsState: false,
  },
};

/** `names` and everything they depend on that the checkout has installed. */
function withDependencies(names: string[]): string[] {
  const found = new Set<string>();
  const queue = [...names];
  while (queue.length) {
    const name = queue.pop()!;
    const manifest = join(ROOT, 'node_modules', name, 'package.json');
    if (found.has(name) || !existsSync(manifest)) continue;
    found.add(name);
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    queue.push(...Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies }));
  }
  return [...found];
}

/** Gives the app its own node_modules: hardlinked copies, so no bytes are copied. */
function installInto(dir: string, names: string[]) {
  for (const name of withDependencies(names)) {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    execFileSync('cp', ['-al', join(ROOT, 'node_modules', name), join(dir, 'node_modules', name)]);
  }
  for (const name of names) {
    const bin = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).bin;
    for (const [command, target] of Object.entries<string>(typeof bin === 'string' ? { [name]: bin } : (bin ?? {}))) {
      mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
      symlinkSync(join('..', name, target), join(dir, 'node_modules/.bin', command));
    }
  }
  // a stock project ignores node_modules; the scanner must not read it as the app
  writeFileSync(join(dir, '.gitignore'), 'node_modules/\n.next/\n');
}

function writeFiles(dir: string, files: Record<string, string>) {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** Writes the stock app `kind` into a new git repo and starts its dev server; resolves once it answers. */
export async function startStockApp(kind: keyof typeof SPECS): Promise<StockApp> {
  const spec = SPECS[kind];
  mkdirSync(APPS_DIR, { recursive: true });
  const dir = join(mkdtempSync(join(APPS_DIR, `${kind}-`)), `${kind}-app`);
  mkdirSync(dir);
  execFileSync('git', ['init', '-q', dir]);
  writeFiles(dir, spec.files('one'));
  if (spec.ownModules) installInto(dir, spec.ownModules);
  const port = await freePort();
  const [bin, ...args] = spec.command(port);
  const child: ChildProcess = spawn(join(spec.ownModules ? dir : ROOT, 'node_modules/.bin', bin), args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', BROWSER: 'none' },
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid!, 'SIGTERM'); // the whole group: next dev forks its own server
      await exited;
    }
    rmSync(dirname(dir), { recursive: true, force: true });
  };
  try {
    // The first page compiles the app: next dev may take tens of seconds on a busy machine.
    await waitFor(`${kind} dev server`, async () => {
      if (child.exitCode !== null) throw new GaveUp(`${kind} exited: ${output}`);
      return (await fetch(`http://127.0.0.1:${port}/`)).status === 200;
    }, 180_000, 500);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output.slice(-3000)}`);
  }
  return {
    name: kind,
    port,
    dir,
    keepsState: spec.keepsState,
    edit: (message) => writeFiles(dir, { [spec.edited]: spec.files(message)[spec.edited] }),
    stop,
  };
}

/** One URL form of a dev port: how a browser opens `port` through Homeport. */
export interface UrlForm {
  name: string;
  url(port: number): string;
}

/** Measured hot-update latencies (ms), by app and form, for the report. */
export const hmrTimings: { app: string; form: string; ms: number }[] = [];

/**
 * Opens `form` of `app` in a fresh context: the page renders, a click changes state
 * (hydrated), an edit arrives as a hot update (a marker on window survives, and the
 * clicked state too where the framework keeps it). Leaves the app's source as it found it.
 */
export async function checkInBrowser(browser: Browser, app: StockApp, form: UrlForm, headers: Record<string, string> = {}) {
  const context = await browser.newContext({ extraHTTPHeaders: headers });
  try {
    const page = await context.newPage();
    await page.goto(form.url(app.port));
    await page.waitForFunction(() => document.querySelector('#msg')?.textContent === 'one', undefined, { timeout: 90_000 });
    // Hydrated: a click changes state (retried: the button may render before its handler is attached).
    await waitFor('a click to count', async () => {
      await page.click('#count');
      return (await page.textContent('#count'))?.trim() !== 'count is 0';
    }, 60_000, 250);
    const clicked = (await page.textContent('#count'))!.trim();
    await page.evaluate(() => ((window as unknown as { homeportMarker: string }).homeportMarker = 'still here'));
    const started = Date.now();
    app.edit('two');
    const updated = () => page.waitForFunction(() => document.querySelector('#msg')?.textContent === 'two', undefined, { timeout: 30_000, polling: 'raf' });
    // A busy machine's file watcher can miss a write: the edit is made once more before giving
    // up (a broken HMR socket through Homeport fails both times).
    await updated().catch(() => {
      app.edit('two');
      return updated();
    });
    hmrTimings.push({ app: app.name, form: form.name, ms: Date.now() - started });
    // A hot update, not a reload: the page's globals are still there.
    expect(await page.evaluate(() => (window as unknown as { homeportMarker?: string }).homeportMarker)).toBe('still here');
    if (app.keepsState) expect((await page.textContent('#count'))!.trim()).toBe(clicked);
  } finally {
    app.edit('one');
    await context.close();
  }
}

/** Dev port P has its own LAN door port P + LAN_OFFSET (clear of the ports test helpers hand out). */
const LAN_OFFSET = 50_000;
const VISITOR_IP = '203.0.113.80';

/**
 * The whole check for one framework, as one test file runs it: one stack, one browser,
 * one dev server, then every URL form Homeport offers as working (own origin, the share
 * link's own host, the LAN door's two origins). A new form is one more line in `forms`.
 */
export function frameworkSuite(kind: keyof typeof SPECS) {
  let stack: TestStack;
  let browser: Browser;
  let app: StockApp;
  let key: string;
  let link: string;

  // Read at test time: the stack and the key exist by then.
  const forms: UrlForm[] = [
    { name: 'subdomain form (edge, public share)', url: (port) => `http://${port}-${stack.nodeId}.${stack.shareHost}/` },
    { name: 'share link, its own host (edge)', url: () => link },
    { name: 'LAN door, <port>.localhost', url: (port) => `http://${port}.localhost:${stack.lanPort}/?homeport_key=${key}` },
    { name: 'LAN door, its own door port', url: (port) => `http://127.0.0.1:${port + LAN_OFFSET}/?homeport_key=${key}` },
  ];

  beforeAll(async () => {
    // Started side by side; each is kept as soon as it is up, so afterAll stops what did start.
    const started = await Promise.allSettled([
      startTestStack({ nodeEnv: { HOMEPORT_LAN_PORT_OFFSET: String(LAN_OFFSET) } }).then((s) => (stack = s)),
      launchChromium().then((b) => (browser = b)),
      startStockApp(kind).then((a) => (app = a)),
    ]);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    key = lanKey(stack.dataDir);
    await stack.waitForTunnel('online');
    await waitFor('the app in a scan', async () => stack.cli('list', '--json').stdout.includes(`"port": ${app.port}`));
    // Public, so the browser needs no owner credential (it comes from loopback, which proves nothing).
    expect(stack.cli('share', String(app.port), '--public').code).toBe(0);
    link = stack.cli('url', String(app.port), '--link').stdout.trim();
    expect(link).toMatch(new RegExp(`^http://[0-9a-z]{27}-${stack.nodeId}\\.${stack.shareHost.replace('.', '\\.')}/$`));
  }, 240_000);

  afterAll(async () => {
    if (hmrTimings.length) console.log(`hot-update latency (ms), ${kind}:\n${hmrTimings.map((t) => `  ${t.form}: ${t.ms}`).join('\n')}`);
    await browser?.close();
    await app?.stop();
    await stack?.stop();
  });

  describe(`stock ${kind} through Homeport in Chromium`, () => {
    for (const form of forms)
      it(`should render, hydrate and hot-update on the ${form.name}`, { timeout: 240_000 }, async () => {
        await checkInBrowser(browser, app, form, { 'x-test-client-ip': VISITOR_IP });
      });
  });
}
