import { SELF } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { FrameType, encode, type Frame } from '@homeport/shared';
import { LOCAL, LOCAL_WRITE, fakeNodePerTest } from '../fake-node.ts';

vi.setConfig({ testTimeout: 15_000, hookTimeout: 15_000 });

const connect = fakeNodePerTest();
const SHARES = 'https://dash.test/api/nodes/home/shares';

const put = (port: number, body: string) => SELF.fetch(`${SHARES}/${port}`, { method: 'PUT', headers: LOCAL_WRITE, body });
const sharedPorts = async () => ((await (await SELF.fetch(SHARES, { headers: LOCAL })).json()) as { shares: { port: number }[] }).shares.map((s) => s.port);

describe('attack: junk in a share body', () => {
  it('should answer an extra 900 KB field with 413 and share nothing', async () => {
    const res = await put(4401, JSON.stringify({ mode: 'public', padding: 'x'.repeat(900 * 1024) }));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/larger than 4 KiB/);
    expect(await sharedPorts()).not.toContain(4401);
  });

  it.each([
    ['{"mode": "public", "note": "hi"}', /^unknown field "note"; it takes mode, password, expiresIn$/],
    ['[]', /^the body must be a JSON object$/],
    ['{"mode": "public", "password": {"$gt": ""}}', /^password must be a string$/],
    ['{"mode": "everyone"}', /^mode must be one of private, password, public$/],
  ])('should refuse %s with 400 before it reaches the hub', async (body, message) => {
    const res = await put(4402, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
    expect(await sharedPorts()).not.toContain(4402);
  });

  it('should refuse unknown fields in share.set from the node’s tunnel too', async () => {
    const node = await connect();
    node.send(encode.control({ t: 'rpc', id: 1, method: 'share.set', params: { port: 4403, mode: 'public', padding: 'x'.repeat(1000) } }));
    const frame = await node.next((f) => f.type === FrameType.Control && f.message.t === 'rpc-result' && f.message.id === 1);
    expect((frame as Frame & { type: FrameType.Control }).message).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/^unknown field "padding"/) });
    expect(await sharedPorts()).not.toContain(4403);
  });
});
