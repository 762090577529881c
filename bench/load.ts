/**
 * @module
 * The load generator: keep-alive GETs over node:http to 127.0.0.1 with an explicit Host
 * header (Node cannot resolve *.localhost), latency per request from send to last body
 * byte, and a download timed from send to its last byte.
 */
import http from 'node:http';

export interface Target {
  /** short key: a, b, c, d … */
  key: string;
  label: string;
  port: number;
  /** the Host header to send */
  host: string;
  /** more headers (the LAN door's key) */
  headers?: Record<string, string>;
  /** path prefix before /small or /100mb (e.g. /<dev port> for the share and LAN door) */
  prefix: string;
  /** extra query for the download (the bare pipe's frame size) */
  downloadQuery?: string;
  /** extra query for the small GET */
  smallQuery?: string;
  /** only the download is measured for this target */
  downloadOnly?: boolean;
  /** only the small GETs are measured for this target */
  smallOnly?: boolean;
  agent: http.Agent;
}

export function agentFor(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, keepAliveMsecs: 30_000 });
}

export interface Result {
  status: number;
  bytes: number;
  ms: number;
}

/** Keep-alive connections the server had already closed when reused (retried once). */
export const stale = { retries: 0 };

/**
 * One GET, read to its end. A request on a reused keep-alive connection that the server
 * closed while it sat idle (ECONNRESET before any answer) is retried once on a fresh
 * one, timed from the retry, as any keep-alive client does.
 */
export function get(target: Target, path: string, timeoutMs = 30_000, retry = true): Promise<Result> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let answered = false;
    const req = http.request({ host: '127.0.0.1', port: target.port, path, agent: target.agent, headers: { ...target.headers, host: target.host } }, (res) => {
      answered = true;
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.byteLength));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (retry && !answered && req.reusedSocket && error.code === 'ECONNRESET') {
        stale.retries++;
        get(target, path, timeoutMs, false).then(resolve, reject);
      } else reject(error);
    });
    req.end();
  });
}

export interface LatencyRun {
  latencies: number[];
  errors: number;
  /** wall time of the measured requests, ms */
  wallMs: number;
  firstError?: string;
}

/**
 * `count` GETs of `path` with `concurrency` in flight, stopping early at `capMs`.
 * A response that is not 200 with `expectBytes` bytes counts as an error.
 */
export async function latencyRun(target: Target, path: string, count: number, concurrency: number, capMs: number, expectBytes: number): Promise<LatencyRun> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let issued = 0;
  const started = performance.now();
  const deadline = started + capMs;
  const worker = async () => {
    while (issued < count && performance.now() < deadline) {
      issued++;
      try {
        const r = await get(target, path);
        if (r.status === 200 && r.bytes === expectBytes) latencies.push(r.ms);
        else {
          errors++;
          firstError ??= `status ${r.status}, ${r.bytes} bytes`;
        }
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, errors, wallMs: performance.now() - started, firstError };
}

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: number[], p: number): number {
  if (!samples.length) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function median(samples: number[]): number {
  return percentile(samples, 50);
}
