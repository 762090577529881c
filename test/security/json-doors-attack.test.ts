/**
 * End to end: junk JSON sent the way the hostile review sent it, as the owner (a real
 * session), through the local edge and the tunnel to homeportd's API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerSession, type Owner } from '../helpers/owner.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
let owner: Owner;

beforeAll(async () => {
  stack = await startTestStack();
  await stack.waitForTunnel('online');
  owner = await ownerSession(stack, '198.51.100.82');
});

afterAll(async () => {
  await stack?.stop();
});

/** A request as the owner to the dashboard host (`/api/nodes/<node>/api/…` goes on to the node). */
async function asOwner(method: string, path: string, body: string) {
  const res = await fetch(`${stack.dashboardUrl}${path.replace('<node>', stack.nodeId)}`, { method, headers: owner.writeHeaders, body });
  return { status: res.status, error: ((await res.json()) as { error?: string }).error };
}

describe('attack: junk JSON through the edge and the tunnel', () => {
  it.each([
    ['"toString" in node settings', 'PUT', '/api/nodes/<node>/api/settings', '{"toString": 1}', /^unknown field "toString"/],
    ['"__proto__" in node settings', 'PUT', '/api/nodes/<node>/api/settings', '{"__proto__": {"admin": true}}', /^unknown field "__proto__"/],
    ['[] as port settings', 'PATCH', '/api/nodes/<node>/api/ports/3000/settings', '[]', /^the body must be a JSON object$/],
    ['an unknown port setting', 'PATCH', '/api/nodes/<node>/api/ports/3000/settings', '{"keepPrefix": true, "x": 1}', /^unknown field "x"/],
    ["an unknown field in the node's share route", 'PUT', '/api/nodes/<node>/api/shares/3000', '{"mode": "public", "note": "hi"}', /^unknown field "note"/],
    ['JSON nested 5000 deep', 'PUT', '/api/nodes/<node>/api/settings', `{"agentModel": ${'['.repeat(5000)}${']'.repeat(5000)}}`, /nested more than 64 levels/],
    ['a node name with a bidi override', 'PATCH', '/api/nodes/<node>', '{"name": "evil\u202Egnp.exe"}', /^"name" must not contain control characters or bidirectional overrides$/],
  ])('should answer %s with 400 and what is wrong', async (_what, method, path, body, message) => {
    const res = await asOwner(method, path, body);
    expect(res.status).toBe(400);
    expect(res.error).toMatch(message);
  });

  it('should answer a share body with a 900 KB field with 413 at the edge', async () => {
    const res = await asOwner('PUT', '/api/nodes/<node>/shares/3000', JSON.stringify({ mode: 'public', padding: 'x'.repeat(900 * 1024) }));
    expect(res.status).toBe(413);
    const shares = await fetch(`${stack.dashboardUrl}/api/nodes/${stack.nodeId}/shares`, { headers: owner.writeHeaders });
    expect(((await shares.json()) as { shares: { port: number }[] }).shares.map((s) => s.port)).not.toContain(3000);
  });
});
