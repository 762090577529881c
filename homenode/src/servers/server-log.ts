/**
 * @module
 * A dev server's log: output split into lines (across chunks and UTF-8 sequences, very
 * long lines cut with a marker), the last N lines in memory for the API, and every line
 * in a file rotated by size (`<name>.log`, `.log.1`, … `.log.<files-1>`). After a
 * restart of homeportd the ring is refilled from the file's tail.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogLine {
  /** 1, 2, 3… per server, for paging and follow mode */
  seq: number;
  /** epoch ms */
  at: number;
  stream: LogStream;
  text: string;
}

export const MAX_LINE_CHARS = 8192;

/** Turns a byte stream into lines; a partial line waits for the next chunk. */
export class LineSplitter {
  #decoder = new StringDecoder('utf8');
  #partial = '';
  /** characters of the current line beyond maxChars, dropped */
  #cut = 0;

  constructor(private readonly maxChars = MAX_LINE_CHARS) {}

  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      this.#append(nl === -1 ? text.slice(start) : text.slice(start, nl));
      if (nl === -1) return lines;
      lines.push(this.#take());
      start = nl + 1;
    }
  }

  /** The last line when the stream ends without a newline. */
  flush(): string[] {
    this.#append(this.#decoder.end());
    return this.#partial || this.#cut ? [this.#take()] : [];
  }

  #append(piece: string) {
    const room = this.maxChars - this.#partial.length;
    if (piece.length <= room) this.#partial += piece;
    else {
      this.#partial += piece.slice(0, room);
      this.#cut += piece.length - room;
    }
  }

  #take(): string {
    let line = this.#partial.endsWith('\r') ? this.#partial.slice(0, -1) : this.#partial;
    if (this.#cut) line += ` … [${this.#cut} more characters cut]`;
    this.#partial = '';
    this.#cut = 0;
    return line;
  }
}

export interface ServerLogOptions {
  /** the current file; older ones are `<file>.1` … */
  file: string;
  ringLines: number;
  /** rotate when the current file would grow past this */
  fileBytes: number;
  /** files kept, the current one included */
  files: number;
}

const FILE_LINE = /^(\S+) (stdout|stderr|system) (.*)$/;
/** how much of the file's tail is read to refill the ring at start */
const PRELOAD_BYTES = 512 * 1024;

export class ServerLog {
  #ring: (LogLine | undefined)[];
  #next = 0;
  #count = 0;
  #seq = 0;
  #fd: number | null = null;
  #size = 0;

  constructor(private readonly options: ServerLogOptions) {
    this.#ring = new Array(options.ringLines);
    for (const line of this.#readTail()) this.#remember(line);
  }

  /** Appends lines of one stream (one write to the file). */
  append(stream: LogStream, texts: string[], at = Date.now()): LogLine[] {
    if (!texts.length) return [];
    const lines = texts.map((text) => this.#remember({ seq: ++this.#seq, at, stream, text }));
    this.#write(lines.map((l) => `${new Date(l.at).toISOString()} ${l.stream} ${l.text}\n`).join(''));
    return lines;
  }

  /** Lines in order, oldest first: those after `after` (a seq), at most the last `tail`. */
  lines({ tail, after }: { tail?: number; after?: number } = {}): LogLine[] {
    const out: LogLine[] = [];
    const size = this.#ring.length;
    for (let i = 0; i < this.#count; i++) {
      const line = this.#ring[(this.#next - this.#count + i + size) % size]!;
      if (after === undefined || line.seq > after) out.push(line);
    }
    return tail === undefined ? out : out.slice(Math.max(0, out.length - tail));
  }

  close() {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  #remember(line: LogLine): LogLine {
    this.#ring[this.#next] = line;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#count = Math.min(this.#count + 1, this.#ring.length);
    this.#seq = Math.max(this.#seq, line.seq);
    return line;
  }

  #write(text: string) {
    const bytes = Buffer.from(text);
    if (this.#fd === null) {
      this.#fd = openSync(this.options.file, 'a', 0o600);
      this.#size = fstatSync(this.#fd).size;
    }
    if (this.#size > 0 && this.#size + bytes.length > this.options.fileBytes) this.#rotate();
    writeSync(this.#fd!, bytes);
    this.#size += bytes.length;
  }

  #rotate() {
    this.close();
    const { file, files } = this.options;
    rmSync(`${file}.${files - 1}`, { force: true });
    for (let i = files - 2; i >= 1; i--) {
      try {
        renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      } catch {
        // that one did not exist yet
      }
    }
    if (files > 1) renameSync(file, `${file}.1`);
    else rmSync(file, { force: true });
    this.#fd = openSync(file, 'a', 0o600);
    this.#size = 0;
  }

  /** The last lines of the current file, numbered 1…n. */
  #readTail(): LogLine[] {
    let size: number;
    try {
      size = statSync(this.options.file).size;
    } catch {
      return [];
    }
    const length = Math.min(size, PRELOAD_BYTES);
    const buffer = Buffer.alloc(length);
    const fd = openSync(this.options.file, 'r');
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    const texts = buffer.toString('utf8').split('\n');
    if (length < size) texts.shift(); // the first line is probably cut
    const lines: LogLine[] = [];
    for (const text of texts.slice(-this.options.ringLines - 1)) {
      const m = FILE_LINE.exec(text);
      const at = m ? Date.parse(m[1]) : NaN;
      if (m && Number.isFinite(at)) lines.push({ seq: lines.length + 1, at, stream: m[2] as LogStream, text: m[3] });
    }
    return lines.slice(-this.options.ringLines).map((l, i) => ({ ...l, seq: i + 1 }));
  }
}
