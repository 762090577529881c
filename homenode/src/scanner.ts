/**
 * @module
 * Port discovery: listening TCP sockets from /proc/net/tcp and tcp6, tied to the
 * process that owns them (socket inode → /proc/<pid>/fd), its working directory and
 * the git repository that directory belongs to.
 */
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { PortInfo } from '@homeport/shared';

const TCP_LISTEN = '0A';

export interface ListeningSocket {
  port: number;
  address: string;
  inode: number;
}

function ipv4(hex: string): string {
  // /proc prints the address as a host-order 32-bit word.
  const n = parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

function ipv6(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < 4; word++) {
    const w = hex.slice(word * 8, word * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(parseInt(w.slice(b * 2, b * 2 + 2), 16));
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  const full = groups.join(':');
  if (full === '0:0:0:0:0:0:0:0') return '::';
  if (full === '0:0:0:0:0:0:0:1') return '::1';
  if (full.startsWith('0:0:0:0:0:ffff:')) return '::ffff:' + ipv4(hex.slice(24, 32));
  return full;
}

/** Parses the text of /proc/net/tcp or tcp6 into listening sockets. */
export function parseProcNetTcp(text: string, family: 4 | 6): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10 || cols[3] !== TCP_LISTEN) continue;
    const [addrHex, portHex] = cols[1].split(':');
    const port = parseInt(portHex, 16);
    const inode = Number(cols[9]);
    if (!Number.isInteger(port) || !addrHex) continue;
    out.push({ port, address: family === 4 ? ipv4(addrHex) : ipv6(addrHex), inode });
  }
  return out;
}

/** Walks up from `dir` to the folder holding `.git`; null outside any repository. */
export async function findRepoRoot(dir: string): Promise<string | null> {
  let current = dir;
  for (;;) {
    try {
      await stat(join(current, '.git'));
      return current;
    } catch {
      const parent = dirname(current);
      if (parent === current) return null;
      current = parent;
    }
  }
}

export interface ScanOptions {
  low: number;
  high: number;
  procRoot?: string;
  /** processes whose ports are not reported (homeportd itself) */
  ignorePids?: number[];
  ignorePorts?: number[];
}

export class PortScanner {
  /** socket inode → pid, kept between scans so only new sockets cost a walk of /proc */
  #owners = new Map<number, number>();
  #firstSeen = new Map<string, number>();
  readonly #proc: string;

  constructor(private readonly options: ScanOptions) {
    this.#proc = options.procRoot ?? '/proc';
  }

  async listening(): Promise<ListeningSocket[]> {
    const read = (f: string) => readFile(join(this.#proc, 'net', f), 'utf8').catch(() => '');
    const [v4, v6] = await Promise.all([read('tcp'), read('tcp6')]);
    const { low, high } = this.options;
    const ignored = new Set(this.options.ignorePorts ?? []);
    return [...parseProcNetTcp(v4, 4), ...parseProcNetTcp(v6, 6)].filter((s) => s.port >= low && s.port <= high && !ignored.has(s.port));
  }

  async #mapOwners(inodes: Set<number>) {
    const missing = [...inodes].filter((i) => !this.#owners.has(i));
    if (!missing.length) return;
    const wanted = new Set(missing);
    const pids = (await readdir(this.#proc).catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
    await Promise.all(
      pids.map(async (pid) => {
        const fdDir = join(this.#proc, pid, 'fd');
        const fds = await readdir(fdDir).catch(() => [] as string[]);
        for (const fd of fds) {
          const link = await readlink(join(fdDir, fd)).catch(() => '');
          const m = /^socket:\[(\d+)\]$/.exec(link);
          if (m && wanted.has(Number(m[1]))) this.#owners.set(Number(m[1]), Number(pid));
        }
      }),
    );
  }

  async #process(pid: number) {
    const [cwd, cmdline] = await Promise.all([
      readlink(join(this.#proc, String(pid), 'cwd')).catch(() => null),
      readFile(join(this.#proc, String(pid), 'cmdline'), 'utf8').catch(() => ''),
    ]);
    const command = cmdline.split('\0').filter(Boolean).join(' ').slice(0, 300) || null;
    return { cwd, command };
  }

  /** One scan: every listening port in range, one entry per port (IPv4 and IPv6 merged). */
  async scan(): Promise<PortInfo[]> {
    const sockets = await this.listening();
    const inodes = new Set(sockets.map((s) => s.inode));
    await this.#mapOwners(inodes);
    for (const inode of this.#owners.keys()) if (!inodes.has(inode)) this.#owners.delete(inode);

    const byPort = new Map<number, ListeningSocket[]>();
    for (const s of sockets) byPort.set(s.port, [...(byPort.get(s.port) ?? []), s]);
    const now = Date.now();
    const ports: PortInfo[] = [];
    for (const [port, list] of [...byPort].sort((a, b) => a[0] - b[0])) {
      const pid = list.map((s) => this.#owners.get(s.inode)).find((p) => p !== undefined) ?? null;
      if (pid !== null && this.options.ignorePids?.includes(pid)) continue;
      const proc = pid ? await this.#process(pid) : { cwd: null, command: null };
      const root = proc.cwd ? await findRepoRoot(proc.cwd) : null;
      const key = `${port}:${pid}`;
      if (!this.#firstSeen.has(key)) this.#firstSeen.set(key, now);
      ports.push({
        port,
        address: preferredAddress(list.map((s) => s.address)),
        pid,
        command: proc.command,
        cwd: proc.cwd,
        repo: root ? { root, name: basename(root) } : null,
        firstSeen: this.#firstSeen.get(key)!,
      });
    }
    const live = new Set(ports.map((p) => `${p.port}:${p.pid}`));
    for (const key of this.#firstSeen.keys()) if (!live.has(key)) this.#firstSeen.delete(key);
    return ports;
  }
}

/** The address to connect to: IPv4 loopback when it listens there, else IPv6 loopback. */
export function preferredAddress(addresses: string[]): string {
  if (addresses.some((a) => a === '0.0.0.0' || a === '127.0.0.1')) return addresses.includes('0.0.0.0') ? '0.0.0.0' : '127.0.0.1';
  if (addresses.includes('::')) return '::';
  if (addresses.includes('::1')) return '::1';
  return addresses[0];
}

/** Where the proxy connects for a port listening on `address`. */
export function connectHostFor(address: string | undefined): string {
  if (!address) return '127.0.0.1';
  if (address === '::1') return '::1';
  if (address === '0.0.0.0' || address === '::' || address.startsWith('127.')) return address.startsWith('127.') ? address : '127.0.0.1';
  if (address.startsWith('::ffff:')) return address.slice(7);
  // Bound to one LAN address only: connect there.
  return address;
}

/** A stable fingerprint of a port list, to send changes only. */
export function fingerprint(ports: PortInfo[]): string {
  return ports.map((p) => `${p.port}/${p.address}/${p.pid}/${p.cwd}/${p.repo?.root}`).join('|');
}
