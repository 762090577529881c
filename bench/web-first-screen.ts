/**
 * @module
 * "First screen usable" for the web app: in Chromium, from navigation start to the first
 * animation frame in which the dashboard shows a given port's row (the app loaded, asked
 * the edge who we are, for the nodes and for their ports, and rendered them). Measured as
 * the local owner (signed in once by a one-time link; each run reuses only its cookie), each
 * cold run in a fresh browser context (empty cache), each warm run a reload in the same one.
 * `npm run bench` reports it with a 500 ms goal;
 * `tsx bench/web-first-screen.ts <sign-in link> <port>` measures a running stack.
 */
import { launchChromium } from '../test/helpers/browser.ts';
import { median } from './load.ts';

export interface FirstScreen {
  coldMs: number[];
  warmMs: number[];
}

export async function measureFirstScreen(dashboardUrl: string, port: number, signInLink: string, runs = 7): Promise<FirstScreen> {
  const browser = await launchChromium();
  const row = `li.port[data-port="${port}"]`;
  // performance.now() counts from the navigation's start (the page's time origin).
  const shownAt = async (page: import('playwright-core').Page) =>
    (await (await page.waitForFunction((selector) => document.querySelector(selector) && performance.now(), row, { polling: 'raf', timeout: 30_000 })).jsonValue()) as number;
  try {
    const coldMs: number[] = [];
    const warmMs: number[] = [];
    // One unmeasured load, signed in: wrangler dev compiles and the hubs wake on first use.
    const warmup = await browser.newContext();
    await (await warmup.newPage()).goto(signInLink);
    const { cookies } = await warmup.storageState();
    await warmup.close();
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, storageState: { cookies, origins: [] } });
      const page = await context.newPage();
      await page.goto(dashboardUrl, { waitUntil: 'commit' });
      coldMs.push(await shownAt(page));
      await page.reload({ waitUntil: 'commit' });
      warmMs.push(await shownAt(page));
      await context.close();
    }
    return { coldMs, warmMs };
  } finally {
    await browser.close();
  }
}

export function describeFirstScreen(result: FirstScreen): string {
  const ms = (v: number) => `${Math.round(v)} ms`;
  return `cold p50 ${ms(median(result.coldMs))} (max ${ms(Math.max(...result.coldMs))}), warm p50 ${ms(median(result.warmMs))}, ${result.coldMs.length} runs`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [link, port] = process.argv.slice(2);
  if (!link || !port) {
    process.stderr.write('usage: tsx bench/web-first-screen.ts <sign-in link (npm run sign-in-link)> <port shown on it>\n');
    process.exit(2);
  }
  process.stdout.write(describeFirstScreen(await measureFirstScreen(new URL(link).origin, Number(port), link)) + '\n');
}
