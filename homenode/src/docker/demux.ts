/**
 * @module
 * Docker's multiplexed attach/exec stream (no TTY): frames of an 8-byte header
 * `[stream, 0, 0, 0, size (u32 big-endian)]` then `size` bytes, stream 1 = stdout,
 * 2 = stderr. Chunks from the socket split headers and payloads anywhere, so bytes are
 * held until a frame is whole.
 */

export type StreamType = 1 | 2;

const HEADER_BYTES = 8;

export class DockerStreamDemuxer {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(private readonly onFrame: (stream: StreamType, payload: Buffer) => void) {}

  /** Feeds bytes from the socket; calls onFrame for every frame completed by them. */
  push(chunk: Buffer): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    while (this.#pendingBytes >= HEADER_BYTES) {
      // bytes are joined only for a whole header or a whole frame, never once per chunk
      if (this.#pending[0].length < HEADER_BYTES) this.#pending = [Buffer.concat(this.#pending)];
      const header = this.#pending[0];
      const type = header[0];
      if (type > 2 || header[1] !== 0 || header[2] !== 0 || header[3] !== 0) throw new Error('not a multiplexed Docker stream (a TTY exec?)');
      const frameBytes = HEADER_BYTES + header.readUInt32BE(4);
      if (this.#pendingBytes < frameBytes) return;
      const buffer = this.#pending.length === 1 ? this.#pending[0] : Buffer.concat(this.#pending);
      const rest = buffer.subarray(frameBytes);
      this.#pending = rest.length ? [rest] : [];
      this.#pendingBytes = rest.length;
      // stream 0 (stdin) is never sent back; an empty frame carries nothing
      if (type !== 0 && frameBytes > HEADER_BYTES) this.onFrame(type as StreamType, buffer.subarray(HEADER_BYTES, frameBytes));
    }
  }

  /** Bytes of an unfinished frame (non-zero when the stream ends means it was cut short). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }
}

/** One frame as Docker writes it (tests, and anyone faking a stream). */
export function dockerFrame(stream: 0 | 1 | 2, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}
