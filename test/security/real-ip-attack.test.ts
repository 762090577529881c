/**
 * End to end: a visitor who says who they are in X-Real-IP (or its cousins) must not be
 * believed by the app behind a share or the LAN door; the app hears the address the edge
 * or the door vouches for, the same one X-Forwarded-For carries.
 */
import { ownHost } from '../helpers/own-origin.ts';
import { lanAuth } from '../helpers/lan.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerSession } from '../helpers/owner.ts';
import { request, startDevServer, startTestStack, type DevServer, type TestStack } from '../helpers/stack.ts';

const OWNER_IP = '198.51.100.81';
const VISITOR_IP = '203.0.113.81';
const FORGED = { 'x-real-ip': '10.6.6.6', 'true-client-ip': '10.6.6.6', 'x-client-ip': '10.6.6.6', 'x-forwarded-for': '10.6.6.6' };

let stack: TestStack;
let app: DevServer;

beforeAll(async () => {
  stack = await startTestStack();
  app = await startDevServer('real-ip-app');
  await stack.waitForTunnel('online');
  const owner = await ownerSession(stack, OWNER_IP);
  const shared = await fetch(`${stack.dashboardUrl}/api/nodes/${stack.nodeId}/shares/${app.port}`, { method: 'PUT', headers: owner.writeHeaders, body: JSON.stringify({ mode: 'public' }) });
  expect(shared.status, await shared.clone().text()).toBe(200);
});

afterAll(async () => {
  await app?.stop();
  await stack?.stop();
});

const headersSeen = (text: string) => (JSON.parse(text) as { headers: Record<string, string> }).headers;

describe('attack: X-Real-IP from the visitor', () => {
  it('should give the app the edge’s word for the visitor through a share, not the visitor’s', async () => {
    const res = await request(stack, '/echo', { host: ownHost(stack, app.port), headers: { 'x-test-client-ip': VISITOR_IP, ...FORGED } });
    expect(res.status, res.text).toBe(200);
    const seen = headersSeen(res.text);
    expect(seen['x-real-ip']).toBe(VISITOR_IP);
    expect(seen['x-forwarded-for']).toBe(VISITOR_IP);
    expect(seen['true-client-ip']).toBeUndefined();
    expect(seen['x-client-ip']).toBeUndefined();
  });

  it('should give the app the socket’s address through the LAN door', async () => {
    const res = await request(stack, '/echo', { port: stack.lanPort, host: `${app.port}.localhost:${stack.lanPort}`, headers: { ...lanAuth(stack.dataDir), ...FORGED } });
    expect(res.status, res.text).toBe(200);
    const seen = headersSeen(res.text);
    expect(seen['x-real-ip']).toMatch(/^(127\.0\.0\.1|::ffff:127\.0\.0\.1|::1)$/);
    expect(seen['x-real-ip']).toBe(seen['x-forwarded-for']);
    expect(seen['true-client-ip']).toBeUndefined();
  });
});
