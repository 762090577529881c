/**
 * @module
 * homeportd's settings: defaults, then `<data dir>/config.json`, then HOMEPORT_*
 * environment variables. The data dir is `.homeport/` in the working directory unless
 * HOMEPORT_HOME says otherwise.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isLoopbackName } from './lan-hosts.ts';

export interface NodeConfig {
  dataDir: string;
  /** where `homeport clone` puts repos: `<data dir>/repos` unless HOMEPORT_REPOS_DIR says otherwise */
  reposDir: string;
  nodeId: string;
  /** the edge's base URL (http[s]://host); null runs the node without a tunnel */
  edgeUrl: string | null;
  nodeToken: string | null;
  scanLow: number;
  scanHigh: number;
  scanIntervalMs: number;
  /** ports never reported (Homeport's own edge in local mode) */
  ignorePorts: number[];
  apiHost: string;
  apiPort: number;
  socketPath: string;
  /** the LAN door: the same share routing served straight from the node */
  lanHost: string;
  lanPort: number;
  /** the door listens beyond loopback (or HOMEPORT_LAN_PORT_OFFSET was given): it opens a door port per dev port */
  lanOpen: boolean;
  /** dev port P is served on its own door port P + this offset while the door is open */
  lanPortOffset: number;
  upstreamTimeoutMs: number;
  pingIntervalMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

export function dataDirOf(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.HOMEPORT_HOME ?? '.homeport');
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}

function readSecret(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const dataDir = dataDirOf(env);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = readJson(join(dataDir, 'config.json'));
  const pick = <T>(envName: string, key: string, fallback: T, parse: (v: string) => T): T => {
    if (env[envName] !== undefined && env[envName] !== '') return parse(env[envName]!);
    if (file[key] !== undefined) return file[key] as T;
    return fallback;
  };
  const num = (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`not a number: ${v}`);
    return n;
  };
  const str = (v: string) => v;
  const [scanLow, scanHigh] = pick('HOMEPORT_SCAN_RANGE', 'scanRange', '3000-9999', str).split('-').map(Number);
  if (!(scanLow >= 1 && scanHigh <= 65535 && scanLow <= scanHigh)) throw new Error('scan range must look like 3000-9999');
  const config: NodeConfig = {
    dataDir,
    reposDir: resolve(pick('HOMEPORT_REPOS_DIR', 'reposDir', join(dataDir, 'repos'), str)),
    nodeId: pick('HOMEPORT_NODE_ID', 'nodeId', 'home', str),
    edgeUrl: pick<string | null>('HOMEPORT_EDGE_URL', 'edgeUrl', null, str),
    nodeToken: env.HOMEPORT_NODE_TOKEN || readSecret(join(dataDir, 'node-token')),
    scanLow,
    scanHigh,
    scanIntervalMs: pick('HOMEPORT_SCAN_INTERVAL_MS', 'scanIntervalMs', 5000, num),
    ignorePorts: pick<number[]>('HOMEPORT_IGNORE_PORTS', 'ignorePorts', [], (v) => v.split(',').map(Number).filter(Number.isInteger)),
    apiHost: '127.0.0.1',
    apiPort: pick('HOMEPORT_API_PORT', 'apiPort', 7871, num),
    socketPath: join(dataDir, 'homeportd.sock'),
    lanHost: pick('HOMEPORT_LAN_HOST', 'lanHost', '127.0.0.1', str),
    lanPort: pick('HOMEPORT_LAN_PORT', 'lanPort', 7870, num),
    lanOpen: false,
    lanPortOffset: pick('HOMEPORT_LAN_PORT_OFFSET', 'lanPortOffset', 10_000, num),
    upstreamTimeoutMs: pick('HOMEPORT_UPSTREAM_TIMEOUT_MS', 'upstreamTimeoutMs', 90_000, num),
    pingIntervalMs: pick('HOMEPORT_PING_INTERVAL_MS', 'pingIntervalMs', 25_000, num),
    backoffMinMs: pick('HOMEPORT_BACKOFF_MIN_MS', 'backoffMinMs', 100, num),
    backoffMaxMs: pick('HOMEPORT_BACKOFF_MAX_MS', 'backoffMaxMs', 10_000, num),
  };
  // Door ports serve other devices: open when the door does, or when asked for by their offset.
  config.lanOpen = !isLoopbackName(config.lanHost) || Boolean(env.HOMEPORT_LAN_PORT_OFFSET) || file.lanPortOffset !== undefined;
  return config;
}
