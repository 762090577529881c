/**
 * @module
 * Process plumbing for the bench: free ports, children written in TypeScript (forked
 * through tsx), waiting for them, killing them by process group, and CPU time read
 * from /proc so the tables can say which process spent it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../scripts/local-stack.ts';

export { freePort } from '../scripts/ports.ts';

/** Forks a bench/*.ts helper in its own process group; it reports readiness over IPC. */
export function forkHelper(file: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return fork(join(ROOT, 'bench', file), args, {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The first IPC message of a helper, or its death. */
export function firstMessage<T>(child: ChildProcess, what: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}`)), timeoutMs);
    const onMessage = (m: T) => done(null, m);
    const onExit = (code: number | null) => done(new Error(`${what} exited (${code}) before it was ready`));
    function done(error: Error | null, value?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Ends a child and everything in its process group (wrangler's workerd too). */
export async function killGroup(child: ChildProcess | null | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      try {
        child.kill(s);
      } catch {
        // gone
      }
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

interface ProcStat {
  pid: number;
  comm: string;
  pgrp: number;
  /** user + system CPU, ms */
  cpuMs: number;
}

const TICK_MS = 10; // CLK_TCK is 100 on Linux

function statOf(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    // fields[0] is the state (field 3); pgrp is field 5, utime 14, stime 15
    return { pid, comm, pgrp: Number(fields[2]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
  } catch {
    return null;
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Every process in the process group `pgrp`. */
export function groupMembers(pgrp: number): (ProcStat & { cmdline: string })[] {
  const out: (ProcStat & { cmdline: string })[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = statOf(Number(name));
    if (s && s.pgrp === pgrp) out.push({ ...s, cmdline: cmdlineOf(s.pid) });
  }
  return out;
}

/**
 * Names the processes of a `wrangler dev` group: wrangler's own Node process, the
 * workerd that runs its proxy worker on the public port (`<prefix>-proxy`), the workerd
 * that runs the Worker and its Durable Objects (`<prefix>-workerd`), esbuild.
 */
export function wranglerParts(pgrp: number, prefix: string, publicPort: number): Meter[] {
  return [
    {
      label: `${prefix}-workerd`,
      pids: () => groupMembers(pgrp).filter((p) => p.comm === 'workerd' && !p.cmdline.includes(`entry=127.0.0.1:${publicPort} `)).map((p) => p.pid),
    },
    {
      label: `${prefix}-proxy`,
      pids: () => groupMembers(pgrp).filter((p) => p.comm === 'workerd' && p.cmdline.includes(`entry=127.0.0.1:${publicPort} `)).map((p) => p.pid),
    },
    { label: `${prefix}-wrangler`, pids: () => groupMembers(pgrp).filter((p) => p.comm !== 'workerd').map((p) => p.pid) },
  ];
}

/** A named set of processes (found afresh at each sample: wrangler may restart workerd). */
export interface Meter {
  label: string;
  pids: () => number[];
}

/** CPU ms so far per process: pid → [label, ms]; the bench process itself is `client`. */
export type CpuSample = Map<number, [string, number]>;

export function sampleCpu(meters: Meter[]): CpuSample {
  const out: CpuSample = new Map();
  const self = process.cpuUsage(); // first, so the /proc reads below count before the measurement
  for (const m of meters) for (const pid of m.pids()) {
    const s = statOf(pid);
    if (s) out.set(pid, [m.label, s.cpuMs]);
  }
  out.set(process.pid, ['client', (self.user + self.system) / 1000]);
  return out;
}

/** CPU ms spent between two samples, per label (processes present in both). */
export function cpuDelta(before: CpuSample, after: CpuSample): Map<string, number> {
  const out = new Map<string, number>();
  for (const [pid, [label, ms]] of after) {
    const was = before.get(pid);
    if (was) out.set(label, (out.get(label) ?? 0) + ms - was[1]);
  }
  return out;
}
