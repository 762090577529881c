/**
 * @module
 * Which Host names reach this machine: loopback names, `*.localhost`, the LAN door's
 * configured host and the addresses of its own network interfaces. The LAN door answers
 * only these (DNS rebinding), and an edge URL on one of them is Homeport's own.
 */
import { networkInterfaces } from 'node:os';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

let cached: { at: number; addresses: string[] } | null = null;

/** This machine's interface addresses, IPv6 in brackets (re-read at most every 5 s: DHCP may change them). */
export function interfaceAddresses(): string[] {
  if (cached && Date.now() - cached.at < 5_000) return cached.addresses;
  const addresses = Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a ? [a.family === 'IPv6' ? `[${a.address.replace(/%.*$/, '')}]` : a.address] : []));
  cached = { at: Date.now(), addresses };
  return addresses;
}

/** The first LAN (non-loopback) IPv4 address, for URLs when the door listens on every interface. */
export function lanAddress(): string | null {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  return found?.address ?? null;
}

export function isLoopbackName(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return LOOPBACK_NAMES.has(h) || h.endsWith('.localhost') || /^127\./.test(h);
}

export function isWildcard(host: string): boolean {
  return WILDCARD.has(host);
}

/** Splits a Host header into a lower-case name and a port (null when absent); null when malformed. */
export function parseHost(host: string): { hostname: string; port: number | null } | null {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(host.trim());
  if (!m) return null;
  return { hostname: m[1].toLowerCase(), port: m[2] === undefined ? null : Number(m[2]) };
}

/** Whether `hostname` names this machine: loopback, `*.localhost`, the configured LAN host, or an interface address. */
export function isOwnHostname(hostname: string, lanHost: string): boolean {
  const h = hostname.toLowerCase();
  if (isLoopbackName(h)) return true;
  const configured = lanHost.includes(':') && !lanHost.startsWith('[') ? `[${lanHost}]` : lanHost;
  if (!isWildcard(lanHost) && h === configured.toLowerCase()) return true;
  return interfaceAddresses().includes(h);
}
