/** @module The one typed client for the edge API that every screen uses. */
export interface NodeSummary {
  id: string;
  online: boolean;
  lastSeen: number | null;
  shareBaseUrl: string;
}

export interface PortRow {
  port: number;
  pid: number | null;
  command: string | null;
  cwd: string | null;
  repo: { root: string; name: string } | null;
  url: string;
  subdomainUrl: string;
}

async function get<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body as T;
}

export const api = {
  nodes: () => get<{ nodes: NodeSummary[] }>('/api/nodes'),
  ports: (node: string) => get<{ node: string; online: boolean; lastSeen: number | null; ports: PortRow[] }>(`/api/nodes/${node}/ports`),
};
