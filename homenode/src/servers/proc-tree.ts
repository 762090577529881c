/**
 * @module
 * The processes of one supervised server, read from /proc: its process group plus any
 * descendant that left the group (setsid), their CPU ticks and resident memory, and
 * signals sent to exactly those processes and nothing else.
 *
 * A group is known by its leader's pid *and start time*, so a recycled pid never makes
 * us touch someone else's processes: Linux does not hand out a pid while a process
 * group of that id still has members, and a leader pid that reappears with another
 * start time means our group is gone.
 */
import { readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every Linux we run on). */
export const TICK_MS = 10;

export interface ProcEntry {
  pid: number;
  ppid: number;
  pgrp: number;
  /** R, S, D, Z, T… */
  state: string;
  /** utime + stime, in ticks */
  cpuTicks: number;
  /** since boot, in ticks */
  startTime: number;
}

/** The group we spawned: its leader's pid and start time. */
export interface GroupLeader {
  pid: number;
  startTime: number;
}

/** Parses one /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export function parseStat(text: string): ProcEntry | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // After ") ": state(3) ppid(4) pgrp(5) … utime(14) stime(15) … starttime(22)
  const f = text.slice(close + 2).split(' ');
  const entry = { pid, ppid: Number(f[1]), pgrp: Number(f[2]), state: f[0], cpuTicks: Number(f[11]) + Number(f[12]), startTime: Number(f[19]) };
  return Number.isInteger(pid) && Number.isFinite(entry.cpuTicks) ? entry : null;
}

/** One pass over /proc: every process, by pid. */
export async function readProcTable(procRoot = '/proc'): Promise<Map<number, ProcEntry>> {
  const names = (await readdir(procRoot).catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
  const table = new Map<number, ProcEntry>();
  await Promise.all(
    names.map(async (name) => {
      const text = await readFile(join(procRoot, name, 'stat'), 'utf8').catch(() => null);
      const entry = text ? parseStat(text) : null;
      if (entry) table.set(entry.pid, entry);
    }),
  );
  return table;
}

/** The start time of a live process, or null when it is gone. */
export function startTimeOf(pid: number, procRoot = '/proc'): number | null {
  try {
    return parseStat(readFileSync(join(procRoot, String(pid), 'stat'), 'utf8'))?.startTime ?? null;
  } catch {
    return null;
  }
}

/**
 * The live (non-zombie) processes of the group led by `leader`: members of the process
 * group, and every descendant of the leader or of a member, wherever its group is.
 */
export function treeOf(leader: GroupLeader, table: Map<number, ProcEntry>): ProcEntry[] {
  const head = table.get(leader.pid);
  if (head && head.startTime !== leader.startTime) return []; // the pid was recycled: ours is gone
  const children = new Map<number, ProcEntry[]>();
  for (const p of table.values()) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const found = new Map<number, ProcEntry>();
  const queue: ProcEntry[] = [...table.values()].filter((p) => p.pgrp === leader.pid);
  if (head) queue.push(head);
  while (queue.length) {
    const p = queue.pop()!;
    if (found.has(p.pid)) continue;
    found.set(p.pid, p);
    queue.push(...(children.get(p.pid) ?? []));
  }
  return [...found.values()].filter((p) => p.state !== 'Z');
}

/** Resident memory of the processes, summed (VmRSS from /proc/<pid>/status). */
export async function rssBytesOf(pids: number[], procRoot = '/proc'): Promise<number> {
  const sizes = await Promise.all(
    pids.map(async (pid) => {
      const text = await readFile(join(procRoot, String(pid), 'status'), 'utf8').catch(() => '');
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
      return m ? Number(m[1]) * 1024 : 0;
    }),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

function kill(target: number, signal: NodeJS.Signals) {
  try {
    process.kill(target, signal);
  } catch {
    // already gone
  }
}

/**
 * Sends `signal` to the group and to descendants that left it. Returns how many live
 * processes the tree had (0: nothing left, nothing signalled).
 */
export async function signalTree(leader: GroupLeader, signal: NodeJS.Signals, procRoot = '/proc'): Promise<number> {
  const tree = treeOf(leader, await readProcTable(procRoot));
  if (!tree.length) return 0;
  // The group id is only used while the group has members, so it cannot be someone else's.
  if (tree.some((p) => p.pgrp === leader.pid)) kill(-leader.pid, signal);
  for (const p of tree) if (p.pgrp !== leader.pid) kill(p.pid, signal);
  return tree.length;
}

/** Waits until the tree has no live process; false when `timeoutMs` passed first. */
export async function waitTreeGone(leader: GroupLeader, timeoutMs: number, procRoot = '/proc'): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!treeOf(leader, await readProcTable(procRoot)).length) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
