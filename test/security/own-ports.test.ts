/**
 * Homeport's own listeners are never proxied, end to end: with a scan range wide enough
 * to hold them, the LAN door, the node API and the local edge cannot be reached through
 * a share (by the owner, with a real credential) or through the LAN door, are not
 * listed as dev servers and cannot be shared. Before, the LAN door behind a share
 * trusted homeportd's own loopback connection and opened every private port.
 */
import { ownHost } from '../helpers/own-origin.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanAuth } from '../helpers/lan.ts';
import { OWNER_IP, ownerToken } from '../helpers/owner.ts';
import { request, startDevServer, startTestStack, waitFor, type DevServer, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
let dev: DevServer;
let token: string;
let own: { name: string; port: number }[];

beforeAll(async () => {
  stack = await startTestStack({ nodeEnv: { HOMEPORT_SCAN_RANGE: '1024-65535' } });
  dev = await startDevServer('private-app');
  await stack.waitForTunnel('online');
  token = await ownerToken(stack);
  const apiPort = Number(stack.nodeEnv.HOMEPORT_API_PORT);
  own = [
    { name: 'the LAN door', port: stack.lanPort },
    { name: "the node API's port", port: apiPort },
    { name: "the local edge's port", port: stack.edgePort },
  ];
  await waitFor('the dev server in a scan', async () => stack.cli('list', '--json').stdout.includes(`"port": ${dev.port}`));
});

afterAll(async () => {
  await dev?.stop();
  await stack?.stop();
});

describe("Homeport's own ports", () => {
  it('should refuse to proxy them through the tunnel, even for the owner', async () => {
    const owner = { authorization: `Bearer ${token}`, 'x-test-client-ip': OWNER_IP, connection: 'close' };
    // the owner's credential works on a dev port…
    expect((await request(stack, '/echo', { host: ownHost(stack, dev.port), headers: owner })).status).toBe(200);
    for (const { name, port } of own) {
      // …but the LAN door behind a share must not hand out the private dev port,
      // nor the API or the edge their own answers.
      for (const path of [`/${dev.port}/echo`, '/api/ports', '/api/auth/me']) {
        const res = await request(stack, path, { host: ownHost(stack, port), headers: owner });
        expect([res.status, name, path]).toEqual([403, name, path]);
        expect(res.text).toContain("Homeport&#39;s own port");
        expect(res.text).toContain(name.replace(/'/g, '&#39;'));
      }
    }
  });

  it('should refuse to proxy them through the LAN door', async () => {
    for (const { name, port } of own) {
      const res = await request(stack, '/api/ports', { port: stack.lanPort, host: `${port}.localhost:${stack.lanPort}`, headers: lanAuth(stack.dataDir) });
      expect([res.status, name]).toEqual([403, name]);
      expect(res.text).toContain("Homeport&#39;s own port");
    }
  });

  it('should neither list nor share them', () => {
    const listed = JSON.parse(stack.cli('list', '--json').stdout) as { port: number }[];
    expect(listed.map((p) => p.port)).toContain(dev.port);
    for (const { name, port } of own) {
      expect(listed.map((p) => p.port), name).not.toContain(port);
      const shared = stack.cli('share', String(port), '--public');
      expect([shared.code, name]).toEqual([1, name]);
      expect(shared.stderr).toContain("Homeport's own listeners");
    }
  });
});
