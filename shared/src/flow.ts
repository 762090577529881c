/**
 * @module
 * Per-stream credit flow control. workerd has no send-side backpressure on WebSockets,
 * so each receiver grants credit (WINDOW frames) as it drains, and each sender waits
 * for credit before sending body data. Memory per stream stays under the window.
 */
import { INITIAL_WINDOW } from './frames.ts';

/** The parts, one after another, in one array (the part itself when there is only one). */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

export class StreamClosedError extends Error {
  constructor(message = 'stream closed') {
    super(message);
    this.name = 'StreamClosedError';
  }
}

/** The sender's view: bytes it may still send before the peer grants more. */
export class SendWindow {
  #available: number;
  #waiters: { need: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  #closed: Error | null = null;

  constructor(initial = INITIAL_WINDOW) {
    this.#available = initial;
  }

  get available() {
    return this.#available;
  }

  /** Waits until `n` bytes of credit are there, then takes them. */
  take(n: number): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (this.#waiters.length === 0 && this.#available >= n) {
      this.#available -= n;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#waiters.push({ need: n, resolve, reject }));
  }

  grant(n: number) {
    this.#available += n;
    while (this.#waiters.length && this.#available >= this.#waiters[0].need) {
      const w = this.#waiters.shift()!;
      this.#available -= w.need;
      w.resolve();
    }
  }

  /** Fails every waiter (the stream was reset or the tunnel dropped). */
  close(error: Error = new StreamClosedError()) {
    this.#closed = error;
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }
}

/**
 * The receiver's view: counts consumed bytes and says when to grant them back, in
 * batches of a quarter window so WINDOW frames stay few.
 */
export class ReceiveWindow {
  #consumed = 0;
  constructor(readonly window = INITIAL_WINDOW) {}

  /** Records `n` consumed bytes; returns the credit to grant now (0 = not yet). */
  consumed(n: number): number {
    this.#consumed += n;
    if (this.#consumed >= this.window / 4) {
      const grant = this.#consumed;
      this.#consumed = 0;
      return grant;
    }
    return 0;
  }
}

/**
 * Body chunks that arrived from the peer, read out as a web ReadableStream. The stream
 * pulls one chunk at a time (highWaterMark 0), and each chunk handed to the reader is
 * reported through `onConsumed`, which is where credit goes back to the sender.
 */
export class ChunkQueue {
  #queue: Uint8Array[] = [];
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(
    private readonly onConsumed: (bytes: number) => void,
    private readonly onCancel: () => void = () => {},
  ) {}

  push(chunk: Uint8Array) {
    if (chunk.byteLength) this.#queue.push(chunk);
    this.#wakeReader();
  }

  end() {
    this.#ended = true;
    this.#wakeReader();
  }

  error(error: Error) {
    this.#error ??= error;
    this.#wakeReader();
  }

  get finished() {
    return this.#ended || this.#error !== null;
  }

  #wakeReader() {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /**
   * Everything queued, as one chunk: when the reader is slower than the sender, several
   * frames wait here, and handing them over together costs the reader's side one write.
   */
  #take(): Uint8Array | undefined {
    if (this.#queue.length <= 1) return this.#queue.shift();
    return concatBytes(this.#queue.splice(0));
  }

  readable(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (!this.#queue.length && !this.#ended && !this.#error) await new Promise<void>((resolve) => (this.#wake = resolve));
          const chunk = this.#take();
          if (chunk) {
            controller.enqueue(chunk);
            this.onConsumed(chunk.byteLength);
          } else if (this.#error) controller.error(this.#error);
          else controller.close();
        },
        cancel: () => {
          this.#error ??= new StreamClosedError('cancelled');
          this.onCancel();
        },
      },
      { highWaterMark: 0 },
    );
  }
}
