/**
 * @module
 * Answers that come before the request body has arrived in full (a 413 part-way through
 * an upload, a refusal that never read the body, a node that answered early) break
 * `wrangler dev`: its proxy Worker keeps feeding our Worker the visitor's body after our
 * answer went out, and the proxy's next request to us fails (a POST gets 503 "Your worker
 * restarted mid-request", a GET waits seconds to minutes for a retry). So a local edge
 * reads what is left of such a body and drops it before its answer ends: a body nobody
 * reads any more is drained before the answer goes out; one the handler may still be
 * reading (a body relayed to a node) holds back the last byte of the answer until it is
 * done. Draining stops after `maxBytes` or `idleMs` of silence; the answer then goes out
 * anyway. Deployed edges need none of this (docs/tunnel.md).
 */
import { withTimeout } from './relay.ts';

export interface DrainLimits {
  /** the most bytes dropped after an answer is ready */
  maxBytes: number;
  /** give up on a visitor that sends nothing for this long */
  idleMs: number;
}

type BodyState = 'reading' | 'done' | 'abandoned' | 'failed';

/** The request body as the handler sees it, remembering whether it was read to the end. */
class TrackedBody {
  readonly #source: ReadableStreamDefaultReader<Uint8Array>;
  #state: BodyState = 'reading';
  readonly readable: ReadableStream<Uint8Array>;

  constructor(source: ReadableStream<Uint8Array>) {
    this.#source = source.getReader();
    this.readable = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            const { done, value } = await this.#source.read();
            // drain() took over: what it reads is dropped, and so is this.
            if (this.#state !== 'reading') throw new Error('the answer was already sent');
            if (done) {
              this.#state = 'done';
              controller.close();
            } else controller.enqueue(value);
          } catch (error) {
            if (this.#state === 'reading') this.#state = 'failed';
            controller.error(error);
          }
        },
        // The handler gave up on the body: the source stays open so that drain() can read it.
        cancel: () => {
          if (this.#state === 'reading') this.#state = 'abandoned';
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Nothing more will come from the visitor. */
  get settled(): boolean {
    return this.#state === 'done' || this.#state === 'failed';
  }

  get abandoned(): boolean {
    return this.#state === 'abandoned';
  }

  /** Reads the rest of the body and drops it, within `limits`; a no-op once it has ended. */
  async drain(limits: DrainLimits): Promise<void> {
    if (this.settled) return;
    this.#state = 'abandoned';
    let dropped = 0;
    try {
      for (;;) {
        const read = await withTimeout(this.#source.read(), limits.idleMs);
        if (read === 'timeout' || read.done) break;
        dropped += read.value.byteLength;
        if (dropped > limits.maxBytes) break;
      }
    } catch {
      // the visitor went away: nothing left to read
    }
    this.#source.cancel().catch(() => {});
  }
}

/**
 * Runs `handle` with a copy of the request whose body is tracked; if the answer is ready
 * before that body ended, its end waits until the rest has been read (see the module).
 */
export async function answerAfterBody(request: Request, handle: (request: Request) => Promise<Response>, limits: DrainLimits): Promise<Response> {
  if (!request.body) return handle(request);
  const body = new TrackedBody(request.body);
  const response = await handle(new Request(request, { body: body.readable }));
  if (body.settled) return response;
  if (body.abandoned || !response.body || response.webSocket) {
    await body.drain(limits);
    return response;
  }
  // The handler may still be reading (a relayed upload): hold the answer's end, not its start.
  const length = response.headers.has('content-length');
  let held: Uint8Array | null = null;
  const holding = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (held) controller.enqueue(held);
      held = null;
      if (!length || body.settled || chunk.byteLength === 0) controller.enqueue(chunk);
      else {
        // With a Content-Length, the answer is complete at its last byte: keep that one back.
        if (chunk.byteLength > 1) controller.enqueue(chunk.subarray(0, chunk.byteLength - 1));
        held = chunk.subarray(chunk.byteLength - 1);
      }
    },
    async flush(controller) {
      await body.drain(limits);
      if (held) controller.enqueue(held);
    },
  });
  // workerd hands a compressed answer's body over decoded and encodes it again on the way out.
  return new Response(response.body.pipeThrough(holding), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
