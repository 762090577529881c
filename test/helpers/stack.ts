/**
 * @module
 * Shared helpers for end-to-end tests: a local stack on free ports with its own data
 * dir, dev servers started in their own git repos, and HTTP clients that address the
 * edge's share host (Node cannot resolve *.localhost, so we send the Host header).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, nodeApi, startLocalStack, waitFor, type LocalStack, type StackOptions } from '../../scripts/local-stack.ts';
import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core';
import { freePort } from './ports.ts';

export { nodeApi, waitFor, ROOT };
export type { LocalStack };

export interface TestStack extends LocalStack {
  lanPort: number;
  /** runs the homeport CLI against this stack's node */
  cli(...args: string[]): { code: number; stdout: string; stderr: string };
}

export async function startTestStack(options: StackOptions = {}): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'homeport-e2e-'));
  const lanPort = await freePort(10000, 20000);
  const apiPort = await freePort(20001, 30000);
  const stack = (await startLocalStack({
    port: await freePort(30001, 40000),
    dataDir,
    ...options,
    // Test only: lets a request say `x-test-client-ip` to play a client from elsewhere
    // (a local edge records every client as "local": it cannot know who connects).
    edgeVars: { TRUST_TEST_CLIENT_IP: '1', ...options.edgeVars },
    nodeEnv: {
      HOMEPORT_SCAN_INTERVAL_MS: '300',
      HOMEPORT_BACKOFF_MIN_MS: '50',
      HOMEPORT_BACKOFF_MAX_MS: '500',
      HOMEPORT_LAN_PORT: String(lanPort),
      HOMEPORT_API_PORT: String(apiPort),
      ...options.nodeEnv,
    },
  })) as TestStack;
  stack.lanPort = lanPort;
  stack.cli = (...args: string[]) => {
    try {
      const stdout = execFileSync(process.execPath, [join(ROOT, 'homenode/bin/homeport.js'), ...args], {
        env: { ...process.env, HOMEPORT_HOME: dataDir },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { code: 0, stdout, stderr: '' };
    } catch (error) {
      const e = error as { status: number; stdout: string; stderr: string };
      return { code: e.status, stdout: e.stdout, stderr: e.stderr };
    }
  };
  return stack;
}

export interface DevServer {
  port: number;
  repo: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A fresh git repository in a temp dir, named `name`. */
export function makeRepo(name: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'homeport-repo-')), name);
  mkdirSync(dir);
  execFileSync('git', ['init', '-q', dir]);
  return dir;
}

/** Starts test/fixtures/dev-server.mjs with its cwd in a new git repo. */
export async function startDevServer(name = 'demo-app', port?: number): Promise<DevServer> {
  const p = port ?? (await freePort());
  const repo = makeRepo(name);
  const child = spawn(process.execPath, [join(ROOT, 'test/fixtures/dev-server.mjs'), String(p)], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`dev server exited ${code}`)));
  });
  return {
    port: p,
    repo,
    process: child,
    stop: () =>
      new Promise((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill();
      }),
  };
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
  /** the Host header; defaults to the share host */
  host?: string;
  port?: number;
}

/** One request to 127.0.0.1:<edge port> (or `port`) with the given Host; reads the whole body. */
export function request(stack: LocalStack, path: string, options: RequestOptions = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: options.port ?? stack.edgePort,
        // A connection per request: a kept-alive socket the server closes as the next request
        // goes out fails that request with "socket hang up", which says nothing about Homeport.
        agent: false,
        path,
        method: options.method ?? 'GET',
        // Node sends a DELETE/OPTIONS body with no length at all unless told: always say it.
        headers: { host: options.host ?? stack.shareHost, ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString() });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A request as the node's owner: the local owner's key as a bearer token (nobody is the
 * owner by address). A test that gives its own Authorization header keeps it.
 */
export function ownerRequest(stack: LocalStack, path: string, options: RequestOptions = {}): Promise<SimpleResponse> {
  return request(stack, path, { ...options, headers: { ...stack.ownerHeaders, ...options.headers } });
}

/** Signs a browser context in as the local owner, through a one-time sign-in link as a person would. */
export async function signInOwner(context: BrowserContext, stack: LocalStack): Promise<void> {
  const page = await context.newPage();
  await page.goto(await stack.signInLink());
  await page.close();
}

/** A new browser context, signed in as the local owner. */
export async function ownerContext(browser: Browser, stack: LocalStack, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  await signInOwner(context, stack);
  return context;
}

/** Resident memory of a process, in bytes (from /proc). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** The workerd process started under a wrangler dev process. */
export function workerdPidOf(wranglerPid: number): number {
  const children = (pid: number): number[] =>
    readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          return Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid;
        } catch {
          return false;
        }
      })
      .map(Number);
  const queue = [wranglerPid];
  while (queue.length) {
    const pid = queue.shift()!;
    for (const child of children(pid)) {
      const cmd = readFileSync(`/proc/${child}/cmdline`, 'utf8');
      if (cmd.includes('workerd')) return child;
      queue.push(child);
    }
  }
  throw new Error('no workerd process under wrangler');
}

export function writeFile(path: string, text: string) {
  writeFileSync(path, text);
}
