/**
 * @module
 * The agent loop: streams a Messages API conversation with tools, runs the tools the
 * model asks for (in order, one at a time), sends their results back and goes on until
 * the model ends its turn without tool use — or a limit, a cancel or an error ends it.
 *
 * - Every event goes through `emit`, awaited, so the caller stores it before the loop
 *   goes on; every text in an event is redacted first. Tool output is redacted before
 *   the model sees it too, so a secret printed by a tool never leaves in the
 *   conversation either.
 * - Limits (turns, tokens, cost, wall clock) are checked before every model call; the
 *   wall clock also aborts a model request or a tool in flight. A limit ends the run
 *   with a `status: limit` event and outcome 'limit'.
 * - Cancel (`signal`) aborts the request or passes the abort to the running tool, and
 *   always ends with a `cancelled` event, whatever the tool does.
 * - HTTP 408/409/429/5xx/529 and connection failures are retried by the SDK itself
 *   (MODEL_HTTP_RETRIES times, honouring `retry-after-ms`/`retry-after`, else 0.5 s
 *   doubling to 8 s); an `error` event inside a stream (overloaded_error, api_error), a
 *   stream cut short or one silent for STREAM_IDLE_MS is retried here with backoff and
 *   a `status: retrying` event. A missing or rejected key ends the run at once.
 */
import Anthropic from '@anthropic-ai/sdk';
import { setTimeout as sleep } from 'node:timers/promises';
import { callCostUsd } from './pricing.ts';
import { redactDeep } from './redact.ts';

export interface AgentTool {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  run(input: unknown, ctx: { signal: AbortSignal }): Promise<{ content: string; isError?: boolean }>;
}

export interface AgentLimits {
  maxTurns: number;
  /** input + output tokens over the whole run */
  maxTokens: number;
  maxCostUsd: number;
  wallClockMs: number;
}

export type AgentEvent =
  | { type: 'run.started'; model: string; limits: AgentLimits }
  | { type: 'user.message'; text: string }
  | { type: 'assistant.delta'; text: string }
  | { type: 'assistant.text'; text: string }
  | { type: 'tool.call'; id: string; name: string; input: unknown }
  | { type: 'tool.result'; id: string; name: string; content: string; isError: boolean; ms: number }
  | { type: 'usage'; inputTokens: number; outputTokens: number; costUsd: number; totalInputTokens: number; totalOutputTokens: number; totalCostUsd: number }
  | { type: 'status'; status: string; detail?: string }
  | { type: 'completed'; stopReason: string }
  | { type: 'error'; message: string }
  | { type: 'cancelled'; reason: string };

export interface RunOptions {
  client: Anthropic;
  model: string;
  system?: string;
  /** earlier turns, for follow-ups (a previous RunResult.messages) */
  history: Anthropic.MessageParam[];
  prompt: string;
  tools: AgentTool[];
  limits: AgentLimits;
  signal: AbortSignal;
  /** awaited: the caller stores each event before the loop goes on */
  emit(event: AgentEvent): Promise<void>;
  redact?(text: string): string;
  /** max_tokens of each model call (default DEFAULT_MAX_OUTPUT_TOKENS) */
  maxOutputTokens?: number;
  /** retries of a turn whose stream failed midway (default STREAM_RETRIES after 1 s, 2 s, 4 s) */
  streamRetry?: { attempts: number; baseDelayMs: number };
}

export interface RunResult {
  outcome: 'completed' | 'limit' | 'cancelled' | 'error';
  reason: string | null;
  /** history + this run, for the next follow-up */
  messages: Anthropic.MessageParam[];
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
}

export const DEFAULT_MAX_OUTPUT_TOKENS = 16_384;
/** HTTP-level retries the SDK makes per model call. */
export const MODEL_HTTP_RETRIES = 4;
export const STREAM_RETRIES = 3;
/** A stream with no event for this long is given up and retried (the API pings meanwhile). */
export const STREAM_IDLE_MS = 120_000;
/** How long a tool gets to return after its abort before the loop moves on without it. */
export const TOOL_ABORT_GRACE_MS = 1_000;

const KEY_HINT = 'set it with `homeport anthropic-key`';

/** Ends the run; thrown from anywhere inside it. */
class StopRun extends Error {
  constructor(
    readonly outcome: Exclude<RunResult['outcome'], 'completed'>,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** A failed model call; `retryable` ones are tried again by the loop. */
class ModelFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

interface TurnBlock {
  block: Record<string, any>;
  json: string;
  /** text not yet emitted as a delta (held back to a word boundary, so redaction sees whole tokens) */
  pending: string;
}

interface Turn {
  content: Anthropic.ContentBlockParam[];
  toolUses: { id: string; name: string; input: unknown; inputError: string | null }[];
  stopReason: string;
  usage: { input_tokens: number; output_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number };
}

export function formatUsd(amount: number): string {
  if (amount >= 1 || amount === 0) return `$${amount.toFixed(2)}`;
  // Small amounts keep up to four decimals (and at least two): $0.50, $0.0123.
  return `$${amount.toFixed(4).replace(/(\.\d\d[1-9]*)0+$/, '$1')}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  return m % 60 ? `${Math.floor(m / 60)}h ${m % 60}m` : `${Math.floor(m / 60)}h`;
}

/** The conversation with the new prompt appended, as one valid user message. */
function withPrompt(history: Anthropic.MessageParam[], prompt: string): Anthropic.MessageParam[] {
  const messages = [...history];
  const last = messages.at(-1);
  const unanswered = last?.role === 'assistant' && Array.isArray(last.content) ? last.content.filter((b) => b.type === 'tool_use') : [];
  const promptBlock: Anthropic.TextBlockParam = { type: 'text', text: prompt };
  if (unanswered.length) {
    // A tool call left without its result (a run stopped from outside): the API wants one.
    const results = unanswered.map((b) => ({ type: 'tool_result' as const, tool_use_id: (b as Anthropic.ToolUseBlockParam).id, content: 'not run: the run stopped first', is_error: true }));
    messages.push({ role: 'user', content: [...results, promptBlock] });
  } else if (last?.role === 'user') {
    const earlier: Anthropic.ContentBlockParam[] = typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : [...(last.content as Anthropic.ContentBlockParam[])];
    messages[messages.length - 1] = { role: 'user', content: [...earlier, promptBlock] };
  } else {
    messages.push({ role: 'user', content: prompt });
  }
  return messages;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Sorts a model call's failure: what to tell the owner, and whether another try can help. */
function classify(error: unknown): ModelFailure {
  if (error instanceof ModelFailure) return error;
  if (error instanceof Anthropic.AuthenticationError) return new ModelFailure(`the Anthropic API key was rejected (401): ${KEY_HINT}`, false);
  if (error instanceof Error && /Could not resolve authentication method/.test(error.message)) return new ModelFailure(`no Anthropic API key is set: ${KEY_HINT}`, false);
  if (error instanceof Anthropic.APIConnectionError) return new ModelFailure(`could not reach the Anthropic API: ${error.message}`, false);
  if (error instanceof Anthropic.APIError) {
    const detail = error.apiMessage ?? error.message;
    if (error.status === undefined) {
      // An `error` event inside the stream: overloaded and server errors pass.
      const type = error.type ?? 'api_error';
      return new ModelFailure(`the model stream failed (${type}: ${detail})`, ['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error'].includes(type));
    }
    if (error.status === 429) return new ModelFailure(`the Anthropic API is still rate limiting after ${MODEL_HTTP_RETRIES} retries (429: ${detail})`, false);
    if (error.status === 529) return new ModelFailure(`the Anthropic API is still overloaded after ${MODEL_HTTP_RETRIES} retries (529: ${detail})`, false);
    if (error.status >= 500) return new ModelFailure(`the Anthropic API failed after ${MODEL_HTTP_RETRIES} retries (${error.status}: ${detail})`, false);
    if (error.status === 403) return new ModelFailure(`the Anthropic API refused the request (403: ${detail}); check the key's permissions`, false);
    return new ModelFailure(`the Anthropic API refused the request (${error.status} ${error.type ?? 'error'}: ${detail})`, false);
  }
  // A body cut off mid-stream surfaces as a plain network error (e.g. "terminated").
  return new ModelFailure(`the model stream broke off (${errorMessage(error)})`, true);
}

/** The promise's value, or (once `signal` aborts and `graceMs` passes without it) a rejection. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  promise.catch(() => {}); // may settle after we stopped waiting
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(new Error('aborted')), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

export async function runAgent(options: RunOptions): Promise<RunResult> {
  const { client, model, limits, signal, tools } = options;
  const redact = options.redact ?? ((text: string) => text);
  const streamRetry = options.streamRetry ?? { attempts: STREAM_RETRIES, baseDelayMs: 1000 };
  const toolsByName = new Map(tools.map((t) => [t.name, t]));
  const startedAt = Date.now();

  // One controller for everything in flight: the owner's cancel and the wall clock both abort it.
  const controller = new AbortController();
  let limitReason: string | null = null;
  const wallClockReason = () => `wall-clock limit of ${formatDuration(limits.wallClockMs)} reached`;
  const onCancel = () => controller.abort();
  if (signal.aborted) controller.abort();
  else signal.addEventListener('abort', onCancel, { once: true });
  const wallClock = setTimeout(() => {
    limitReason ??= wallClockReason();
    controller.abort();
  }, Math.min(Math.max(0, limits.wallClockMs), 2 ** 31 - 1)); // setTimeout fires at once beyond 2^31-1 ms

  const totals = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
  let messages = options.history;
  let turns = 0;
  let emitBroken = false;

  const send = async (event: AgentEvent) => {
    try {
      await options.emit(event);
    } catch (error) {
      emitBroken = true;
      throw new StopRun('error', `could not record an event: ${redact(errorMessage(error))}`);
    }
  };

  const stopIfAborted = () => {
    if (!controller.signal.aborted) return;
    if (signal.aborted) {
      const reason = signal.reason;
      throw new StopRun('cancelled', typeof reason === 'string' && reason ? reason : reason instanceof Error && reason.name !== 'AbortError' ? reason.message : 'cancelled');
    }
    throw new StopRun('limit', limitReason ?? wallClockReason());
  };

  const checkLimits = () => {
    stopIfAborted();
    const tokens = totals.inputTokens + totals.outputTokens;
    if (turns >= limits.maxTurns) limitReason = `turn limit of ${limits.maxTurns} reached`;
    else if (tokens >= limits.maxTokens) limitReason = `token budget of ${limits.maxTokens} tokens reached (${tokens} used)`;
    else if (totals.costUsd >= limits.maxCostUsd) limitReason = `cost budget of ${formatUsd(limits.maxCostUsd)} reached (${formatUsd(totals.costUsd)} spent)`;
    else if (Date.now() - startedAt >= limits.wallClockMs) limitReason = wallClockReason();
    if (limitReason) throw new StopRun('limit', limitReason);
  };

  /** One model call, streamed; emits deltas and final texts as they come. */
  const streamTurn = async (): Promise<Turn> => {
    const idle = new AbortController();
    const turnSignal = AbortSignal.any([controller.signal, idle.signal]);
    let idleTimer = setTimeout(() => idle.abort(), STREAM_IDLE_MS);
    const touch = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => idle.abort(), STREAM_IDLE_MS);
    };
    const blocks: TurnBlock[] = [];
    const usage = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    let stopReason: string | null = null;
    let done = false;

    const flushDelta = async (entry: TurnBlock, all: boolean) => {
      const cut = all || entry.pending.length > 16_384 ? entry.pending.length : entry.pending.search(/\s(?=\S*$)/) + 1;
      if (cut <= 0) return;
      const piece = entry.pending.slice(0, cut);
      entry.pending = entry.pending.slice(cut);
      await send({ type: 'assistant.delta', text: redact(piece) });
    };

    try {
      const stream = await client.messages.create(
        {
          model,
          max_tokens: options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
          ...(options.system ? { system: options.system } : {}),
          messages,
          ...(tools.length ? { tools: tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.input_schema as Anthropic.Tool.InputSchema })) } : {}),
          stream: true,
        },
        { signal: turnSignal, maxRetries: MODEL_HTTP_RETRIES },
      );
      for await (const event of stream) {
        touch();
        switch (event.type) {
          case 'message_start':
            Object.assign(usage, {
              input_tokens: event.message.usage.input_tokens,
              output_tokens: event.message.usage.output_tokens,
              cache_creation_input_tokens: event.message.usage.cache_creation_input_tokens ?? 0,
              cache_read_input_tokens: event.message.usage.cache_read_input_tokens ?? 0,
            });
            break;
          case 'content_block_start':
            blocks[event.index] = { block: { ...event.content_block }, json: '', pending: '' };
            break;
          case 'content_block_delta': {
            const entry = blocks[event.index];
            if (!entry) break;
            const delta = event.delta;
            if (delta.type === 'text_delta') {
              entry.block.text = (entry.block.text ?? '') + delta.text;
              entry.pending += delta.text;
              await flushDelta(entry, false);
            } else if (delta.type === 'input_json_delta') entry.json += delta.partial_json;
            else if (delta.type === 'thinking_delta') entry.block.thinking = (entry.block.thinking ?? '') + delta.thinking;
            else if (delta.type === 'signature_delta') entry.block.signature = delta.signature;
            break;
          }
          case 'content_block_stop': {
            const entry = blocks[event.index];
            if (entry?.block.type === 'text') {
              await flushDelta(entry, true);
              if (entry.block.text) await send({ type: 'assistant.text', text: redact(entry.block.text) });
            }
            break;
          }
          case 'message_delta':
            stopReason = event.delta.stop_reason ?? stopReason;
            usage.output_tokens = event.usage.output_tokens;
            // Newer API versions repeat the (cumulative) input counts here.
            if (event.usage.input_tokens != null) usage.input_tokens = event.usage.input_tokens;
            if (event.usage.cache_creation_input_tokens != null) usage.cache_creation_input_tokens = event.usage.cache_creation_input_tokens;
            if (event.usage.cache_read_input_tokens != null) usage.cache_read_input_tokens = event.usage.cache_read_input_tokens;
            break;
          case 'message_stop':
            done = true;
            break;
        }
      }
    } catch (error) {
      if (error instanceof StopRun) throw error;
      stopIfAborted();
      if (idle.signal.aborted) throw new ModelFailure(`the model stream stalled (nothing for ${formatDuration(STREAM_IDLE_MS)})`, true);
      throw classify(error);
    } finally {
      clearTimeout(idleTimer);
    }
    // The SDK ends the iteration quietly on abort: tell cancel, limit and stall apart.
    stopIfAborted();
    if (idle.signal.aborted) throw new ModelFailure(`the model stream stalled (nothing for ${formatDuration(STREAM_IDLE_MS)})`, true);
    if (!done) throw new ModelFailure('the model stream ended before message_stop', true);

    const content: Anthropic.ContentBlockParam[] = [];
    const toolUses: Turn['toolUses'] = [];
    for (const { block, json } of blocks.filter(Boolean)) {
      if (block.type === 'text') {
        if (block.text) content.push({ type: 'text', text: block.text });
      } else if (block.type === 'tool_use') {
        let input: unknown = {};
        let inputError: string | null = null;
        try {
          input = json ? JSON.parse(json) : {};
        } catch {
          inputError = stopReason === 'max_tokens' ? 'the tool input was cut off (the reply reached max_tokens); write less per call' : 'the tool input was not valid JSON';
        }
        content.push({ type: 'tool_use', id: block.id, name: block.name, input });
        toolUses.push({ id: block.id, name: block.name, input, inputError });
      } else {
        content.push(block as Anthropic.ContentBlockParam);
      }
    }
    return { content, toolUses, stopReason: stopReason ?? 'end_turn', usage };
  };

  /** A model call with the loop's own retries for streams that fail midway. */
  const modelTurn = async (): Promise<Turn> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await streamTurn();
      } catch (error) {
        if (error instanceof StopRun) throw error;
        const failure = classify(error);
        if (!failure.retryable || attempt > streamRetry.attempts) throw new StopRun('error', redact(failure.message));
        const delayMs = streamRetry.baseDelayMs * 2 ** (attempt - 1);
        await send({ type: 'status', status: 'retrying', detail: redact(`${failure.message}; retrying in ${formatDuration(delayMs)} (retry ${attempt} of ${streamRetry.attempts})`) });
        try {
          await sleep(delayMs, undefined, { signal: controller.signal });
        } catch {
          stopIfAborted();
        }
      }
    }
  };

  /** Runs one tool call; a throwing tool is an error result, an abort stops the run. */
  const runTool = async (call: Turn['toolUses'][number]): Promise<{ content: string; isError: boolean }> => {
    const tool = toolsByName.get(call.name);
    if (!tool) return { content: `unknown tool ${call.name}; the tools are: ${tools.map((t) => t.name).join(', ') || 'none'}`, isError: true };
    if (call.inputError) return { content: call.inputError, isError: true };
    try {
      const result = await untilAborted(tool.run(call.input, { signal: controller.signal }), controller.signal, TOOL_ABORT_GRACE_MS);
      return { content: redact(String(result.content ?? '')), isError: result.isError === true };
    } catch (error) {
      if (controller.signal.aborted) throw error;
      return { content: redact(`the tool failed: ${errorMessage(error)}`), isError: true };
    }
  };

  const finish = async (outcome: RunResult['outcome'], reason: string | null, final: AgentEvent | null): Promise<RunResult> => {
    clearTimeout(wallClock);
    signal.removeEventListener('abort', onCancel);
    if (final && !emitBroken) {
      try {
        await options.emit(final);
      } catch (error) {
        outcome = 'error';
        reason = `could not record an event: ${redact(errorMessage(error))}`;
      }
    }
    return { outcome, reason, messages, usage: { ...totals } };
  };

  try {
    messages = withPrompt(options.history, options.prompt);
    await send({ type: 'run.started', model, limits });
    await send({ type: 'user.message', text: redact(options.prompt) });
    for (;;) {
      checkLimits();
      const turn = await modelTurn();
      turns++;
      if (turn.content.length) messages = [...messages, { role: 'assistant', content: turn.content }];
      const inputTokens = turn.usage.input_tokens + turn.usage.cache_creation_input_tokens + turn.usage.cache_read_input_tokens;
      const costUsd = callCostUsd(model, turn.usage);
      totals.inputTokens += inputTokens;
      totals.outputTokens += turn.usage.output_tokens;
      totals.costUsd += costUsd;
      await send({ type: 'usage', inputTokens, outputTokens: turn.usage.output_tokens, costUsd, totalInputTokens: totals.inputTokens, totalOutputTokens: totals.outputTokens, totalCostUsd: totals.costUsd });
      if (!turn.toolUses.length) return await finish('completed', null, { type: 'completed', stopReason: turn.stopReason });

      const results: Anthropic.ToolResultBlockParam[] = [];
      try {
        for (const call of turn.toolUses) {
          stopIfAborted();
          await send({ type: 'tool.call', id: call.id, name: call.name, input: redactDeep(call.input, redact) });
          const started = performance.now();
          let result: { content: string; isError: boolean };
          try {
            result = await runTool(call);
          } catch (error) {
            if (!controller.signal.aborted) throw error;
            result = { content: `stopped: ${signal.aborted ? 'the run was cancelled' : (limitReason ?? wallClockReason())} while the tool ran`, isError: true };
          }
          results.push({ type: 'tool_result', tool_use_id: call.id, content: result.content, ...(result.isError ? { is_error: true } : {}) });
          await send({ type: 'tool.result', id: call.id, name: call.name, content: result.content, isError: result.isError, ms: Math.round(performance.now() - started) });
        }
      } finally {
        // Every tool_use gets its result in the conversation, also when the run stops halfway.
        for (const call of turn.toolUses.slice(results.length)) results.push({ type: 'tool_result', tool_use_id: call.id, content: 'not run: the run stopped first', is_error: true });
        messages = [...messages, { role: 'user', content: results }];
      }
    }
  } catch (error) {
    if (!(error instanceof StopRun)) return finish('error', redact(`the agent loop failed: ${errorMessage(error)}`), { type: 'error', message: redact(`the agent loop failed: ${errorMessage(error)}`) });
    if (error.outcome === 'cancelled') return finish('cancelled', error.reason, { type: 'cancelled', reason: redact(error.reason) });
    if (error.outcome === 'limit') return finish('limit', error.reason, { type: 'status', status: 'limit', detail: redact(error.reason) });
    return finish('error', error.reason, { type: 'error', message: redact(error.reason) });
  }
}
