import { SELF } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { LOCAL, LOCAL_WRITE, pairNode } from '../fake-node.ts';

vi.setConfig({ testTimeout: 15_000 });

const DASH = 'https://dash.test';

const HOSTILE_NAMES = [
  ['a NUL', 'home\u0000box'],
  ['a control character', 'home\u001b[31mbox'],
  ['a newline', 'home\nbox'],
  ['a C1 control', 'home\u0085box'],
  ['a right-to-left override', 'invoice\u202Egnp.exe'],
  ['a left-to-right embedding', 'home\u202Abox'],
  ['a first-strong isolate', 'home\u2068box\u2069'],
  ['a right-to-left mark', 'home\u200Fbox'],
  ['markup', '<img src=x onerror=alert(1)>'],
  ['a lone ">"', 'home > box'],
] as const;

async function newCode(): Promise<string> {
  const res = await SELF.fetch(`${DASH}/api/pairing-codes`, { method: 'POST', headers: LOCAL_WRITE });
  expect(res.status).toBe(201);
  return ((await res.json()) as { code: string }).code;
}

const pair = (code: string, name: string) => SELF.fetch(`${DASH}/api/pair`, { method: 'POST', headers: LOCAL_WRITE, body: JSON.stringify({ code, name }) });

describe('attack: hostile node names', () => {
  it.each(HOSTILE_NAMES)('should refuse a pairing name with %s (400), and leave the code usable', async (_what, name) => {
    const code = await newCode();
    const res = await pair(code, name);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^"name" must not contain/);
    expect((await pair(code, 'plain name')).status).toBe(201);
  });

  it.each(HOSTILE_NAMES)('should refuse a rename to a name with %s (400), keeping the old name', async (_what, name) => {
    const { id } = await pairNode('before');
    const res = await SELF.fetch(`${DASH}/api/nodes/${id}`, { method: 'PATCH', headers: LOCAL_WRITE, body: JSON.stringify({ name }) });
    expect(res.status).toBe(400);
    const node = ((await (await SELF.fetch(`${DASH}/api/nodes/${id}`, { headers: LOCAL })).json()) as { node: { name: string } }).node;
    expect(node.name).toBe('before');
  });

  it('should still take names in any script, trimmed', async () => {
    const { id } = await pairNode('  Küche — 台所 🏠  ');
    const node = ((await (await SELF.fetch(`${DASH}/api/nodes/${id}`, { headers: LOCAL })).json()) as { node: { name: string } }).node;
    expect(node.name).toBe('Küche — 台所 🏠');
  });

  it('should refuse unknown fields in pairing and rename bodies', async () => {
    const res = await SELF.fetch(`${DASH}/api/pair`, { method: 'POST', headers: LOCAL_WRITE, body: JSON.stringify({ code: await newCode(), name: 'x', ownerId: 'someone-else' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('unknown field "ownerId"; it takes code, name');
  });
});
