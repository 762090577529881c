/**
 * End to end: a dev server started by hand is discovered with its process and repo,
 * the edge learns it, the CLI and the dashboard (real Chromium) show it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.ts';
import { lanKey } from './helpers/lan.ts';
import { ROOT, nodeApi, ownerRequest as request, startDevServer, startTestStack, waitFor, type DevServer, type TestStack } from './helpers/stack.ts';

let stack: TestStack;
let dev: DevServer;
let browser: Browser;

interface EdgePort {
  port: number;
  pid: number;
  cwd: string;
  repo: { name: string; root: string } | null;
  url: string;
  subdomainUrl: string;
  pathUrl: string;
}

/**
 * A GET on the dashboard host. Local wrangler dev may close an idle keep-alive connection
 * just as fetch reuses it ("other side closed"): that one failure is retried on a new one.
 */
const dashboard = async (path: string): Promise<Response> => {
  const get = () => fetch(`http://127.0.0.1:${stack.edgePort}${path}`, { headers: { host: `localhost:${stack.edgePort}`, ...stack.ownerHeaders } });
  try {
    return await get();
  } catch (error) {
    if ((error as { cause?: { code?: string } }).cause?.code !== 'UND_ERR_SOCKET') throw error;
    return get();
  }
};
const edgePorts = async () => (await (await dashboard(`/api/nodes/${stack.nodeId}/ports`)).json()) as { online: boolean; ports: EdgePort[] };

beforeAll(async () => {
  stack = await startTestStack();
  browser = await launchChromium();
  dev = await startDevServer('billing-api');
});

afterAll(async () => {
  await browser?.close();
  await dev?.stop();
  await stack?.stop();
});

describe('discovery', () => {
  it('should see a new dev server with its pid, working directory and repo, and tell the edge', async () => {
    const seen = await waitFor('the edge to list the port', async () => (await edgePorts()).ports.find((p) => p.port === dev.port), 10_000);
    expect(seen.pid).toBe(dev.process.pid);
    expect(seen.cwd).toBe(dev.repo);
    expect(seen.repo).toEqual({ name: 'billing-api', root: dev.repo });
    // The port's own origin first; the path form under its own, clearly named field.
    expect(seen.url).toBe(`http://${dev.port}-${stack.nodeId}.${stack.shareHost}/`);
    expect(seen.subdomainUrl).toBe(seen.url);
    expect(seen.pathUrl).toBe(`http://${stack.shareHost}/${dev.port}/`);
    const local = await nodeApi<{ ports: EdgePort[] }>(stack.socketPath, '/api/ports');
    expect(local.ports.find((p) => p.port === dev.port)?.repo?.name).toBe('billing-api');
  });

  it('should drop a port from the edge once its server stops', async () => {
    const other = await startDevServer('short-lived');
    await waitFor('listed', async () => (await edgePorts()).ports.some((p) => p.port === other.port), 10_000);
    await other.stop();
    await waitFor('unlisted', async () => !(await edgePorts()).ports.some((p) => p.port === other.port), 10_000);
  });
});

describe('the homeport CLI', () => {
  it('should list ports with their repo and share URL', async () => {
    await waitFor('listed', async () => (await edgePorts()).ports.some((p) => p.port === dev.port));
    const { code, stdout } = stack.cli('list');
    expect(code).toBe(0);
    const line = stdout.split('\n').find((l) => l.startsWith(String(dev.port)));
    expect(line).toContain('billing-api');
    expect(line).toContain(`http://${dev.port}-${stack.nodeId}.${stack.shareHost}/`);
    expect(JSON.parse(stack.cli('list', '--json').stdout).some((p: EdgePort) => p.port === dev.port)).toBe(true);
  });

  it('should print share URLs in every form', () => {
    const own = `http://${dev.port}-${stack.nodeId}.${stack.shareHost}/`;
    expect(stack.cli('url', String(dev.port)).stdout.trim()).toBe(own);
    expect(stack.cli('url', String(dev.port), '--subdomain').stdout.trim()).toBe(own);
    expect(stack.cli('url', String(dev.port), '--path').stdout.trim()).toBe(`http://${stack.shareHost}/${dev.port}/`);
    expect(stack.cli('url', String(dev.port), '--lan').stdout.trim()).toBe(`http://${dev.port}.localhost:${stack.lanPort}/?homeport_key=${lanKey(stack.dataDir)}`);
  });

  it('should show the tunnel state', () => {
    const { code, stdout } = stack.cli('status');
    expect(code).toBe(0);
    expect(stdout).toMatch(/tunnel\s+online/);
    expect(stdout).toMatch(new RegExp(`shares at\\s+http://<port>-${stack.nodeId}\\.${stack.shareHost.replace('.', '\\.')}/`));
    expect(stdout).toMatch(new RegExp(`path form\\s+http://${stack.shareHost.replace('.', '\\.')}/<port>/`));
    expect(JSON.parse(stack.cli('status', '--json').stdout).tunnel.state).toBe('online');
  });

  it('should fail clearly on bad input and when homeportd is not running', () => {
    const bad = stack.cli('url', 'abc');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"abc" is not a port number');
    const outside = stack.cli('url', '80');
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain('outside the share range');
    try {
      execFileSync(process.execPath, [join(ROOT, 'homenode/bin/homeport.js'), 'list'], { env: { ...process.env, HOMEPORT_HOME: mkdtempSync(join(tmpdir(), 'hp-none-')) }, stdio: 'pipe' });
      expect.unreachable('list without a daemon must fail');
    } catch (error) {
      const e = error as { status: number; stderr: Buffer };
      expect(e.status).toBe(1);
      expect(e.stderr.toString()).toContain('homeportd is not running');
    }
  });
});

describe('the node API through the tunnel', () => {
  it('should answer the same routes as the local door, one API with two doors', async () => {
    const viaEdge = await (await dashboard(`/api/nodes/${stack.nodeId}/api/status`)).json();
    const local = await nodeApi<{ node: { pid: number } }>(stack.socketPath, '/api/status');
    expect(viaEdge.node.pid).toBe(local.node.pid);
    expect(viaEdge.tunnel.state).toBe('online');
    const port = await waitFor('the port through the tunnel', async () => {
      const res = await dashboard(`/api/nodes/${stack.nodeId}/api/ports/${dev.port}`);
      return res.ok ? res.json() : undefined;
    });
    expect(port.repo.name).toBe('billing-api');
    const missing = await dashboard(`/api/nodes/${stack.nodeId}/api/ports/80`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toBe('nothing listens on port 80');
  });
});

describe('the dashboard and its origin', () => {
  it('should show the node and the dev server in a real browser', async () => {
    const page = await browser.newPage();
    await page.goto(await stack.signInLink()); // the owner, by the one-time link
    await page.goto(`http://localhost:${stack.edgePort}/`);
    // The dashboard groups ports by repo: the port's item, under its repo's name.
    const item = page.locator(`li.port[data-port="${dev.port}"]`);
    await item.waitFor({ timeout: 30_000 });
    expect(await page.locator('main').textContent()).toContain('billing-api');
    expect(await page.locator('.badge').first().textContent()).toBe('online');
    await page.close();
  });

  it('should serve hashed assets as immutable and the page as no-cache', async () => {
    const html = await (await dashboard('/')).text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    expect((await dashboard(asset)).headers.get('cache-control')).toContain('immutable');
    expect((await dashboard('/')).headers.get('cache-control')).toBe('no-cache');
  });

  it('should never answer the API or the app on the share host', async () => {
    const api = await request(stack, '/api/nodes');
    expect(api.status).toBe(404);
    expect(api.headers['content-type']).toContain('text/html');
    expect(api.text).not.toContain('"nodes"');
    const root = await request(stack, '/');
    expect(root.status).toBe(404);
    expect(root.text).toContain('Not under a port');
  });
});
