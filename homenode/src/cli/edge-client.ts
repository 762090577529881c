/**
 * @module
 * The CLI's own credentials for the edge API (`homeport login`): the edge URL and a
 * scoped API token, in a 0600 file, `<HOMEPORT_HOME>/credentials.json` or
 * `~/.config/homeport/credentials.json`.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writePrivateFile } from '../pairing.ts';

export interface Credentials {
  edgeUrl: string;
  token: string;
  email: string | null;
}

export function credentialsPath(env = process.env): string {
  if (env.HOMEPORT_HOME) return join(env.HOMEPORT_HOME, 'credentials.json');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'homeport', 'credentials.json');
}

export function readCredentials(env = process.env): Credentials | null {
  try {
    const parsed = JSON.parse(readFileSync(credentialsPath(env), 'utf8')) as Credentials;
    return parsed.edgeUrl && parsed.token ? parsed : null;
  } catch {
    return null;
  }
}

export function saveCredentials(credentials: Credentials, env = process.env) {
  const path = credentialsPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writePrivateFile(path, JSON.stringify(credentials, null, 2) + '\n');
}

export function forgetCredentials(env = process.env) {
  rmSync(credentialsPath(env), { force: true });
}

export class EdgeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One edge API call; `auth` is a bearer token or a session cookie. */
export async function edgeCall<T>(edgeUrl: string, method: string, path: string, options: { body?: unknown; bearer?: string; cookie?: string } = {}): Promise<{ body: T; response: Response }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  if (options.cookie) headers.cookie = options.cookie;
  // Writes without a bearer token must come from the dashboard's origin (the edge's CSRF check).
  if (!options.bearer && method !== 'GET') headers.origin = edgeUrl;
  let response: Response;
  try {
    response = await fetch(edgeUrl + path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal: AbortSignal.timeout(20_000) });
  } catch (error) {
    throw new EdgeError(0, `could not reach the edge at ${edgeUrl}: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new EdgeError(response.status, body.error ?? `the edge answered ${response.status}`);
  return { body, response };
}

/** Calls the edge with the saved token, or says how to get one. */
export async function withLogin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const credentials = readCredentials();
  if (!credentials) throw new EdgeError(401, 'not signed in to an edge: run `homeport login <edge url>` first');
  try {
    return (await edgeCall<T>(credentials.edgeUrl, method, path, { body, bearer: credentials.token })).body;
  } catch (error) {
    if (error instanceof EdgeError && error.status === 401) throw new EdgeError(401, `${error.message} — sign in again with \`homeport login ${credentials.edgeUrl}\``);
    throw error;
  }
}
