import { describe, expect, it } from 'vitest';
import { parseStat, readProcTable, startTimeOf, treeOf, type ProcEntry } from './proc-tree.ts';

function stat(pid: number, comm: string, state: string, ppid: number, pgrp: number, utime: number, stime: number, start: number) {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime prio nice threads itreal starttime …
  return `${pid} (${comm}) ${state} ${ppid} ${pgrp} ${pgrp} 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 1 0 ${start} 1000 50 18446744073709551615`;
}

const entry = (pid: number, ppid: number, pgrp: number, extra: Partial<ProcEntry> = {}): ProcEntry => ({ pid, ppid, pgrp, state: 'S', cpuTicks: 1, startTime: pid * 10, ...extra });

describe('parseStat', () => {
  it('should read pid, parents, CPU ticks and start time, even with ") " in the name', () => {
    expect(parseStat(stat(42, 'my (odd) name', 'R', 7, 40, 120, 30, 9999))).toEqual({ pid: 42, ppid: 7, pgrp: 40, state: 'R', cpuTicks: 150, startTime: 9999 });
  });

  it('should read this very process from /proc', async () => {
    const table = await readProcTable();
    const self = table.get(process.pid)!;
    expect(self.ppid).toBe(process.ppid);
    expect(self.startTime).toBe(startTimeOf(process.pid));
    expect(self.cpuTicks).toBeGreaterThan(0);
  });
});

describe('treeOf', () => {
  const leader = { pid: 100, startTime: 1000 };

  it('should take the group and descendants that left it, and nothing else', () => {
    const table = new Map(
      [
        entry(1, 0, 1),
        entry(100, 1, 100), // the shell we spawned
        entry(101, 100, 100), // npm
        entry(102, 101, 102), // a child that called setsid
        entry(103, 102, 102), // and its child
        entry(104, 1, 100), // a group member whose parent died (reparented to init)
        entry(105, 101, 100, { state: 'Z' }), // a zombie holds nothing
        entry(200, 1, 200), // someone else's server
        entry(201, 200, 200),
      ].map((e) => [e.pid, e]),
    );
    expect(
      treeOf(leader, table)
        .map((p) => p.pid)
        .sort(),
    ).toEqual([100, 101, 102, 103, 104]);
  });

  it('should see nothing when the leader pid now belongs to another process', () => {
    const table = new Map([entry(100, 1, 100, { startTime: 5555 }), entry(101, 100, 100)].map((e) => [e.pid, e]));
    expect(treeOf(leader, table)).toEqual([]);
  });
});
