/**
 * @module
 * Test fixtures with real git: work trees with commits, bare remotes, and a smart-HTTP
 * git server (git http-backend behind node:http) that can demand a token and records
 * what it saw. Used by the repos tests; nothing here runs in homeportd.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const IDENTITY = { GIT_AUTHOR_NAME: 'Ada Tester', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada Tester', GIT_COMMITTER_EMAIL: 'ada@example.com' };

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...IDENTITY, GIT_CONFIG_GLOBAL: '/dev/null' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function tempDir(prefix = 'homeport-git-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A work tree on branch main with one commit holding `files`. */
export function makeWorkTree(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  commitFiles(dir, files, 'first commit');
  return dir;
}

export function commitFiles(dir: string, files: Record<string, string>, message: string): string {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD').trim();
}

/** Enough files that git prints progress meters while cloning. */
export function manyFiles(count = 60): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`src/file-${i}.txt`, `file ${i}\n`.repeat(50 + i)]));
}

export interface Remote {
  /** the bare repository */
  bare: string;
  /** a work tree pushing to it, to make "someone else's" commits */
  upstream: string;
  url: string;
}

/** A bare repo `name.git` (served as file://) and an upstream work tree that pushes to it. */
export function makeRemote(name = 'demo', files: Record<string, string> = { 'package.json': JSON.stringify({ scripts: { dev: 'vite' }, devDependencies: { vite: '^7' } }), ...manyFiles() }): Remote {
  const root = tempDir('homeport-remote-');
  const upstream = makeWorkTree(join(root, 'upstream'), files);
  const bare = join(root, `${name}.git`);
  git(root, 'clone', '-q', '--bare', upstream, bare);
  git(upstream, 'remote', 'add', 'origin', bare);
  git(upstream, 'fetch', '-q', 'origin');
  git(upstream, 'branch', '-q', '--set-upstream-to=origin/main', 'main');
  return { bare, upstream, url: `file://${bare}` };
}

export interface GitHttpServer {
  url: string;
  /** Authorization headers of the requests, in order */
  authorizations: (string | undefined)[];
  /** command lines of git processes seen while requests were served */
  gitCommandLines: string[];
  close(): Promise<void>;
}

/** Command lines of every process whose argv mentions git. */
function gitProcesses(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (/\bgit\b|git-remote/.test(cmdline)) out.push(cmdline);
    } catch {
      // gone already
    }
  }
  return out;
}

/**
 * Serves the bare repos under `root` over smart HTTP. With `token`, every request must
 * carry `Authorization: Basic base64(x-access-token:<token>)`, as GitHub accepts.
 */
export async function startGitHttpServer(root: string, token?: string): Promise<GitHttpServer> {
  const authorizations: (string | undefined)[] = [];
  const gitCommandLines: string[] = [];
  const expected = token ? `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}` : undefined;
  const server = http.createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    gitCommandLines.push(...gitProcesses());
    if (expected && req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
      res.end('unauthorized');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersSent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const i = line.indexOf(':');
        const [k, v] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
        if (k.toLowerCase() === 'status') status = parseInt(v, 10);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      headersSent = true;
      res.write(head.subarray(end + 4));
    });
    child.on('close', () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    authorizations,
    gitCommandLines,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
