/**
 * @module
 * The dashboard is repo-first (the seeds: "every dev server belongs to a repo"): ports
 * grouped under the repo their process runs in, ports outside any repo last.
 */
import type { PortRow } from './api.ts';

export interface RepoGroup {
  /** the repo's name, or null for ports outside any git repo */
  name: string | null;
  root: string | null;
  ports: PortRow[];
}

export function groupByRepo(ports: readonly PortRow[]): RepoGroup[] {
  const groups = new Map<string, RepoGroup>();
  for (const p of ports) {
    const key = p.repo?.root ?? '';
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { name: p.repo?.name ?? null, root: p.repo?.root ?? null, ports: [] }));
    group.ports.push(p);
  }
  return [...groups.values()]
    .map((g) => ({ ...g, ports: g.ports.slice().sort((a, b) => a.port - b.port) }))
    .sort((a, b) => (a.name === null ? 1 : b.name === null ? -1 : a.name.localeCompare(b.name)));
}

export const repoPath = (node: string, name: string) => `/n/${encodeURIComponent(node)}/r/${encodeURIComponent(name)}`;
export const logPath = (node: string, port: number) => `/n/${encodeURIComponent(node)}/p/${port}/log`;
export const taskPath = (node: string, id: string) => `/n/${encodeURIComponent(node)}/tasks/${encodeURIComponent(id)}`;
/** The task list, narrowed to one repo of one node when given. */
export const tasksPath = (node?: string, repo?: string) => (node && repo ? `/tasks?node=${encodeURIComponent(node)}&repo=${encodeURIComponent(repo)}` : '/tasks');
