/**
 * @module
 * Pairing this machine with an edge: trades a pairing code (made by the owner in the
 * dashboard or with `homeport pairing-code`) for a node token, kept in a 0600 file in the
 * data dir; the edge URL and the node id it was given go into config.json.
 */
import { hostname } from 'node:os';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Paired {
  nodeId: string;
  name: string;
  edgeUrl: string;
  shareBaseUrl: string;
  dashboardUrl: string;
}

/** A failure meant for people: the edge's own words when it gave any. */
export class PairingError extends Error {}

export function normalizeEdgeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(/^https?:\/\//.test(raw) ? raw : `https://${raw}`);
  } catch {
    throw new PairingError(`"${raw}" is not an edge URL (like https://homeport.example.com)`);
  }
  if (url.protocol !== 'https:' && !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(url.hostname))
    throw new PairingError('the edge must be reached over https (plain http only for localhost)');
  return url.origin;
}

/** Default node name: this machine's host name. */
export const defaultNodeName = () => hostname().split('.')[0] || 'home';

/** Writes a file readable by its owner only, atomically (never a half-written token). */
export function writePrivateFile(path: string, text: string) {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, path);
}

export function updateConfigFile(dataDir: string, changes: Record<string, unknown>) {
  const path = join(dataDir, 'config.json');
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    // none yet
  }
  writePrivateFile(path, JSON.stringify({ ...config, ...changes }, null, 2) + '\n');
}

export async function pairWithEdge(options: { edgeUrl: string; code: string; name?: string; dataDir: string; fetchImpl?: typeof fetch }): Promise<Paired> {
  const edgeUrl = normalizeEdgeUrl(options.edgeUrl);
  const name = options.name ?? defaultNodeName();
  let res: Response;
  try {
    res = await (options.fetchImpl ?? fetch)(`${edgeUrl}/api/pair`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ code: options.code, name }),
      signal: AbortSignal.timeout(20_000),
    });
  } catch (error) {
    throw new PairingError(`could not reach the edge at ${edgeUrl}: ${(error as Error).message}`);
  }
  const body = (await res.json().catch(() => null)) as { error?: string; token?: string; node?: { id: string; name: string }; shareBaseUrl?: string; dashboardUrl?: string } | null;
  if (!res.ok || !body?.token || !body.node) throw new PairingError(body?.error ?? `the edge answered ${res.status} without saying why; is ${edgeUrl} a Homeport edge?`);
  writePrivateFile(join(options.dataDir, 'node-token'), body.token + '\n');
  updateConfigFile(options.dataDir, { edgeUrl, nodeId: body.node.id });
  return { nodeId: body.node.id, name: body.node.name, edgeUrl, shareBaseUrl: body.shareBaseUrl ?? '', dashboardUrl: body.dashboardUrl ?? edgeUrl };
}
