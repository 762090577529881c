/**
 * @module
 * Honest status: what Docker says of each container (state, exit code, health check)
 * plus a probe from the host to each published port (a TCP connect, or an HTTP GET
 * where the template names a path). A one-shot job that exited 0 is `completed`; a
 * server that answers its health check but not on 127.0.0.1 is `unhealthy`.
 */
import http from 'node:http';
import net from 'node:net';
import type Docker from 'dockerode';
import { BIND_HOST } from './containers.ts';

export type PartState = 'missing' | 'created' | 'starting' | 'running' | 'unhealthy' | 'restarting' | 'paused' | 'stopped' | 'completed' | 'failed';
export type ServiceState = 'installing' | 'running' | 'starting' | 'unhealthy' | 'degraded' | 'stopped' | 'completed' | 'failed' | 'unknown';

export interface ProbeResult {
  containerPort: number;
  hostPort: number;
  kind: 'tcp' | 'http';
  ok: boolean;
  /** the HTTP status, for http probes that got an answer */
  status?: number;
  error?: string;
}

export interface PartStatus {
  part: string;
  container: string;
  image: string;
  job: boolean;
  state: PartState;
  /** Docker's health check, when the part has one */
  health: 'healthy' | 'unhealthy' | 'starting' | null;
  exitCode: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  probes: ProbeResult[];
  /** why, for people: the failing check's output, the exit code… */
  detail: string | null;
}

/** Exit codes of a container stopped by a signal (docker stop, Ctrl-C): not a crash. */
const STOP_CODES = new Set([0, 130, 137, 143]);

function time(value: string | undefined): number | null {
  if (!value || value.startsWith('0001-')) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

export interface PartInput {
  part: string;
  container: string;
  image: string;
  job: boolean;
  desired: 'running' | 'stopped';
  inspect: Docker.ContainerInspectInfo | null;
  probes: ProbeResult[];
  now: number;
  /** how long a part without health check may fail its probe after starting before it is unhealthy */
  graceMs: number;
}

export function partStatus(input: PartInput): PartStatus {
  const base = { part: input.part, container: input.container, image: input.image, job: input.job, probes: input.probes };
  const info = input.inspect;
  if (!info) return { ...base, state: 'missing', health: null, exitCode: null, startedAt: null, finishedAt: null, detail: 'its container is gone (removed outside Homeport); start creates it again' };
  const s = info.State;
  const health = (s.Health?.Status as PartStatus['health'] | 'none' | undefined) ?? null;
  const out = {
    ...base,
    health: health === 'none' ? null : health,
    exitCode: s.Running ? null : s.ExitCode,
    startedAt: time(s.StartedAt),
    finishedAt: s.Running ? null : time(s.FinishedAt),
  };
  const lastCheck = s.Health?.Log?.at(-1);
  const failedProbe = input.probes.find((p) => !p.ok);
  const probeDetail = failedProbe && `port ${failedProbe.containerPort} does not answer on ${BIND_HOST}:${failedProbe.hostPort} (${failedProbe.error ?? `HTTP ${failedProbe.status}`})`;
  switch (s.Status) {
    case 'running':
      if (out.health === 'starting') return { ...out, state: 'starting', detail: null };
      if (out.health === 'unhealthy') return { ...out, state: 'unhealthy', detail: `health check failing: ${lastCheck?.Output?.trim().slice(-300) || `exit code ${lastCheck?.ExitCode ?? '?'}`}` };
      if (failedProbe) {
        const young = out.startedAt !== null && input.now - out.startedAt < input.graceMs;
        if (out.health === null && young) return { ...out, state: 'starting', detail: probeDetail! };
        return { ...out, state: 'unhealthy', detail: out.health === 'healthy' ? `healthy inside its container, but ${probeDetail}` : probeDetail! };
      }
      return { ...out, state: 'running', detail: null };
    case 'restarting':
      return { ...out, state: 'restarting', detail: `crashed (exit code ${s.ExitCode}); Docker is restarting it` };
    case 'paused':
      return { ...out, state: 'paused', detail: 'paused outside Homeport' };
    case 'created':
      return { ...out, state: 'created', detail: 'created, never started' };
    default: {
      // exited, dead, removing
      const oom = s.OOMKilled ? ' (out of memory)' : '';
      if (input.job) return s.ExitCode === 0 ? { ...out, state: 'completed', detail: null } : { ...out, state: 'failed', detail: `exited with code ${s.ExitCode}${oom}` };
      if (input.desired === 'stopped') return { ...out, state: 'stopped', detail: null };
      if (STOP_CODES.has(s.ExitCode) && !s.OOMKilled) return { ...out, state: 'stopped', detail: 'stopped outside Homeport; start brings it back' };
      return { ...out, state: 'failed', detail: `exited with code ${s.ExitCode}${oom}${s.Error ? `: ${s.Error}` : ''}` };
    }
  }
}

/** One word for the whole service. */
export function serviceState(parts: PartState[]): ServiceState {
  if (!parts.length) return 'unknown';
  const has = (...states: PartState[]) => parts.some((p) => states.includes(p));
  const all = (...states: PartState[]) => parts.every((p) => states.includes(p));
  if (has('failed')) return 'failed';
  if (has('unhealthy', 'restarting')) return 'unhealthy';
  if (all('completed')) return 'completed';
  if (all('running', 'completed')) return 'running';
  if (all('running', 'completed', 'starting')) return 'starting';
  if (all('stopped', 'created', 'completed', 'missing')) return 'stopped';
  return 'degraded';
}

/**
 * A TCP probe that a proxy cannot fool: Docker's userland proxy accepts on the host port
 * even when nothing listens in the container, then closes at once. So the connection
 * must stay open for `holdMs` (or bring data, like a MySQL greeting) to count.
 */
export function probeTcp(port: number, timeoutMs: number, holdMs = 300): Promise<Pick<ProbeResult, 'ok' | 'error'>> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: BIND_HOST, port });
    let hold: NodeJS.Timeout | undefined;
    let settled = false;
    const done = (result: Pick<ProbeResult, 'ok' | 'error'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(hold);
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, error: 'timed out' }));
    socket.once('connect', () => {
      socket.setTimeout(0);
      hold = setTimeout(() => done({ ok: true }), holdMs);
    });
    socket.once('data', () => done({ ok: true }));
    socket.once('end', () => done({ ok: false, error: 'connection closed at once (nothing listens behind the published port)' }));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, error: error.code ?? error.message }));
  });
}

/** Any HTTP answer below 500 means the app is up (a login page's 302 or 401 included). */
export function probeHttp(port: number, path: string, timeoutMs: number): Promise<Pick<ProbeResult, 'ok' | 'error' | 'status'>> {
  return new Promise((resolve) => {
    const req = http.get({ host: BIND_HOST, port, path, timeout: timeoutMs, headers: { 'user-agent': 'homeport-probe' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status < 500 ? { ok: true, status } : { ok: false, status });
    });
    req.once('timeout', () => req.destroy(new Error('timed out')));
    req.once('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, error: error.code ?? error.message }));
  });
}
