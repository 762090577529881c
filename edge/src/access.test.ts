import { SELF, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { clientIpOf, isLocalOwner, secretsEqual } from './access.ts';
import { configOf, type Env } from './env.ts';
import { homeNodeToken } from './fake-node.ts';

const config = configOf(env as unknown as Env);
const from = (ip?: string) => new Request('https://dash.test/api/nodes', { headers: ip === undefined ? {} : { 'cf-connecting-ip': ip } });

describe('isLocalOwner', () => {
  it('should accept loopback addresses in local mode', () => {
    expect(config.localMode).toBe(true);
    for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLocalOwner(from(ip), config), ip).toBe(true);
  });

  it('should refuse every other address, and a missing one', () => {
    for (const ip of [undefined, '', '10.0.0.1', '192.168.1.5', '203.0.113.9', '::2', '::ffff:10.0.0.1', '127.0.0.1.evil', 'x127.0.0.1', '1127.0.0.1'])
      expect(isLocalOwner(from(ip), config), String(ip)).toBe(false);
  });

  it('should refuse even loopback when local mode is off', () => {
    expect(isLocalOwner(from('127.0.0.1'), { ...config, localMode: false })).toBe(false);
  });

  it('should read the client address from cf-connecting-ip only', () => {
    expect(clientIpOf(from('203.0.113.9'))).toBe('203.0.113.9');
    expect(clientIpOf(new Request('https://dash.test/', { headers: { 'x-forwarded-for': '127.0.0.1' } }))).toBe('');
  });
});

describe('x-test-client-ip', () => {
  const test = (ip: string) => new Request('https://share.test/3000/', { headers: { 'cf-connecting-ip': '127.0.0.1', 'x-test-client-ip': ip } });

  it('should be ignored unless the edge runs with TRUST_TEST_CLIENT_IP=1', () => {
    expect(config.trustTestClientIp).toBe(false);
    expect(clientIpOf(test('203.0.113.9'), config)).toBe('127.0.0.1');
    expect(isLocalOwner(test('203.0.113.9'), config)).toBe(true);
  });

  it('should stand in for the client address in test stacks', () => {
    const trusting = { ...config, trustTestClientIp: true };
    expect(clientIpOf(test('203.0.113.9'), trusting)).toBe('203.0.113.9');
    expect(isLocalOwner(test('203.0.113.9'), trusting)).toBe(false);
    expect(isLocalOwner(new Request('https://share.test/', { headers: { 'cf-connecting-ip': '127.0.0.1' } }), trusting)).toBe(true);
  });

  it('should not make a visitor the owner on a real share request', async () => {
    const res = await SELF.fetch('https://3000-home.share.test/', { headers: { 'cf-connecting-ip': '203.0.113.9', 'x-test-client-ip': '127.0.0.1' } });
    expect(res.status).toBe(403);
  });
});

describe('secretsEqual', () => {
  it('should compare secrets of any length', async () => {
    expect(await secretsEqual('test-node-token', 'test-node-token')).toBe(true);
    expect(await secretsEqual('test-node-token', 'test-node-tokeN')).toBe(false);
    expect(await secretsEqual('short', 'a much longer secret')).toBe(false);
    expect(await secretsEqual('', 'x')).toBe(false);
  });
});

describe('ownerOnly on the API', () => {
  it('should let the loopback owner use the API', async () => {
    await homeNodeToken();
    for (const ip of ['127.0.0.1', '::1']) {
      const res = await SELF.fetch('https://dash.test/api/nodes', { headers: { 'cf-connecting-ip': ip } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { nodes: { id: string }[] };
      expect(body.nodes.map((n) => n.id)).toEqual(['home']);
    }
  });

  it('should answer 401 JSON to anyone else', async () => {
    for (const headers of [{ 'cf-connecting-ip': '203.0.113.9' }, {}, { 'x-forwarded-for': '127.0.0.1' }] as Record<string, string>[]) {
      const res = await SELF.fetch('https://dash.test/api/nodes', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(((await res.json()) as { error: string }).error).toContain('Sign-in required');
    }
    const ports = await SELF.fetch('https://dash.test/api/nodes/home/ports', { headers: { 'cf-connecting-ip': '10.1.1.1' } });
    expect(ports.status).toBe(401);
    const forwarded = await SELF.fetch('https://dash.test/api/nodes/home/api/status', { headers: { 'cf-connecting-ip': '10.1.1.1' } });
    expect(forwarded.status).toBe(401);
  });
});

describe('share access', () => {
  it('should answer 403 on a share to a visitor who is not the owner', async () => {
    for (const headers of [{ 'cf-connecting-ip': '203.0.113.9' }, {}] as Record<string, string>[]) {
      const res = await SELF.fetch('https://3000-home.share.test/', { headers });
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('This port is private');
      // The path form serves public shares only.
      const path = await SELF.fetch('https://share.test/3000/', { headers });
      expect(path.status).toBe(403);
    }
  });

  it('should let the loopback owner through to the node (offline here)', async () => {
    const res = await SELF.fetch('https://3000-home.share.test/', { headers: { 'cf-connecting-ip': '127.0.0.1' } });
    expect(res.status).toBe(503);
  });
});
