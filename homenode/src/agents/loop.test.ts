import Anthropic from '@anthropic-ai/sdk';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropic, text, toolUse, type FakeMessagesRequest } from '../../../test/fakes/anthropic.ts';
import { runAgent, type AgentEvent, type AgentLimits, type AgentTool, type RunOptions } from './loop.ts';
import { makeRedactor } from './redact.ts';

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await FakeAnthropic.start();
});
afterAll(() => fake.stop());
beforeEach(() => {
  fake.otherwise(null);
  fake.requests.length = 0;
});

const LIMITS: AgentLimits = { maxTurns: 20, maxTokens: 1_000_000, maxCostUsd: 10, wallClockMs: 60_000 };

function client(apiKey: string | null = fake.apiKey) {
  return new Anthropic({ apiKey, baseURL: fake.url });
}

/** runAgent with defaults, collecting the events it emits. */
async function run(options: Partial<RunOptions> & { onEvent?: (event: AgentEvent, events: AgentEvent[]) => void } = {}) {
  const events: AgentEvent[] = [];
  const { onEvent, ...rest } = options;
  const result = await runAgent({
    client: client(),
    model: 'claude-sonnet-5-5',
    history: [],
    prompt: 'Fix the failing test',
    tools: [],
    limits: LIMITS,
    signal: new AbortController().signal,
    emit: async (event) => {
      events.push(event);
      onEvent?.(event, events);
    },
    streamRetry: { attempts: 2, baseDelayMs: 20 },
    ...rest,
  });
  return { result, events, types: events.map((e) => e.type) };
}

function tool(name: string, run: AgentTool['run']): AgentTool {
  return { name, description: `the ${name} tool`, input_schema: { type: 'object', properties: { path: { type: 'string' } } }, run };
}

const messagesRequests = () => fake.requests.filter((r) => r.path === '/v1/messages');

describe('runAgent', () => {
  it('should stream a plain text turn with the real wire format and complete', async () => {
    fake.enqueue({ content: [text('All tests pass now.')], usage: { input_tokens: 120, output_tokens: 8 } });
    const { result, events, types } = await run({ system: 'You are careful.' });
    expect(result.outcome).toBe('completed');
    expect(result.reason).toBeNull();
    expect(types[0]).toBe('run.started');
    expect(events[1]).toEqual({ type: 'user.message', text: 'Fix the failing test' });
    expect(types.slice(-3)).toEqual(['assistant.text', 'usage', 'completed']);
    expect(events.find((e) => e.type === 'assistant.text')).toEqual({ type: 'assistant.text', text: 'All tests pass now.' });
    expect(events.at(-1)).toEqual({ type: 'completed', stopReason: 'end_turn' });
    expect(result.usage).toEqual({ inputTokens: 120, outputTokens: 8, costUsd: (120 * 2 + 8 * 10) / 1e6 });
    const [request] = messagesRequests();
    expect(request.stream).toBe(true);
    expect(request.headers['anthropic-version']).toBeTruthy();
    expect(request.body).toMatchObject({ model: 'claude-sonnet-5-5', system: 'You are careful.', messages: [{ role: 'user', content: 'Fix the failing test' }] });
    expect(request.body.tools).toBeUndefined();
    expect(result.messages).toEqual([
      { role: 'user', content: 'Fix the failing test' },
      { role: 'assistant', content: [{ type: 'text', text: 'All tests pass now.' }] },
    ]);
  });

  it('should run the tools the model asks for, in order, and send back tool_result blocks with their ids', async () => {
    const calls: string[] = [];
    let running = 0;
    const slow = (name: string) =>
      tool(name, async (input) => {
        running++;
        expect(running).toBe(1); // one at a time
        calls.push(`${name}:${(input as { path: string }).path}`);
        await sleep(30);
        running--;
        return { content: `${name} of ${(input as { path: string }).path}` };
      });
    let second: FakeMessagesRequest | undefined;
    fake.enqueue({ content: [text('Looking.'), toolUse('read_file', { path: 'a.ts' }), toolUse('list_files', { path: 'src' })] }, (request) => {
      second = request;
      return { content: [text(`Read: ${request.toolResults.map((r) => r.content).join(' / ')}`)] };
    });
    const { result, events } = await run({ tools: [slow('read_file'), slow('list_files')] });
    expect(result.outcome).toBe('completed');
    expect(calls).toEqual(['read_file:a.ts', 'list_files:src']);
    const ids = messagesRequests()[0].reply!.toolUseIds;
    expect(ids).toHaveLength(2);
    expect(second!.toolResults).toEqual([
      { tool_use_id: ids[0], content: 'read_file of a.ts', is_error: false },
      { tool_use_id: ids[1], content: 'list_files of src', is_error: false },
    ]);
    expect(messagesRequests()[0].body.tools.map((t: { name: string }) => t.name)).toEqual(['read_file', 'list_files']);
    const toolEvents = events.filter((e) => e.type === 'tool.call' || e.type === 'tool.result');
    expect(toolEvents.map((e) => `${e.type}:${'id' in e ? e.id : ''}`)).toEqual([`tool.call:${ids[0]}`, `tool.result:${ids[0]}`, `tool.call:${ids[1]}`, `tool.result:${ids[1]}`]);
    expect(toolEvents[0]).toEqual({ type: 'tool.call', id: ids[0], name: 'read_file', input: { path: 'a.ts' } });
    expect(toolEvents[1]).toMatchObject({ type: 'tool.result', name: 'read_file', content: 'read_file of a.ts', isError: false });
    expect((toolEvents[1] as { ms: number }).ms).toBeGreaterThanOrEqual(25);
    expect(events.filter((e) => e.type === 'usage')).toHaveLength(2);
    expect(result.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(events.at(-2)).toMatchObject({ type: 'usage', totalInputTokens: result.usage.inputTokens, totalOutputTokens: result.usage.outputTokens });
  });

  it('should emit text deltas in order while the stream arrives', async () => {
    const words = 'one two three four five six seven eight';
    fake.enqueue({ content: [text(words)], chunkDelayMs: 25 });
    const times: number[] = [];
    const { events } = await run({ onEvent: (e) => e.type === 'assistant.delta' && times.push(Date.now()) });
    const deltas = events.filter((e) => e.type === 'assistant.delta').map((e) => (e as { text: string }).text);
    expect(deltas.length).toBeGreaterThanOrEqual(8);
    expect(deltas.join('')).toBe(words);
    // Streamed, not buffered: the first piece came well before the last.
    expect(times.at(-1)! - times[0]).toBeGreaterThanOrEqual(100);
    expect(events.findIndex((e) => e.type === 'assistant.text')).toBeGreaterThan(events.findLastIndex((e) => e.type === 'assistant.delta'));
  });

  it('should keep thinking blocks with their signature in the conversation it sends back', async () => {
    fake.enqueue({ content: [{ type: 'thinking', thinking: 'Read it first.', signature: 'sig_abc' }, toolUse('read_file', { path: 'x' })] }, { content: [text('Done.')] });
    const { result } = await run({ tools: [tool('read_file', async () => ({ content: 'x' }))] });
    expect(result.outcome).toBe('completed');
    expect(messagesRequests()[1].body.messages[1].content[0]).toEqual({ type: 'thinking', thinking: 'Read it first.', signature: 'sig_abc' });
  });

  describe('limits', () => {
    const runaway = () => fake.otherwise({ content: [text('Again.'), toolUse('bash', { path: 'make' })], usage: { input_tokens: 100_000, output_tokens: 10_000 } });
    const bash = tool('bash', async () => ({ content: 'still failing' }));

    it('should stop a runaway loop at the turn limit', async () => {
      runaway();
      const { result, events } = await run({ tools: [bash], limits: { ...LIMITS, maxTurns: 3 } });
      expect(result).toMatchObject({ outcome: 'limit', reason: 'turn limit of 3 reached' });
      expect(messagesRequests()).toHaveLength(3);
      expect(events.at(-1)).toEqual({ type: 'status', status: 'limit', detail: 'turn limit of 3 reached' });
      // The work so far is kept: every tool call has its result.
      expect(result.messages.at(-1)).toMatchObject({ role: 'user', content: [{ type: 'tool_result', content: 'still failing' }] });
    });

    it('should stop at the token budget', async () => {
      runaway();
      const { result } = await run({ tools: [bash], limits: { ...LIMITS, maxTokens: 300_000 } });
      expect(result).toMatchObject({ outcome: 'limit', reason: 'token budget of 300000 tokens reached (330000 used)' });
      expect(messagesRequests()).toHaveLength(3);
      expect(result.usage).toMatchObject({ inputTokens: 300_000, outputTokens: 30_000 });
    });

    it('should stop at the cost budget, priced by the model', async () => {
      runaway();
      // claude-sonnet-5-5: $2 in / $10 out per MTok, so $0.30 a call.
      const { result } = await run({ tools: [bash], limits: { ...LIMITS, maxCostUsd: 0.5 } });
      expect(result).toMatchObject({ outcome: 'limit', reason: 'cost budget of $0.50 reached ($0.60 spent)' });
      expect(messagesRequests()).toHaveLength(2);
      expect(result.usage.costUsd).toBeCloseTo(0.6, 10);
    });

    it('should stop at the wall clock, aborting the tool in flight', async () => {
      runaway();
      let toolAborted = false;
      const slowBash = tool('bash', (_input, { signal }) => new Promise((resolve) => signal.addEventListener('abort', () => ((toolAborted = true), resolve({ content: 'killed' })))));
      const { result, events } = await run({ tools: [slowBash], limits: { ...LIMITS, wallClockMs: 300 } });
      expect(result).toMatchObject({ outcome: 'limit', reason: 'wall-clock limit of 300 ms reached' });
      expect(toolAborted).toBe(true);
      expect(messagesRequests()).toHaveLength(1);
      expect(events.filter((e) => e.type === 'tool.result')).toHaveLength(1);
      expect(result.messages.at(-1)).toMatchObject({ role: 'user', content: [{ type: 'tool_result', content: 'killed' }] });
    });

    it('should stop at the wall clock while the model request hangs', async () => {
      fake.enqueue(() => new Promise(() => {}));
      const started = Date.now();
      const { result } = await run({ limits: { ...LIMITS, wallClockMs: 300 } });
      expect(result).toMatchObject({ outcome: 'limit', reason: 'wall-clock limit of 300 ms reached' });
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });

  describe('cancel', () => {
    it('should end with cancelled when cancelled mid-stream', async () => {
      fake.enqueue({ content: [text('a b c d e f g h i j k l m n o p q r s t u v w x y z')], chunkDelayMs: 200 });
      const cancel = new AbortController();
      const started = Date.now();
      const { result, events, types } = await run({ signal: cancel.signal, onEvent: (e) => e.type === 'assistant.delta' && cancel.abort('cancelled by the owner') });
      expect(result).toMatchObject({ outcome: 'cancelled', reason: 'cancelled by the owner' });
      expect(events.at(-1)).toEqual({ type: 'cancelled', reason: 'cancelled by the owner' });
      expect(types).not.toContain('assistant.text');
      // The whole stream would take ~6 s.
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(result.messages).toEqual([{ role: 'user', content: 'Fix the failing test' }]);
    });

    it('should pass the cancel to the running tool and end with cancelled', async () => {
      fake.enqueue({ content: [toolUse('bash', { path: 'sleep 60' }), toolUse('bash', { path: 'never' })] });
      const cancel = new AbortController();
      let toolSignal: AbortSignal | undefined;
      const bash = tool('bash', (_input, { signal }) => {
        toolSignal = signal;
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('killed'))));
      });
      const { result, events } = await run({ tools: [bash], signal: cancel.signal, onEvent: (e) => e.type === 'tool.call' && setTimeout(() => cancel.abort(), 20) });
      expect(result.outcome).toBe('cancelled');
      expect(result.reason).toBe('cancelled');
      expect(toolSignal?.aborted).toBe(true);
      expect(events.filter((e) => e.type === 'tool.call')).toHaveLength(1);
      expect(events.at(-2)).toMatchObject({ type: 'tool.result', isError: true, content: 'stopped: the run was cancelled while the tool ran' });
      expect(events.at(-1)).toEqual({ type: 'cancelled', reason: 'cancelled' });
      const ids = messagesRequests()[0].reply!.toolUseIds;
      expect(result.messages.at(-1)).toEqual({
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: ids[0], content: 'stopped: the run was cancelled while the tool ran', is_error: true },
          { type: 'tool_result', tool_use_id: ids[1], content: 'not run: the run stopped first', is_error: true },
        ],
      });
    });

    it('should not hang on a tool that ignores the cancel', async () => {
      fake.enqueue({ content: [toolUse('bash', { path: 'stuck' })] });
      const cancel = new AbortController();
      const stuck = tool('bash', () => new Promise(() => {}));
      const started = Date.now();
      const { result, events } = await run({ tools: [stuck], signal: cancel.signal, onEvent: (e) => e.type === 'tool.call' && setTimeout(() => cancel.abort(), 20) });
      expect(result.outcome).toBe('cancelled');
      expect(events.at(-1)?.type).toBe('cancelled');
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });

  describe('API errors', () => {
    it('should wait out a 429 as retry-after-ms says, then go on', async () => {
      fake.enqueue({ error: 'http', status: 429, retryAfterMs: 400 }, { content: [text('ok')] });
      const { result, types } = await run();
      expect(result.outcome).toBe('completed');
      const [first, second] = messagesRequests();
      expect(second.at - first.at).toBeGreaterThanOrEqual(380);
      expect(second.at - first.at).toBeLessThan(3_000);
      expect(types).not.toContain('error');
    });

    it('should retry a 529 and go on', async () => {
      fake.enqueue({ error: 'http', status: 529, retryAfterMs: 50 }, { error: 'http', status: 529 }, { content: [text('ok')] });
      const { result } = await run();
      expect(result.outcome).toBe('completed');
      expect(messagesRequests().map((r) => r.reply?.status)).toEqual([529, 529, 200]);
    });

    it('should retry a turn whose stream carries an error event, telling why', async () => {
      fake.enqueue({ error: 'stream', type: 'overloaded_error', after: [text('I will ')] }, { content: [text('Fixed.')] });
      const { result, events } = await run();
      expect(result.outcome).toBe('completed');
      expect(messagesRequests()).toHaveLength(2);
      const retrying = events.find((e) => e.type === 'status');
      expect(retrying).toEqual({ type: 'status', status: 'retrying', detail: 'the model stream failed (overloaded_error: Overloaded); retrying in 20 ms (retry 1 of 2)' });
      expect(events.filter((e) => e.type === 'assistant.text').at(-1)).toEqual({ type: 'assistant.text', text: 'Fixed.' });
      expect(result.messages.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Fixed.' }] });
    });

    it('should fail with error once the stream retries are used up', async () => {
      fake.otherwise({ error: 'stream', type: 'overloaded_error' });
      const { result, events } = await run();
      expect(result).toMatchObject({ outcome: 'error', reason: 'the model stream failed (overloaded_error: Overloaded)' });
      expect(messagesRequests()).toHaveLength(3);
      expect(events.filter((e) => e.type === 'status' && e.status === 'retrying')).toHaveLength(2);
      expect(events.at(-1)).toEqual({ type: 'error', message: 'the model stream failed (overloaded_error: Overloaded)' });
    });

    it('should end at once with a clear error for a rejected key, never showing it', async () => {
      const badKey = 'sk-ant-api03-WRONGkeyWRONGkeyWRONGkey0123456789';
      const { result, events } = await run({ client: client(badKey), redact: makeRedactor([badKey]) });
      expect(result).toMatchObject({ outcome: 'error', reason: 'the Anthropic API key was rejected (401): set it with `homeport anthropic-key`' });
      expect(messagesRequests()).toHaveLength(1);
      expect(messagesRequests()[0].reply?.status).toBe(401);
      expect(events.at(-1)).toEqual({ type: 'error', message: result.reason });
      expect(JSON.stringify({ events, result })).not.toContain('WRONGkey');
    });

    it('should end at once with a clear error when no key is set', async () => {
      const { result, events } = await run({ client: client(null) });
      expect(result).toMatchObject({ outcome: 'error', reason: 'no Anthropic API key is set: set it with `homeport anthropic-key`' });
      expect(messagesRequests()).toHaveLength(0);
      expect(events.at(-1)?.type).toBe('error');
    });

    it('should end with the API message for a request it refuses', async () => {
      fake.enqueue({ error: 'http', status: 400, message: 'max_tokens: 999999 > 128000, which is the maximum allowed number of output tokens for claude-sonnet-5-5' });
      const { result } = await run();
      expect(result).toMatchObject({ outcome: 'error', reason: 'the Anthropic API refused the request (400 invalid_request_error: max_tokens: 999999 > 128000, which is the maximum allowed number of output tokens for claude-sonnet-5-5)' });
      expect(messagesRequests()).toHaveLength(1);
    });
  });

  describe('tools', () => {
    it('should turn a tool that throws into an error result and go on', async () => {
      fake.enqueue({ content: [toolUse('write_file', { path: '/etc/passwd' })] }, (request) => ({ content: [text(request.toolResults[0].is_error ? 'It failed.' : 'It worked.')] }));
      const broken = tool('write_file', async () => {
        throw new Error('EACCES: permission denied');
      });
      const { result, events } = await run({ tools: [broken] });
      expect(result.outcome).toBe('completed');
      expect(events.find((e) => e.type === 'tool.result')).toMatchObject({ isError: true, content: 'the tool failed: EACCES: permission denied' });
      expect(messagesRequests()[1].toolResults[0]).toMatchObject({ is_error: true, content: 'the tool failed: EACCES: permission denied' });
      expect(events.find((e) => e.type === 'assistant.text')).toEqual({ type: 'assistant.text', text: 'It failed.' });
    });

    it('should answer a call to an unknown tool with an error result', async () => {
      fake.enqueue({ content: [toolUse('rm_rf', { path: '/' })] }, { content: [text('Sorry.')] });
      const { result } = await run({ tools: [tool('read_file', async () => ({ content: '' }))] });
      expect(result.outcome).toBe('completed');
      expect(messagesRequests()[1].toolResults[0]).toMatchObject({ is_error: true, content: 'unknown tool rm_rf; the tools are: read_file' });
    });

    it('should redact secrets in tool output from events and from what the model gets', async () => {
      const secret = 'sk-ant-api03-REALsecretREALsecretREALsecret-0123456789';
      const githubToken = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
      const basic = Buffer.from(`x-access-token:${secret}`).toString('base64');
      fake.enqueue({ content: [toolUse('bash', { path: 'env' })] }, { content: [text('Found nothing.')] });
      const env = tool('bash', async () => ({ content: `ANTHROPIC_API_KEY=${secret}\nGH=${githubToken}\nAuthorization: Basic ${basic}\nPATH=/usr/bin` }));
      const { result, events } = await run({ tools: [env], redact: makeRedactor([secret]), prompt: `use ${secret} if needed` });
      expect(result.outcome).toBe('completed');
      const everything = JSON.stringify(events);
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(githubToken);
      expect(everything).not.toContain(basic.slice(20, 40));
      expect(everything).toContain('PATH=/usr/bin');
      expect(events[1]).toEqual({ type: 'user.message', text: 'use [redacted] if needed' });
      const second = JSON.stringify(messagesRequests()[1].body.messages.slice(1));
      expect(second).not.toContain(secret);
      expect(second).not.toContain(githubToken);
      expect(messagesRequests()[1].toolResults[0].content).toMatch(/^ANTHROPIC_API_KEY=\[redacted\]\nGH=\[redacted\]\n/);
    });
  });

  describe('follow-ups', () => {
    it('should continue the same conversation with the history of the last run', async () => {
      fake.enqueue({ content: [toolUse('read_file', { path: 'a' })] }, { content: [text('First done.')] });
      const readFile = tool('read_file', async () => ({ content: 'contents of a' }));
      const first = await run({ tools: [readFile] });
      expect(first.result.outcome).toBe('completed');
      fake.enqueue({ content: [text('Second done.')] });
      const second = await run({ tools: [readFile], history: first.result.messages, prompt: 'Now add a test' });
      expect(second.result.outcome).toBe('completed');
      const request = messagesRequests()[2];
      expect(request.body.messages).toEqual([...first.result.messages, { role: 'user', content: 'Now add a test' }]);
      expect(second.result.messages).toEqual([...first.result.messages, { role: 'user', content: 'Now add a test' }, { role: 'assistant', content: [{ type: 'text', text: 'Second done.' }] }]);
      expect(second.events[1]).toEqual({ type: 'user.message', text: 'Now add a test' });
    });

    it('should follow up a run stopped by a limit after tool results, in one valid user message', async () => {
      fake.enqueue({ content: [toolUse('read_file', { path: 'a' })] });
      const readFile = tool('read_file', async () => ({ content: 'contents of a' }));
      const first = await run({ tools: [readFile], limits: { ...LIMITS, maxTurns: 1 } });
      expect(first.result.outcome).toBe('limit');
      fake.enqueue({ content: [text('Carrying on.')] });
      const second = await run({ tools: [readFile], history: first.result.messages, prompt: 'Go on' });
      // The fake checks tool_use/tool_result pairing like the API does; a 400 would end in 'error'.
      expect(second.result.outcome).toBe('completed');
      const last = messagesRequests()[1].body.messages.at(-1);
      expect(last.role).toBe('user');
      expect(last.content.map((b: { type: string }) => b.type)).toEqual(['tool_result', 'text']);
      expect(last.content[1]).toEqual({ type: 'text', text: 'Go on' });
    });
  });

  it('should end with error when an event cannot be stored, and emit nothing more', async () => {
    fake.enqueue({ content: [text('Hello there.')] });
    let count = 0;
    const result = await runAgent({
      client: client(),
      model: 'claude-sonnet-5-5',
      history: [],
      prompt: 'hi',
      tools: [],
      limits: LIMITS,
      signal: new AbortController().signal,
      emit: async () => {
        if (++count === 3) throw new Error('SQLITE_FULL: database or disk is full');
      },
    });
    expect(result).toMatchObject({ outcome: 'error', reason: 'could not record an event: SQLITE_FULL: database or disk is full' });
    expect(count).toBe(3);
  });
});
