/**
 * @module
 * The LAN door's URLs. Every dev port gets its own origin, because stock dev servers
 * (Vite, Next.js) load root-absolute paths and open HMR sockets at the root:
 * - on this machine `http://<port>.localhost:<lan port>/` (browsers resolve *.localhost
 *   to loopback, no DNS needed);
 * - while the door is open to the LAN (HOMEPORT_LAN_HOST not loopback), dev port P has its
 *   own door port P + HOMEPORT_LAN_PORT_OFFSET (10000: 5173 → 15173) on the LAN host,
 *   which a phone reaches with no DNS of the user's;
 * - the path form `/<port>/` only for apps built with that base path (opt-in per port).
 * The LAN key rides along once as `?homeport_key=`; the door trades it for a cookie.
 */
import type { NodeConfig } from './config.ts';
import { isWildcard, lanAddress } from './lan-hosts.ts';
import { secretFile } from './secrets.ts';

type LanConfig = Pick<NodeConfig, 'lanHost' | 'lanPort' | 'lanOpen' | 'lanPortOffset'>;

/** The host name other devices use for the door (a LAN address when it listens everywhere). */
export function lanHostForUrls(config: Pick<NodeConfig, 'lanHost'>): string {
  if (isWildcard(config.lanHost)) return lanAddress() ?? '127.0.0.1';
  return config.lanHost.includes(':') && !config.lanHost.startsWith('[') ? `[${config.lanHost}]` : config.lanHost;
}

/** The door port that serves dev port `port` on its own, or null while the door is closed to the LAN. */
export function doorPortOf(config: LanConfig, port: number): number | null {
  const door = port + config.lanPortOffset;
  return config.lanOpen && config.lanPortOffset > 0 && door <= 65535 && door !== config.lanPort ? door : null;
}

/** The URL of dev port `port` on the LAN door; `pathForm` for apps served under /<port>/. */
export function lanUrlOf(config: LanConfig, port: number, pathForm = false): string {
  if (pathForm) return `http://${lanHostForUrls(config)}:${config.lanPort}/${port}/`;
  const door = doorPortOf(config, port);
  return door ? `http://${lanHostForUrls(config)}:${door}/` : `http://${port}.localhost:${config.lanPort}/`;
}

/** The LAN door's key (generated on first use, kept in the data dir). */
export function lanKeyOf(dataDir: string): string {
  return secretFile(dataDir, 'lan-key');
}

/** `url` with the LAN key for a browser's first visit (the door swaps it for a cookie). */
export function withLanKey(url: string, key: string): string {
  const u = new URL(url);
  u.searchParams.set('homeport_key', key);
  return u.toString();
}
