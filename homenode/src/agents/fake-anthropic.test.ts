// The fake Anthropic server under test/ is what every agent test trusts: its wire format is checked here with plain HTTP.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAnthropic, text, toolUse } from '../../../test/fakes/anthropic.ts';

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await FakeAnthropic.start();
});
afterAll(() => fake.stop());

function post(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${fake.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': fake.apiKey, 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify(body),
  });
}

const hello = { model: 'claude-sonnet-5-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };

/** The SSE events of a response body, as {event, data}. */
function sse(body: string) {
  return body
    .trim()
    .split('\n\n')
    .map((chunk) => {
      const lines = chunk.split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^event: \w+$/);
      expect(lines[1]).toMatch(/^data: \{/);
      return { event: lines[0].slice(7), data: JSON.parse(lines[1].slice(6)) };
    });
}

describe('FakeAnthropic', () => {
  it('should stream text and tool_use blocks as event:/data: lines in the API order', async () => {
    fake.enqueue({ content: [text('Let me check.'), toolUse('read_file', { path: 'src/app.ts', lines: [1, 20] }, 'toolu_01abc')], usage: { input_tokens: 42, output_tokens: 17 } });
    const res = await post({ ...hello, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sse(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      'message_start', 'ping',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'message_delta', 'message_stop',
    ]);
    for (const e of events) expect(e.data.type).toBe(e.event);
    expect(events[0].data.message).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sonnet-5-5', content: [], stop_reason: null, usage: { input_tokens: 42 } });
    expect(events.slice(3, 6).map((e) => e.data.delta.text).join('')).toBe('Let me check.');
    expect(events[7].data).toEqual({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_01abc', name: 'read_file', input: {} } });
    const json = events.slice(8, 12).map((e) => e.data.delta.partial_json);
    expect(json[0]).toBe('');
    expect(JSON.parse(json.join(''))).toEqual({ path: 'src/app.ts', lines: [1, 20] });
    expect(events[13].data).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 17 } });
  });

  it('should answer without stream as one JSON message', async () => {
    fake.enqueue({ content: [text('Hi.')], usage: { input_tokens: 3, output_tokens: 2 } });
    const res = await post(hello);
    expect(await res.json()).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Hi.' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 2 } });
  });

  it('should refuse a wrong or missing key with the real 401 body, and accept the SDK bearer form', async () => {
    const wrong = await post(hello, { 'x-api-key': 'sk-ant-nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' }, request_id: expect.stringMatching(/^req_/) });
    const missing = await fetch(`${fake.url}/v1/messages`, { method: 'POST', headers: { 'anthropic-version': '2023-06-01' }, body: JSON.stringify(hello) });
    expect(missing.status).toBe(401);
    fake.enqueue({ content: [text('ok')] });
    const reply = await new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url }).messages.create(hello as Anthropic.MessageCreateParamsNonStreaming);
    expect(reply.content).toEqual([{ type: 'text', text: 'ok', citations: null }]);
    expect(fake.requests.at(-1)!.headers['anthropic-version']).toBeTruthy();
  });

  it('should check the version header and the body like the API', async () => {
    const noVersion = await post(hello, { 'anthropic-version': '' });
    expect(noVersion.status).toBe(400);
    expect((await noVersion.json()).error.message).toBe('anthropic-version: header is required');
    const noModel = await post({ ...hello, model: undefined });
    expect((await noModel.json()).error).toEqual({ type: 'invalid_request_error', message: 'model: Field required' });
    const unanswered = await post({ ...hello, messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'x', input: {} }] }, { role: 'user', content: 'go on' }] });
    expect(unanswered.status).toBe(400);
    expect((await unanswered.json()).error.message).toMatch(/^messages\.2: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1\./);
    const stray = await post({ ...hello, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: 'x' }] }] });
    expect((await stray.json()).error.message).toMatch(/^messages\.0\.content\.0: unexpected `tool_use_id`/);
  });

  it('should send 429 and 529 with retry-after-ms and the real error JSON', async () => {
    fake.enqueue({ error: 'http', status: 429, retryAfterMs: 1500 }, { error: 'http', status: 529 });
    const limited = await post(hello);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after-ms')).toBe('1500');
    expect(limited.headers.get('retry-after')).toBe('2');
    expect((await limited.json()).error.type).toBe('rate_limit_error');
    const overloaded = await post(hello);
    expect(overloaded.status).toBe(529);
    expect(await overloaded.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });

  it('should put an error event in the middle of a stream', async () => {
    fake.enqueue({ error: 'stream', after: [text('Half')] });
    const events = sse(await (await post({ ...hello, stream: true })).text());
    expect(events.map((e) => e.event)).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_stop', 'error']);
    expect(events.at(-1)!.data).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });

  it('should hand each turn function the request, record it, and fall back to otherwise', async () => {
    fake.enqueue((request) => ({ content: [text(`you said ${request.body.messages[0].content}`)] }));
    fake.otherwise({ content: [text('again')] });
    expect((await (await post(hello)).json()).content[0].text).toBe('you said hi');
    expect((await (await post(hello)).json()).content[0].text).toBe('again');
    expect(fake.pending).toBe(0);
    fake.otherwise(null);
    const none = await post(hello);
    expect(none.status).toBe(500);
    expect((await none.json()).error.message).toMatch(/^FakeAnthropic: no scripted turn left/);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/messages', stream: false, reply: { status: 500 } });
  });
});
