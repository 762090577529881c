/**
 * @module
 * A local fake of the Anthropic Messages API for tests, on a free port of 127.0.0.1,
 * speaking the real wire format so the real `@anthropic-ai/sdk` can talk to it:
 *
 * ```ts
 * const fake = await FakeAnthropic.start();           // fake.url, fake.apiKey
 * const client = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url });
 * fake.enqueue(
 *   { content: [text('Let me look.'), toolUse('read_file', { path: 'a.txt' })] },
 *   (request) => ({ content: [text(`It says ${request.toolResults[0].content}`)] }),
 * );
 * ... run the code under test ...
 * expect(fake.requests[1].toolResults[0].tool_use_id).toBe(fake.requests[0].reply?.toolUseIds[0]);
 * await fake.stop();
 * ```
 *
 * - `POST /v1/messages`, streaming (`"stream": true`: SSE with `event:`/`data:` lines —
 *   message_start with usage, ping, content_block_start/delta/stop for text
 *   (text_delta), tool_use (input_json_delta, the JSON cut into several pieces) and
 *   thinking, message_delta with stop_reason and usage, message_stop) or one JSON
 *   message.
 * - Each request takes the next *turn* from the queue (`enqueue`); once it is empty,
 *   the `otherwise` turn answers (none: a 500 naming the missing turn). A turn is a
 *   reply, an HTTP error (`{ error: 'http', status: 429, retryAfterMs: 200 }`, with the
 *   real error JSON and `retry-after-ms`/`retry-after` headers), an error event in the
 *   middle of a stream (`{ error: 'stream', type: 'overloaded_error', after: [...] }`),
 *   or a function of the request returning one of those (a promise that never resolves
 *   holds the request open until the client gives up).
 * - Checked like the real API, before any turn is taken: the key (`x-api-key`, or
 *   `Authorization: Bearer`, which SDK 1.x sends; a wrong or missing one is a 401
 *   authentication_error), the `anthropic-version` header, model/max_tokens/messages,
 *   and that every tool_use is answered by a tool_result in the next message (400
 *   invalid_request_error with the API's wording).
 * - `requests` records every request: headers, parsed body, the last message's
 *   tool_result blocks, and what was answered.
 * - `chunkDelayMs` (server-wide or per reply) pauses before each streamed event after
 *   message_start, for cancel and timing tests.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../helpers/ports.ts';

export type FakeBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; name: string; input: unknown; id?: string }
  | { type: 'thinking'; thinking: string; signature?: string };

export interface FakeUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/** A successful answer. */
export interface FakeReply {
  content: FakeBlock[];
  /** default: 'tool_use' when a tool_use block is present, else 'end_turn' */
  stopReason?: string;
  /** default: input ≈ request JSON length / 4, output ≈ content length / 4 */
  usage?: FakeUsage;
  /** pause before each streamed event after message_start (overrides the server's) */
  chunkDelayMs?: number;
}

/** An HTTP error answer with the real error body. */
export interface FakeHttpError {
  error: 'http';
  status: number;
  /** default from the status: rate_limit_error, overloaded_error, api_error… */
  type?: string;
  message?: string;
  /** sends `retry-after-ms` (and `retry-after` in whole seconds) */
  retryAfterMs?: number;
}

/** A stream that starts well and then carries an `event: error` (a non-streaming request gets it as HTTP 529/500). */
export interface FakeStreamError {
  error: 'stream';
  /** default overloaded_error */
  type?: string;
  message?: string;
  /** blocks streamed completely before the error */
  after?: FakeBlock[];
}

export type FakeAnswer = FakeReply | FakeHttpError | FakeStreamError;
export type FakeTurn = FakeAnswer | ((request: FakeMessagesRequest) => FakeAnswer | Promise<FakeAnswer>);

export interface FakeToolResult {
  tool_use_id: string;
  /** the result's text (text blocks joined) */
  content: string;
  is_error: boolean;
}

/** One request as the fake received it. */
export interface FakeMessagesRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** the parsed JSON body ({} when there was none or it was not JSON) */
  body: Record<string, any>;
  stream: boolean;
  /** tool_result blocks of the last message */
  toolResults: FakeToolResult[];
  at: number;
  /** what was answered: the status, and the ids of tool_use blocks sent */
  reply?: { status: number; toolUseIds: string[] };
}

/** A text block. */
export function text(value: string): FakeBlock {
  return { type: 'text', text: value };
}

/** A tool_use block (id generated unless given). */
export function toolUse(name: string, input: unknown, id?: string): FakeBlock {
  return { type: 'tool_use', name, input, id };
}

const DEFAULT_KEY_PREFIX = 'sk-ant-api03-fake';
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};
const ERROR_MESSAGES: Record<string, string> = {
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit (https://docs.claude.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.',
  overloaded_error: 'Overloaded',
  api_error: 'Internal server error',
};

function id(prefix: string): string {
  return `${prefix}${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;
}

function estimateTokens(value: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));
}

/** Text pieces as a model streams them: a word and its trailing space at a time. */
function textPieces(value: string): string[] {
  return value.match(/\S*\s*/g)?.filter(Boolean) ?? [];
}

/** A JSON text cut into about `parts` pieces (the API's first input_json_delta is empty). */
function jsonPieces(json: string, parts = 3): string[] {
  const size = Math.max(1, Math.ceil(json.length / parts));
  const pieces = [''];
  for (let i = 0; i < json.length; i += size) pieces.push(json.slice(i, i + size));
  return pieces;
}

function blockText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((b) => (b && typeof b === 'object' && 'text' in b ? String(b.text) : '')).join('');
  return '';
}

/** tool_result blocks of a message. */
function toolResultsOf(message: any): FakeToolResult[] {
  if (!message || !Array.isArray(message.content)) return [];
  return message.content
    .filter((b: any) => b?.type === 'tool_result')
    .map((b: any) => ({ tool_use_id: String(b.tool_use_id), content: blockText(b.content), is_error: b.is_error === true }));
}

export class FakeAnthropic {
  readonly apiKey: string;
  /** every request, oldest first */
  readonly requests: FakeMessagesRequest[] = [];

  #server: http.Server;
  #port = 0;
  #queue: FakeTurn[] = [];
  #otherwise: FakeTurn | null = null;
  #chunkDelayMs: number;

  private constructor(options: { apiKey: string; chunkDelayMs: number }) {
    this.apiKey = options.apiKey;
    this.#chunkDelayMs = options.chunkDelayMs;
    this.#server = http.createServer((req, res) => void this.#serve(req, res));
  }

  /** Starts the fake on a free port of 127.0.0.1 (a random `apiKey` unless given). */
  static async start(options: { apiKey?: string; chunkDelayMs?: number } = {}): Promise<FakeAnthropic> {
    const fake = new FakeAnthropic({ apiKey: options.apiKey ?? `${DEFAULT_KEY_PREFIX}-${randomBytes(24).toString('hex')}`, chunkDelayMs: options.chunkDelayMs ?? 0 });
    fake.#port = await freePort(40001, 50000);
    await new Promise<void>((resolve, reject) => {
      fake.#server.once('error', reject);
      fake.#server.listen(fake.#port, '127.0.0.1', () => resolve());
    });
    return fake;
  }

  /** The base URL for the SDK's `baseURL`, e.g. http://127.0.0.1:41234 */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Turns answered in order, one per valid request. */
  enqueue(...turns: FakeTurn[]): void {
    this.#queue.push(...turns);
  }

  /** The turn that answers every request once the queue is empty (e.g. a runaway tool loop). */
  otherwise(turn: FakeTurn | null): void {
    this.#otherwise = turn;
  }

  /** How many queued turns are left. */
  get pending(): number {
    return this.#queue.length;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #serve(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: Record<string, any> = {};
    let parsed = true;
    try {
      const raw = Buffer.concat(chunks).toString();
      body = raw ? (JSON.parse(raw) as Record<string, any>) : {};
    } catch {
      parsed = false;
    }
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const record: FakeMessagesRequest = {
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', this.url).pathname,
      headers: req.headers,
      body,
      stream: body.stream === true,
      toolResults: toolResultsOf(messages.at(-1)),
      at: Date.now(),
    };
    this.requests.push(record);
    const fail = (status: number, message: string, type = ERROR_TYPES[status] ?? 'api_error', headers: Record<string, string> = {}) => {
      record.reply = { status, toolUseIds: [] };
      const text = JSON.stringify({ type: 'error', error: { type, message }, request_id: id('req_') });
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req_'), ...headers });
      res.end(text);
    };
    try {
      if (record.method !== 'POST' || record.path !== '/v1/messages') return fail(404, 'Not found');
      const key = req.headers['x-api-key'] ?? /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!key) return fail(401, 'x-api-key header is required');
      if (key !== this.apiKey) return fail(401, 'invalid x-api-key');
      if (!req.headers['anthropic-version']) return fail(400, 'anthropic-version: header is required');
      const invalid = parsed ? this.#invalid(body) : 'There was an issue with the format of your request body: it is not valid JSON';
      if (invalid) return fail(400, invalid);

      const turn = this.#queue.shift() ?? this.#otherwise;
      if (!turn) return fail(500, `FakeAnthropic: no scripted turn left for request ${this.requests.length}`);
      const answer = typeof turn === 'function' ? await turn(record) : turn;

      if ('error' in answer && answer.error === 'http') {
        const headers: Record<string, string> = {};
        if (answer.retryAfterMs !== undefined) {
          headers['retry-after-ms'] = String(answer.retryAfterMs);
          headers['retry-after'] = String(Math.ceil(answer.retryAfterMs / 1000));
        }
        const type = answer.type ?? ERROR_TYPES[answer.status] ?? 'api_error';
        return fail(answer.status, answer.message ?? ERROR_MESSAGES[type] ?? type, type, headers);
      }
      if ('error' in answer && answer.error === 'stream' && !record.stream) {
        const type = answer.type ?? 'overloaded_error';
        return fail(type === 'overloaded_error' ? 529 : 500, answer.message ?? ERROR_MESSAGES[type] ?? type, type);
      }
      const reply: FakeReply = 'error' in answer ? { content: answer.after ?? [] } : answer;
      const blocks = reply.content.map((b) => (b.type === 'tool_use' ? { ...b, id: b.id ?? id('toolu_') } : b));
      const toolUseIds = blocks.flatMap((b) => (b.type === 'tool_use' ? [b.id!] : []));
      record.reply = { status: 200, toolUseIds };
      const usage = {
        input_tokens: reply.usage?.input_tokens ?? estimateTokens([body.system, body.tools, messages]),
        cache_creation_input_tokens: reply.usage?.cache_creation_input_tokens ?? 0,
        cache_read_input_tokens: reply.usage?.cache_read_input_tokens ?? 0,
        output_tokens: reply.usage?.output_tokens ?? estimateTokens(blocks),
      };
      const stopReason = reply.stopReason ?? (toolUseIds.length ? 'tool_use' : 'end_turn');
      const message = { id: id('msg_'), type: 'message', role: 'assistant', model: String(body.model), stop_sequence: null };

      if (!record.stream) {
        const content = blocks.map((b) => (b.type === 'text' ? { type: 'text', text: b.text, citations: null } : b.type === 'thinking' ? { ...b, signature: b.signature ?? id('sig_') } : b));
        const json = JSON.stringify({ ...message, content, stop_reason: stopReason, usage: { ...usage, service_tier: 'standard' } });
        res.writeHead(200, { 'content-type': 'application/json', 'request-id': id('req_') });
        return void res.end(json);
      }
      await this.#stream(res, message, blocks, usage, stopReason, reply.chunkDelayMs ?? this.#chunkDelayMs, 'error' in answer ? answer : null);
    } catch (error) {
      fail(500, `FakeAnthropic: ${(error as Error).message}`);
    }
  }

  async #stream(
    res: http.ServerResponse,
    message: Record<string, unknown>,
    blocks: FakeBlock[],
    usage: Required<FakeUsage>,
    stopReason: string,
    delayMs: number,
    streamError: FakeStreamError | null,
  ) {
    let closed = false;
    res.on('close', () => (closed = true));
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': id('req_') });
    const send = async (type: string, data: Record<string, unknown>, pause = true) => {
      if (pause && delayMs > 0) await sleep(delayMs);
      if (closed) throw new Error('client went away');
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    };
    try {
      await send('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1, service_tier: 'standard' } } }, false);
      await send('ping', {});
      for (const [index, block] of blocks.entries()) {
        if (block.type === 'text') {
          await send('content_block_start', { index, content_block: { type: 'text', text: '' } });
          for (const piece of textPieces(block.text)) await send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
        } else if (block.type === 'tool_use') {
          await send('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
          for (const piece of jsonPieces(JSON.stringify(block.input ?? {}))) await send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
        } else {
          await send('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } });
          for (const piece of textPieces(block.thinking)) await send('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } });
          await send('content_block_delta', { index, delta: { type: 'signature_delta', signature: block.signature ?? id('sig_') } });
        }
        await send('content_block_stop', { index });
      }
      if (streamError) {
        const type = streamError.type ?? 'overloaded_error';
        await send('error', { error: { type, message: streamError.message ?? ERROR_MESSAGES[type] ?? type }, request_id: id('req_') });
      } else {
        await send('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage });
        await send('message_stop', {});
      }
      res.end();
    } catch {
      res.destroy();
    }
  }

  /** The API's 400 for a malformed body, or null. */
  #invalid(body: Record<string, any>): string | null {
    if (typeof body.model !== 'string' || !body.model) return 'model: Field required';
    if (!Number.isInteger(body.max_tokens)) return 'max_tokens: Field required';
    if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: at least one message is required';
    const messages = body.messages as any[];
    for (const [i, m] of messages.entries()) {
      if (m?.role !== 'user' && m?.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
      const previousToolUses = new Set<string>(
        i > 0 && messages[i - 1]?.role === 'assistant' && Array.isArray(messages[i - 1].content)
          ? messages[i - 1].content.filter((b: any) => b?.type === 'tool_use').map((b: any) => b.id)
          : [],
      );
      const results = toolResultsOf(m);
      for (const [j, r] of results.entries()) {
        if (!previousToolUses.has(r.tool_use_id))
          return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${r.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
      const answered = new Set(results.map((r) => r.tool_use_id));
      const missing = [...previousToolUses].filter((u) => !answered.has(u));
      if (missing.length)
        return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
    const last = messages.at(-1);
    if (last?.role === 'assistant' && Array.isArray(last.content) && last.content.some((b: any) => b?.type === 'tool_use'))
      return `messages.${messages.length - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    return null;
  }
}
