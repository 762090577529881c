import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jsonBody, jsonDepth } from './json-body.ts';

describe('jsonDepth', () => {
  it('should count nesting of objects and arrays, not brackets inside strings', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('{"a": [1, {"b": []}]}')).toBe(4);
    expect(jsonDepth('{"a": "[[[[{{{{"}')).toBe(1);
    expect(jsonDepth('["\\"[[[", "\\\\", [[]]]')).toBe(3);
  });

  it('should stop counting past the limit it is given', () => {
    expect(jsonDepth('['.repeat(100_000), 64)).toBe(65);
  });
});

describe('jsonBody', () => {
  const app = new Hono();
  app.onError((error, c) => c.json({ error: (error as HTTPException).message }, (error as HTTPException).status ?? 500));
  app.post('/', jsonBody(z.strictObject({ n: z.number() }), { maxBytes: 100 }), (c) => c.json({ got: c.req.valid('json').n }));
  const post = async (body: string, headers: Record<string, string> = {}) => {
    const res = await app.request('/', { method: 'POST', body, headers });
    return [res.status, await res.json()];
  };

  it('should hand the handler the checked body whatever the Content-Type says', async () => {
    expect(await post('{"n": 1}', { 'content-type': 'application/json' })).toEqual([200, { got: 1 }]);
    expect(await post('{"n": 2}', { 'content-type': 'text/plain' })).toEqual([200, { got: 2 }]);
    expect(await post('{"n": 3}')).toEqual([200, { got: 3 }]);
  });

  it('should refuse in one style: type, unknown field, missing field, bad JSON, size', async () => {
    expect(await post('{"n": "1"}')).toEqual([400, { error: 'n must be a number' }]);
    expect(await post('{"n": 1, "m": 2}')).toEqual([400, { error: 'unknown field "m"; it takes n' }]);
    expect(await post('{}')).toEqual([400, { error: 'n is required' }]);
    expect(await post('{"n": ')).toEqual([400, { error: 'Malformed JSON in request body' }]);
    expect(await post(JSON.stringify({ n: 1, pad: 'x'.repeat(200) }))).toEqual([413, { error: 'the body is larger than 100 bytes' }]);
  });
});
