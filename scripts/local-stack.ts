/**
 * @module
 * Starts the whole local stack: the edge in workerd (`wrangler dev`, the same Worker
 * that `wrangler deploy` ships) and a homeportd paired to it. `npm start`, the
 * end-to-end tests and the benchmark all start Homeport through this one module.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pairWithEdge } from '../homenode/src/pairing.ts';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../..');

export interface StackOptions {
  /** the edge's port on 127.0.0.1 */
  port?: number;
  dataDir?: string;
  nodeId?: string;
  /** extra wrangler vars (e.g. UPSTREAM_TIMEOUT_MS) */
  edgeVars?: Record<string, string>;
  /** extra environment for homeportd (e.g. HOMEPORT_SCAN_INTERVAL_MS) */
  nodeEnv?: Record<string, string>;
  /** echo the children's output */
  verbose?: boolean;
}

export interface LocalStack {
  dashboardUrl: string;
  shareBaseUrl: string;
  shareHost: string;
  dataDir: string;
  nodeId: string;
  edgePort: number;
  node: ChildProcess;
  edge: ChildProcess;
  /** the homeportd Unix socket, for API calls */
  socketPath: string;
  /** the local owner's key (`hpl_…`): the owner's credential on this edge, for scripts and tests */
  ownerKey: string;
  /** headers that make a request the owner's: its key as a bearer token */
  ownerHeaders: Record<string, string>;
  /** a new one-time sign-in link for a browser */
  signInLink(): Promise<string>;
  nodeEnv: NodeJS.ProcessEnv;
  startNode(): Promise<void>;
  stopNode(signal?: NodeJS.Signals): Promise<void>;
  startEdge(): Promise<void>;
  stopEdge(signal?: NodeJS.Signals): Promise<void>;
  waitForTunnel(state?: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}


/** Thrown by a probe to stop waiting at once (the process it waits for has died). */
export class GaveUp extends Error {}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      if (error instanceof GaveUp) throw error;
      last = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** GET over the homeportd Unix socket. */
export function nodeApi<T = Record<string, unknown>>(socketPath: string, path: string, method = 'GET', body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath, path, method, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid!, signal); // the whole group: wrangler's workerd child too
  } catch {
    child.kill(signal);
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }, 10_000); // homeportd itself gives its dev servers 5 s, then exits by 7 s
  await exited(child);
  clearTimeout(timer);
}

/**
 * The local mode pairs its node itself, as an owner would: with the local owner's key it
 * makes a pairing code and homeportd's pairing trades it for a token. A token the edge
 * still takes is kept (the edge's state persists in the data dir).
 */
async function pairLocalNode(stack: LocalStack, dashboardHost: string) {
  const edge = `http://127.0.0.1:${stack.edgePort}`;
  const tokenPath = join(stack.dataDir, 'node-token');
  if (existsSync(tokenPath)) {
    const token = readFileSync(tokenPath, 'utf8').trim();
    const probe = await fetch(`${edge}/api/tunnel`, { headers: { host: dashboardHost, authorization: `Bearer ${token}` } });
    if (probe.status === 426) return;
  }
  const made = await fetch(`${edge}/api/pairing-codes`, { method: 'POST', headers: { host: dashboardHost, ...stack.ownerHeaders } });
  if (made.status !== 201) throw new Error(`the local edge refused a pairing code (${made.status}): ${await made.text()}`);
  const { code } = (await made.json()) as { code: string };
  const paired = await pairWithEdge({ edgeUrl: edge, code, name: stack.nodeId, dataDir: stack.dataDir });
  if (paired.nodeId !== stack.nodeId) process.stderr.write(`note: this edge already had a node "${stack.nodeId}"; this one is "${paired.nodeId}"\n`);
  stack.nodeId = paired.nodeId;
}

/**
 * A secret kept in the data dir (0600), made once: the same value across restarts keeps
 * what it protects valid (sealed webhook secrets; the local owner's browser sessions).
 */
function keptSecret(dataDir: string, file: string, make: () => string): string {
  const path = join(dataDir, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, value + '\n', { mode: 0o600 });
  return value;
}

/** The local owner's key (LOCAL_OWNER_KEY): delete the file and restart to sign every browser out. */
export const localOwnerKeyOf = (dataDir: string) => keptSecret(dataDir, 'local-owner.key', () => 'hpl_' + randomBytes(32).toString('base64url'));

/** Asks the edge for a one-time sign-in link with the local owner's key. */
export async function signInLinkOf(edgeUrl: string, dashboardHost: string, ownerKey: string): Promise<string> {
  const res = await fetch(`${edgeUrl}/api/auth/local/links`, { method: 'POST', headers: { host: dashboardHost, authorization: `Bearer ${ownerKey}` } });
  if (res.status !== 201) throw new Error(`the edge refused a sign-in link (${res.status}): ${await res.text()}`);
  return ((await res.json()) as { url: string }).url;
}

/**
 * The key that seals generic webhook endpoints' secrets (the Worker secret
 * WEBHOOK_SECRETS_KEY): kept, so stored endpoints stay readable across restarts.
 */
const webhookSecretsKey = (dataDir: string) => keptSecret(dataDir, 'webhook-secrets.key', () => randomBytes(32).toString('base64'));

export async function startLocalStack(options: StackOptions = {}): Promise<LocalStack> {
  const edgePort = options.port ?? 8787;
  const dataDir = resolve(options.dataDir ?? join(ROOT, '.homeport'));
  const nodeId = options.nodeId ?? 'local';
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const dashboardHost = `localhost:${edgePort}`;
  const ownerKey = localOwnerKeyOf(dataDir);
  const shareHost = `share.localhost:${edgePort}`;
  const vars: Record<string, string> = {
    DASHBOARD_HOST: dashboardHost,
    SHARE_HOST: shareHost,
    PUBLIC_SCHEME: 'http',
    DEFAULT_NODE: nodeId,
    LOCAL_MODE: '1',
    LOCAL_OWNER_KEY: ownerKey,
    WEBHOOK_SECRETS_KEY: webhookSecretsKey(dataDir),
    ...options.edgeVars,
  };
  // Secrets go through a 0600 env file, never on a command line.
  const envFile = join(dataDir, 'edge.env');
  writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });

  const quiet = { WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' };
  const pipe = (child: ChildProcess, name: string) => {
    if (!options.verbose) {
      child.stdout?.resume();
      child.stderr?.resume();
      return;
    }
    child.stdout?.on('data', (d) => process.stdout.write(`[${name}] ${d}`));
    child.stderr?.on('data', (d) => process.stderr.write(`[${name}] ${d}`));
  };

  const nodeEnv: NodeJS.ProcessEnv = {
    ...process.env,
    HOMEPORT_HOME: dataDir,
    HOMEPORT_EDGE_URL: `http://127.0.0.1:${edgePort}`,
    // The local edge is Homeport itself, not a dev server.
    HOMEPORT_IGNORE_PORTS: String(edgePort),
    ...options.nodeEnv,
  };
  const socketPath = join(dataDir, 'homeportd.sock');

  const stack: LocalStack = {
    dashboardUrl: `http://${dashboardHost}`,
    shareBaseUrl: `http://${shareHost}`,
    shareHost,
    dataDir,
    nodeId,
    edgePort,
    socketPath,
    nodeEnv,
    ownerKey,
    ownerHeaders: { authorization: `Bearer ${ownerKey}` },
    signInLink: () => signInLinkOf(`http://127.0.0.1:${edgePort}`, dashboardHost, ownerKey),
    node: null as unknown as ChildProcess,
    edge: null as unknown as ChildProcess,
    async startEdge() {
      const wrangler = join(ROOT, 'node_modules/.bin/wrangler');
      const edge = spawn(
        wrangler,
        ['dev', '--ip', '127.0.0.1', '--port', String(edgePort), '--env-file', envFile, '--persist-to', join(dataDir, 'edge-state'), '--show-interactive-dev-session=false', '--log-level', 'warn', '--inspector-port', '0'],
        { cwd: ROOT, env: { ...process.env, ...quiet }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      pipe(edge, 'edge');
      stack.edge = edge;
      let output = '';
      edge.stderr?.on('data', (d) => (output = (output + d).slice(-4000)));
      await waitFor(
        `the edge on port ${edgePort}`,
        async () => {
          if (edge.exitCode !== null) throw new GaveUp(`wrangler dev exited (${edge.exitCode}): ${output}`);
          const res = await fetch(`http://127.0.0.1:${edgePort}/`, { headers: { host: dashboardHost } });
          return res.status < 500;
        },
        60_000,
      );
    },
    async stopEdge(signal = 'SIGTERM') {
      if (stack.edge) await kill(stack.edge, signal);
    },
    async startNode() {
      const node = spawn(process.execPath, [join(ROOT, 'homenode/bin/homeportd.js')], { cwd: ROOT, env: nodeEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      pipe(node, 'node');
      stack.node = node;
      let output = '';
      node.stderr?.on('data', (d) => (output = (output + d).slice(-4000)));
      await waitFor('homeportd', async () => {
        if (node.exitCode !== null) throw new GaveUp(`homeportd exited (${node.exitCode}): ${output}`);
        return (await nodeApi(socketPath, '/api/status')).node;
      });
    },
    async stopNode(signal = 'SIGTERM') {
      if (stack.node) await kill(stack.node, signal);
    },
    async waitForTunnel(state = 'online', timeoutMs = 30_000) {
      await waitFor(`tunnel ${state}`, async () => ((await nodeApi<{ tunnel: { state: string } }>(socketPath, '/api/status')).tunnel.state === state ? true : undefined), timeoutMs);
    },
    async stop() {
      await Promise.all([stack.stopNode(), stack.stopEdge()]);
    },
  };
  await stack.startEdge();
  await pairLocalNode(stack, dashboardHost);
  await stack.startNode();
  await stack.waitForTunnel();
  return stack;
}
