/**
 * @module
 * The Worker's bindings and settings (wrangler.toml [vars], secrets), read once per
 * request into a typed config.
 */
import { hostnameOf, shareUrlsFor } from '@homeport/shared';
import type { Directory } from './identity/directory.ts';
import type { NodeHub } from './node-hub.ts';
import type { Webhooks } from './webhooks/webhooks-do.ts';

export interface Env {
  NODE_HUB: DurableObjectNamespace<NodeHub>;
  /** accounts, sessions and API tokens: one instance, named "directory" */
  DIRECTORY: DurableObjectNamespace<Directory>;
  /** webhook delivery log, GitHub repo mappings, generic endpoints: one instance, named "webhooks" */
  WEBHOOKS: DurableObjectNamespace<Webhooks>;
  ASSETS: Fetcher;
  /** host (with port) of the dashboard and API, e.g. homeport.example.com */
  DASHBOARD_HOST: string;
  /** host (with port) shares live under, e.g. share.example.com; must differ from DASHBOARD_HOST */
  SHARE_HOST: string;
  PUBLIC_SCHEME?: string;
  /** the node the bare share host serves */
  DEFAULT_NODE: string;
  /** "1" in the local `npm start` mode (http on localhost, the local owner's key below) */
  LOCAL_MODE?: string;
  /** secret, local mode only: the local owner's key (`hpl_…`, made by `npm start`, kept 0600 in .homeport/) */
  LOCAL_OWNER_KEY?: string;
  MAX_BODY_BYTES?: string;
  UPSTREAM_TIMEOUT_MS?: string;
  /** TEST ONLY: "1" lets the x-test-client-ip header stand in for cf-connecting-ip (test stacks) */
  TRUST_TEST_CLIENT_IP?: string;
  /** "Sign in with GitHub": the OAuth app's client id; unset → GitHub sign-in is off */
  GITHUB_CLIENT_ID?: string;
  /** secret: the OAuth app's client secret */
  GITHUB_CLIENT_SECRET?: string;
  /** where /login/oauth/authorize and /login/oauth/access_token live (default https://github.com) */
  GITHUB_OAUTH_URL?: string;
  /** GitHub's REST API: /user, /user/emails (default https://api.github.com) */
  GITHUB_API_URL?: string;
  /** secret: the GitHub webhook secret (X-Hub-Signature-256); unset → POST /webhooks/github answers 503 */
  GITHUB_WEBHOOK_SECRET?: string;
  /** secret: the token the edge writes issue comments and checks collaborators with (docs/webhooks.md) */
  GITHUB_TOKEN?: string;
  /** secret: base64 of 32 random bytes sealing generic webhook endpoints' secrets at rest */
  WEBHOOK_SECRETS_KEY?: string;
}

/** A configured GitHub OAuth app. Holds the client secret: never log it. */
export interface GitHubOAuthConfig {
  clientId: string;
  clientSecret: string;
  oauthUrl: string;
  apiUrl: string;
}

export interface EdgeConfig {
  dashboardHost: string;
  dashboardHostname: string;
  shareHost: string;
  shareHostname: string;
  scheme: string;
  defaultNode: string;
  localMode: boolean;
  /** the local owner's key; null unless local mode set one */
  localOwnerKey: string | null;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  trustTestClientIp: boolean;
  /** null when GitHub sign-in is not configured */
  github: GitHubOAuthConfig | null;
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
    localOwnerKey: env.LOCAL_MODE === '1' && env.LOCAL_OWNER_KEY ? env.LOCAL_OWNER_KEY : null,
    // Cloudflare Free/Pro plans refuse request bodies over 100 MB.
    maxBodyBytes: positive(env.MAX_BODY_BYTES, 100 * 1000 * 1000),
    // Cloudflare cuts a request with no response after ~100 s; answer first.
    upstreamTimeoutMs: positive(env.UPSTREAM_TIMEOUT_MS, 90_000),
    trustTestClientIp: env.TRUST_TEST_CLIENT_IP === '1',
    github:
      env.GITHUB_CLIENT_ID && env.GITHUB_CLIENT_SECRET
        ? {
            clientId: env.GITHUB_CLIENT_ID,
            clientSecret: env.GITHUB_CLIENT_SECRET,
            oauthUrl: (env.GITHUB_OAUTH_URL || 'https://github.com').replace(/\/+$/, ''),
            apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
          }
        : null,
  };
}

/** Public URLs of one node's shares, as JSON (the welcome message, pairing, the node list). */
export function shareUrlsOf(config: EdgeConfig, node: string) {
  return {
    /** the path form's base */
    shareBaseUrl: shareUrlsFor(config.scheme, config.shareHost, node, config.defaultNode).pathBaseUrl,
    subdomainUrlTemplate: `${config.scheme}://{port}-${node}.${config.shareHost}/`,
    dashboardUrl: `${config.scheme}://${config.dashboardHost}`,
  };
}

/** The URL builders of one node's shares (share-route.ts). */
export const shareUrlsFrom = (config: EdgeConfig, node: string) => shareUrlsFor(config.scheme, config.shareHost, node, config.defaultNode);
