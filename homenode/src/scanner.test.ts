import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortScanner, connectHostFor, findRepoRoot, fingerprint, parseProcNetTcp, preferredAddress } from './scanner.ts';

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const TCP6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

function line(sl: number, local: string, remote: string, state: string, inode: number) {
  return `   ${sl}: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 100 0 0 10 0`;
}

const procTcp = [
  TCP_HEADER,
  line(0, '0100007F:0BB8', '00000000:0000', '0A', 1001), // 127.0.0.1:3000 LISTEN
  line(1, '00000000:1F90', '00000000:0000', '0A', 1002), // 0.0.0.0:8080 LISTEN
  line(2, '0100007F:0BB8', '0100007F:D431', '01', 1003), // an ESTABLISHED connection to 3000
  line(3, '0501A8C0:15B3', '00000000:0000', '0A', 1004), // 192.168.1.5:5555 LISTEN
  line(4, '0100007F:1389', '00000000:0000', '06', 1005), // TIME_WAIT
  '',
].join('\n');

const procTcp6 = [
  TCP6_HEADER,
  line(0, '00000000000000000000000000000000:1435', '00000000000000000000000000000000:0000', '0A', 2001), // [::]:5173
  line(1, '00000000000000000000000001000000:0BB8', '00000000000000000000000000000000:0000', '0A', 2002), // [::1]:3000
  line(2, '0000000000000000FFFF00000100007F:2328', '00000000000000000000000000000000:0000', '0A', 2003), // [::ffff:127.0.0.1]:9000
  line(3, 'B80D0120000000000000000001000000:01BB', '00000000000000000000000000000000:0000', '0A', 2004), // [2001:db8::1]:443
  line(4, '00000000000000000000000001000000:0BB8', '00000000000000000000000001000000:C350', '01', 2005), // ESTABLISHED
  '',
].join('\n');

describe('parseProcNetTcp', () => {
  it('should list only LISTEN sockets with IPv4 addresses in host byte order', () => {
    expect(parseProcNetTcp(procTcp, 4)).toEqual([
      { port: 3000, address: '127.0.0.1', inode: 1001 },
      { port: 8080, address: '0.0.0.0', inode: 1002 },
      { port: 5555, address: '192.168.1.5', inode: 1004 },
    ]);
  });

  it('should parse IPv6 addresses: ::, ::1, v4-mapped and others', () => {
    const sockets = parseProcNetTcp(procTcp6, 6);
    expect(sockets.map((s) => [s.port, s.inode])).toEqual([
      [5173, 2001],
      [3000, 2002],
      [9000, 2003],
      [443, 2004],
    ]);
    expect(sockets[0].address).toBe('::');
    expect(sockets[1].address).toBe('::1');
    expect(sockets[2].address).toBe('::ffff:127.0.0.1');
    // Whatever notation, it must be the same address as 2001:db8::1.
    expect(new URL(`http://[${sockets[3].address}]/`).hostname).toBe('[2001:db8::1]');
  });

  it('should ignore the header, blank lines and garbage', () => {
    expect(parseProcNetTcp('', 4)).toEqual([]);
    expect(parseProcNetTcp(TCP_HEADER + '\n', 4)).toEqual([]);
    expect(parseProcNetTcp(`${TCP_HEADER}\nnot a line\n   0: short 0A\n`, 4)).toEqual([]);
  });
});

describe('findRepoRoot', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'homeport-scan-root-')));
    await mkdir(join(dir, 'repo', '.git'), { recursive: true });
    await mkdir(join(dir, 'repo', 'src', 'deep'), { recursive: true });
    await mkdir(join(dir, 'worktree', 'pkg'), { recursive: true });
    await writeFile(join(dir, 'worktree', '.git'), 'gitdir: /elsewhere\n');
    await mkdir(join(dir, 'plain'), { recursive: true });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('should find the folder holding .git from itself and from below', async () => {
    expect(await findRepoRoot(join(dir, 'repo'))).toBe(join(dir, 'repo'));
    expect(await findRepoRoot(join(dir, 'repo', 'src', 'deep'))).toBe(join(dir, 'repo'));
  });

  it('should accept a .git file (worktrees and submodules)', async () => {
    expect(await findRepoRoot(join(dir, 'worktree', 'pkg'))).toBe(join(dir, 'worktree'));
  });

  it('should return null outside any repository', async () => {
    expect(await findRepoRoot(join(dir, 'plain'))).toBeNull();
  });
});

describe('PortScanner on a fake /proc', () => {
  let proc: string;
  let repo: string;
  beforeAll(async () => {
    const base = await realpath(await mkdtemp(join(tmpdir(), 'homeport-fakeproc-')));
    proc = join(base, 'proc');
    repo = join(base, 'my-app');
    await mkdir(join(repo, '.git'), { recursive: true });
    await mkdir(join(proc, 'net'), { recursive: true });
    await writeFile(join(proc, 'net', 'tcp'), procTcp);
    await writeFile(join(proc, 'net', 'tcp6'), procTcp6);
    // pid 42 owns both sockets of port 3000 and runs in the repo; pid 43 owns 8080 and has no repo.
    for (const [pid, cwd, sockets, cmd] of [
      [42, repo, [1001, 2002], 'node\0server.js\0'],
      [43, base, [1002], 'python3\0-m\0http.server\0'],
    ] as const) {
      await mkdir(join(proc, String(pid), 'fd'), { recursive: true });
      await writeFile(join(proc, String(pid), 'cmdline'), cmd);
      await symlink(cwd, join(proc, String(pid), 'cwd'));
      await symlink('/dev/null', join(proc, String(pid), 'fd', '0'));
      for (const [i, inode] of sockets.entries()) await symlink(`socket:[${inode}]`, join(proc, String(pid), 'fd', String(10 + i)));
    }
  });
  afterAll(() => rm(join(proc, '..'), { recursive: true, force: true }));

  it('should merge IPv4 and IPv6 sockets per port and tie them to their process and repo', async () => {
    const scanner = new PortScanner({ low: 3000, high: 9999, procRoot: proc });
    const ports = await scanner.scan();
    expect(ports.map((p) => p.port)).toEqual([3000, 5173, 5555, 8080, 9000]);
    const p3000 = ports.find((p) => p.port === 3000)!;
    expect(p3000).toMatchObject({ address: '127.0.0.1', pid: 42, command: 'node server.js', cwd: repo, repo: { root: repo, name: 'my-app' } });
    expect(ports.find((p) => p.port === 8080)).toMatchObject({ address: '0.0.0.0', pid: 43, command: 'python3 -m http.server', repo: null });
    expect(ports.find((p) => p.port === 5173)).toMatchObject({ address: '::', pid: null, command: null, cwd: null, repo: null });
    // Out of range: 443.
    expect(ports.some((p) => p.port === 443)).toBe(false);
    const again = await scanner.scan();
    expect(again.find((p) => p.port === 3000)!.firstSeen).toBe(p3000.firstSeen);
    expect(fingerprint(again)).toBe(fingerprint(ports));
  });

  it('should leave out ignored processes', async () => {
    const ports = await new PortScanner({ low: 3000, high: 9999, procRoot: proc, ignorePids: [42] }).scan();
    expect(ports.map((p) => p.port)).toEqual([5173, 5555, 8080, 9000]);
  });
});

describe('PortScanner on this machine', () => {
  let repo: string;
  let child: ChildProcess;
  let port: number;

  beforeAll(async () => {
    repo = await realpath(await mkdtemp(join(tmpdir(), 'homeport-scan-repo-')));
    await mkdir(join(repo, '.git'));
    const script = "const s=require('http').createServer((q,r)=>r.end('ok'));s.listen(0,'127.0.0.1',()=>console.log('PORT '+s.address().port));";
    child = spawn(process.execPath, ['-e', script], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /PORT (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`dev server exited with ${code}`)));
    });
  });
  afterAll(async () => {
    child?.kill();
    await rm(repo, { recursive: true, force: true });
  });

  it('should find a real dev server with its pid, cwd and repo', async () => {
    const scanner = new PortScanner({ low: port - 2, high: port + 2 });
    const ports = await scanner.scan();
    const found = ports.find((p) => p.port === port);
    expect(found).toBeDefined();
    expect(found).toMatchObject({ address: '127.0.0.1', pid: child.pid, cwd: repo, repo: { root: repo, name: repo.split('/').pop() } });
    expect(found!.command).toContain('-e');
  });

  it('should not report the ports of ignored pids', async () => {
    const ports = await new PortScanner({ low: port, high: port, ignorePids: [child.pid!] }).scan();
    expect(ports).toEqual([]);
    const others = await new PortScanner({ low: port, high: port, ignorePids: [process.pid] }).scan();
    expect(others.map((p) => p.pid)).toEqual([child.pid]);
  });
});

describe('preferredAddress', () => {
  it('should prefer IPv4 wildcard, then IPv4 loopback, then IPv6', () => {
    expect(preferredAddress(['::', '0.0.0.0'])).toBe('0.0.0.0');
    expect(preferredAddress(['::1', '127.0.0.1'])).toBe('127.0.0.1');
    expect(preferredAddress(['127.0.0.1', '0.0.0.0'])).toBe('0.0.0.0');
    expect(preferredAddress(['::1', '::'])).toBe('::');
    expect(preferredAddress(['::1'])).toBe('::1');
    expect(preferredAddress(['192.168.1.5'])).toBe('192.168.1.5');
  });
});

describe('connectHostFor', () => {
  it('should connect to loopback for wildcard and loopback listeners', () => {
    expect(connectHostFor(undefined)).toBe('127.0.0.1');
    expect(connectHostFor('0.0.0.0')).toBe('127.0.0.1');
    expect(connectHostFor('::')).toBe('127.0.0.1');
    expect(connectHostFor('127.0.0.1')).toBe('127.0.0.1');
    expect(connectHostFor('127.0.0.2')).toBe('127.0.0.2');
    expect(connectHostFor('::1')).toBe('::1');
  });

  it('should unwrap v4-mapped addresses and keep a single LAN address', () => {
    expect(connectHostFor('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(connectHostFor('::ffff:192.168.1.5')).toBe('192.168.1.5');
    expect(connectHostFor('192.168.1.5')).toBe('192.168.1.5');
  });
});
