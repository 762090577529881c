/**
 * @module
 * The Worker's bindings and settings (wrangler.toml [vars], secrets), read once per
 * request into a typed config.
 */
import { hostnameOf } from '@homeport/shared';
import type { Directory } from './identity/directory.ts';
import type { NodeHub } from './node-hub.ts';

export interface Env {
  NODE_HUB: DurableObjectNamespace<NodeHub>;
  /** accounts, sessions and API tokens: one instance, named "directory" */
  DIRECTORY: DurableObjectNamespace<Directory>;
  ASSETS: Fetcher;
  /** host (with port) of the dashboard and API, e.g. homeport.example.com */
  DASHBOARD_HOST: string;
  /** host (with port) shares live under, e.g. share.example.com; must differ from DASHBOARD_HOST */
  SHARE_HOST: string;
  PUBLIC_SCHEME?: string;
  /** the node the bare share host serves */
  DEFAULT_NODE: string;
  /** "1" in the local `npm start` mode: the loopback owner may use the API and shares */
  LOCAL_MODE?: string;
  /** secret: the token the default node connects with (until pairing lands) */
  NODE_TOKEN?: string;
  MAX_BODY_BYTES?: string;
  UPSTREAM_TIMEOUT_MS?: string;
  /** TEST ONLY: "1" lets the x-test-client-ip header stand in for cf-connecting-ip (test stacks) */
  TRUST_TEST_CLIENT_IP?: string;
}

export interface EdgeConfig {
  dashboardHost: string;
  dashboardHostname: string;
  shareHost: string;
  shareHostname: string;
  scheme: string;
  defaultNode: string;
  localMode: boolean;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  trustTestClientIp: boolean;
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export function configOf(env: Env): EdgeConfig {
  return {
    dashboardHost: env.DASHBOARD_HOST,
    dashboardHostname: hostnameOf(env.DASHBOARD_HOST),
    shareHost: env.SHARE_HOST,
    shareHostname: hostnameOf(env.SHARE_HOST),
    scheme: env.PUBLIC_SCHEME || 'https',
    defaultNode: env.DEFAULT_NODE || 'home',
    localMode: env.LOCAL_MODE === '1',
    // Cloudflare Free/Pro plans refuse request bodies over 100 MB.
    maxBodyBytes: positive(env.MAX_BODY_BYTES, 100 * 1000 * 1000),
    // Cloudflare cuts a request with no response after ~100 s; answer first.
    upstreamTimeoutMs: positive(env.UPSTREAM_TIMEOUT_MS, 90_000),
    trustTestClientIp: env.TRUST_TEST_CLIENT_IP === '1',
  };
}

/** Public URLs of one node's shares. */
export function shareUrlsOf(config: EdgeConfig, node: string) {
  const base = node === config.defaultNode ? config.shareHost : `${node}.${config.shareHost}`;
  return {
    shareBaseUrl: `${config.scheme}://${base}`,
    subdomainUrlTemplate: `${config.scheme}://{port}-${node}.${config.shareHost}/`,
    dashboardUrl: `${config.scheme}://${config.dashboardHost}`,
  };
}
