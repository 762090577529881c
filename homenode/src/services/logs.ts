/**
 * @module
 * A service's output: its containers' stdout and stderr as lines with the part they
 * came from and Docker's timestamp. A tail reads each part's last lines and merges them
 * by time; following streams each part's new lines as they come, until every container
 * stops or the reader leaves.
 */
import type Docker from 'dockerode';
import { DockerStreamDemuxer, type StreamType } from '../docker/demux.ts';

export interface ServiceLogLine {
  part: string;
  stream: 'stdout' | 'stderr';
  /** Docker's timestamp, ms */
  at: number;
  text: string;
}

export interface LogSource {
  part: string;
  container: Docker.Container;
}

const MAX_LINE = 16 * 1024;
const STAMPED = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z ?/;

/** `2026-11-23T11:19:19.123456789Z text` → {at, text} (Docker's timestamps have nanoseconds). */
export function splitTimestamp(line: string): { at: number; text: string } {
  const m = STAMPED.exec(line);
  if (!m) return { at: Date.now(), text: line };
  const ms = (m[2] ?? '.0').slice(1, 4).padEnd(3, '0');
  return { at: Date.parse(`${m[1]}.${ms}Z`), text: line.slice(m[0].length) };
}

/** Cuts one part's demultiplexed frames into lines; a line may span frames. */
class LineSplitter {
  readonly #rest: Record<StreamType, string> = { 1: '', 2: '' };

  constructor(
    readonly part: string,
    readonly onLine: (line: ServiceLogLine) => void,
  ) {}

  push(type: StreamType, payload: Buffer) {
    const text = this.#rest[type] + payload.toString('utf8');
    const lines = text.split('\n');
    this.#rest[type] = lines.pop()!;
    if (this.#rest[type].length > MAX_LINE) lines.push(this.#rest[type]), (this.#rest[type] = '');
    for (const line of lines) this.#emit(type, line);
  }

  flush() {
    for (const type of [1, 2] as const) if (this.#rest[type]) this.#emit(type, this.#rest[type]), (this.#rest[type] = '');
  }

  #emit(type: StreamType, raw: string) {
    const { at, text } = splitTimestamp(raw.replace(/\r$/, ''));
    this.onLine({ part: this.part, stream: type === 1 ? 'stdout' : 'stderr', at, text: text.slice(0, MAX_LINE) });
  }
}

/** The last `tail` lines of all parts together, oldest first. */
export async function readLogs(sources: LogSource[], tail: number): Promise<ServiceLogLine[]> {
  const all: ServiceLogLine[] = [];
  for (const { part, container } of sources) {
    const buffer = await container.logs({ follow: false, stdout: true, stderr: true, timestamps: true, tail });
    const splitter = new LineSplitter(part, (line) => all.push(line));
    const demux = new DockerStreamDemuxer((type, payload) => splitter.push(type, payload));
    demux.push(buffer);
    splitter.flush();
  }
  // A stable sort keeps each part's own order for equal timestamps.
  return all.sort((a, b) => a.at - b.at).slice(-tail || all.length);
}

/**
 * Streams each part's last `tail` lines then its new ones to `onLine`; `onEnd` once all
 * streams ended. Returns a function that stops following.
 */
export async function followLogs(sources: LogSource[], tail: number, onLine: (line: ServiceLogLine) => void, onEnd: () => void): Promise<() => void> {
  const streams: NodeJS.ReadableStream[] = [];
  let open = sources.length;
  let stopped = false;
  const ended = () => {
    if (--open === 0 && !stopped) onEnd();
  };
  for (const { part, container } of sources) {
    const stream = await container.logs({ follow: true, stdout: true, stderr: true, timestamps: true, tail });
    streams.push(stream);
    const splitter = new LineSplitter(part, onLine);
    const demux = new DockerStreamDemuxer((type, payload) => splitter.push(type, payload));
    stream.on('data', (chunk: Buffer) => demux.push(chunk));
    stream.once('end', () => (splitter.flush(), ended()));
    stream.once('error', () => ended());
  }
  if (!sources.length) queueMicrotask(onEnd);
  return () => {
    stopped = true;
    for (const stream of streams) (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  };
}
