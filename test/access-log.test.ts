/**
 * End to end: every request through a share leaves an access-log row that says how it
 * ended — sent in full, the visitor gone, the dev server too slow (the edge's 504), or the
 * home node gone (homeportd killed with SIGKILL mid-download) — with the bytes sent. The real local stack,
 * a public share of a dev server that serves a slow, large body; the log is read through
 * the owner API with an owner's API token.
 */
import { ownHost } from './helpers/own-origin.ts';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessLogEntry } from '@homeport/shared';
import { launchChromium } from './helpers/browser.ts';
import { OWNER_IP, ownerToken } from './helpers/owner.ts';
import { request, startDevServer, startTestStack, waitFor, type DevServer, type TestStack } from './helpers/stack.ts';

const VISITOR_IP = '203.0.113.61';
/** 64 KiB every 20 ms: about 3 MB/s, so a download is surely in flight when it is cut. */
const SLOW = 'delay=20';

let stack: TestStack;
let app: DevServer;
let token: string;

beforeAll(async () => {
  stack = await startTestStack({ edgeVars: { UPSTREAM_TIMEOUT_MS: '1500' } });
  token = await ownerToken(stack);
  app = await startDevServer('log-app');
  const made = await request(stack, `/api/nodes/${stack.nodeId}/shares/${app.port}`, {
    method: 'PUT',
    host: `localhost:${stack.edgePort}`,
    headers: { authorization: `Bearer ${token}`, 'x-test-client-ip': OWNER_IP, 'content-type': 'application/json' },
    body: JSON.stringify({ mode: 'public' }),
  });
  expect(made.status, made.text).toBe(200);
});

afterAll(async () => {
  await app?.stop();
  await stack?.stop();
});

/** The share's log as the owner reads it on the dashboard host. */
async function logRows(): Promise<AccessLogEntry[]> {
  const res = await request(stack, `/api/nodes/${stack.nodeId}/shares/${app.port}/log`, {
    host: `localhost:${stack.edgePort}`,
    headers: { authorization: `Bearer ${token}`, 'x-test-client-ip': OWNER_IP, connection: 'close' },
  });
  expect(res.status, res.text).toBe(200);
  return (JSON.parse(res.text) as { entries: AccessLogEntry[] }).entries;
}

/** The row of the request whose path is `path`, once it is there. */
function rowOf(path: string): Promise<AccessLogEntry> {
  return waitFor(`the access-log row of ${path}`, async () => (await logRows()).find((e) => e.path === path), 30_000, 200);
}

/**
 * Downloads `path` from the share; once `cutAt` bytes have arrived, `cut(response)` runs.
 * Resolves with the bytes received and whether the download ended complete.
 */
function download(path: string, cutAt: number, cut: (response: http.IncomingMessage) => void): Promise<{ received: number; complete: boolean }> {
  return new Promise((resolve) => {
    let received = 0;
    let cutDone = false;
    const req = http.get({ host: '127.0.0.1', port: stack.edgePort, path, agent: false, headers: { host: ownHost(stack, app.port), 'x-test-client-ip': VISITOR_IP } }, (res) => {
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (!cutDone && received >= cutAt) {
          cutDone = true;
          cut(res);
        }
      });
      res.on('close', () => resolve({ received, complete: res.complete }));
    });
    req.on('error', () => resolve({ received, complete: false }));
  });
}

describe('the access log of a share', () => {
  it('should log a download sent in full as complete', async () => {
    const path = `/download?mb=1&n=complete`;
    const got = await download(path, Infinity, () => {});
    expect(got).toEqual({ received: 1024 * 1024, complete: true });
    expect(await rowOf(path)).toMatchObject({ status: 200, bytes: 1024 * 1024, outcome: 'complete', clientIp: VISITOR_IP });
  });

  it('should log a download the visitor walked away from, with the bytes sent so far', async () => {
    const path = `/download?mb=64&${SLOW}&n=visitor`;
    const got = await download(path, 512 * 1024, (res) => res.destroy());
    expect(got.complete).toBe(false);
    const row = await rowOf(path);
    expect(row).toMatchObject({ status: 200, outcome: 'aborted: visitor disconnected' });
    expect(row.bytes).toBeGreaterThanOrEqual(got.received);
    expect(row.bytes).toBeLessThan(64 * 1024 * 1024);
  });

  it('should log a dev server that never answers with the edge\'s 504', async () => {
    const path = `/slow?n=timeout`;
    const got = await request(stack, path, { host: ownHost(stack, app.port), headers: { 'x-test-client-ip': VISITOR_IP, connection: 'close' } });
    expect(got.status).toBe(504);
    expect(await rowOf(path)).toMatchObject({ status: 504, bytes: got.body.length, outcome: 'complete' });
  });

  it('should log a download cut by a node crash, with the bytes sent so far', async () => {
    const path = `/download?mb=64&${SLOW}&n=crash`;
    const got = await download(path, 512 * 1024, () => void stack.stopNode('SIGKILL'));
    expect(got.complete).toBe(false);
    const row = await rowOf(path);
    expect(row).toMatchObject({ status: 200, outcome: 'aborted: node disconnected', clientIp: VISITOR_IP });
    expect(row.bytes).toBeGreaterThanOrEqual(got.received);
    expect(row.bytes).toBeLessThan(64 * 1024 * 1024);

    // The node back, its CLI and the dashboard show how that download ended.
    await stack.startNode();
    await stack.waitForTunnel();
    const cli = stack.cli('logs', String(app.port));
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/ENDED/);
    expect(cli.stdout).toContain('aborted: node disconnected');

    const browser = await launchChromium();
    try {
      const owner = await browser.newContext({ extraHTTPHeaders: { 'x-test-client-ip': OWNER_IP } });
      const signIn = await owner.request.post(`${stack.dashboardUrl}/api/auth/login`, { headers: { origin: stack.dashboardUrl }, data: { email: 'owner@example.com', password: 'a long owner password' } });
      expect(signIn.status()).toBe(200);
      const page = await owner.newPage();
      await page.goto(`${stack.dashboardUrl}/n/${stack.nodeId}/p/${app.port}/log`);
      const cell = page.locator(`tr[data-entry="${row.id}"] .outcome`);
      await cell.waitFor({ timeout: 15_000 });
      expect(await cell.textContent()).toBe('aborted: node disconnected');
    } finally {
      await browser.close();
    }
  });
});
