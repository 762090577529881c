/**
 * @module
 * The app's shared state: who is signed in, the nodes and each node's ports (with their
 * shares), kept fresh by one live connection per node (events while its socket is open,
 * polling every 2 s while it is not). Screens read these; nothing else fetches them.
 */
import { createResource, createRoot, createSignal } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import type { EventEnvelope } from '@homeport/shared/control';
import { ApiError, api, optional, type Me, type NodePorts, type NodeSummary, type RepoInfo } from './api.ts';
import { LiveConnection, type LiveStatus } from './live.ts';

/** The topics the app follows (edge: node, ports, commands, shares; the node's outbox: repos, servers, tasks, services, mcp). */
export const LIVE_TOPICS = ['node', 'ports', 'repos', 'servers', 'commands', 'shares', 'tasks', 'services', 'mcp'];
/** Changes that alter the port list (with its share modes) the dashboard shows. */
const PORT_TOPICS = new Set(['node', 'ports', 'servers', 'shares']);
const REPO_TOPICS = new Set(['node', 'repos', 'servers']);
/** Without live events, repos (each with a git status on the node) are asked this often. */
const REPOS_POLL_MS = 10_000;

export const session = createRoot(() => {
  const [me, { mutate, refetch }] = createResource<Me | null>(async () => {
    try {
      return await api.me();
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return null;
      throw error;
    }
  });
  const [providers] = createResource(async () => (await optional(api.providers())) ?? { github: false });
  return {
    me,
    providers,
    setMe: mutate,
    refetch,
    isAdmin: () => {
      const m = me();
      return !!m && (m.local ? m.role === 'admin' : m.user.role === 'admin');
    },
  };
});

export const data = createRoot(() => {
  const [store, setStore] = createStore<{
    nodes?: NodeSummary[];
    ports: Record<string, NodePorts>;
    /** the repos each homeportd knows; null where its API has none (older node, or offline) */
    repos: Record<string, RepoInfo[] | null>;
    live: Record<string, LiveStatus>;
  }>({ ports: {}, repos: {}, live: {} });
  const nodes = () => store.nodes;
  const [error, setError] = createSignal<string | null>(null);
  const listeners = new Set<(event: EventEnvelope) => void>();
  const connections = new Map<string, LiveConnection>();
  const pending = new Map<string, ReturnType<typeof setTimeout>>();
  const reposAt = new Map<string, number>();
  let running = false;
  let loop: ReturnType<typeof setTimeout> | undefined;

  /** One word for the header: every node live, or the worst of them. */
  const liveStatus = (): LiveStatus => {
    const all = Object.values(store.live);
    if (!all.length) return 'polling';
    if (all.includes('offline')) return 'offline';
    if (all.every((s) => s === 'live')) return 'live';
    return all.includes('polling') ? 'polling' : 'connecting';
  };

  function failed(e: unknown) {
    // Signed out (or the session ended elsewhere): the sign-in screen, not an error.
    if (e instanceof ApiError && e.status === 401) return session.setMe(null);
    setError(e instanceof Error ? e.message : String(e));
  }

  async function refreshPorts(node: string) {
    try {
      const result = await api.ports(node);
      setStore('ports', node, reconcile(result, { key: 'port' }));
      setStore('nodes', (n) => n.id === node, { online: result.online, lastSeen: result.lastSeen });
    } catch (e) {
      // A node revoked meanwhile: drop its ports quietly; the nodes list says why.
      if (e instanceof ApiError && e.status === 404) setStore('ports', node, undefined!);
      else throw e;
    }
  }

  /** Repos with their servers' state; git status runs for each, so not on every poll. */
  async function refreshRepos(node: string) {
    const result = await optional(api.repos(node)).catch(() => null);
    setStore('repos', node, result ? reconcile(result.repos, { key: 'id' }) : null);
  }
  const reposPending = new Map<string, ReturnType<typeof setTimeout>>();
  function refreshReposSoon(node: string) {
    if (reposPending.has(node)) return;
    reposPending.set(
      node,
      setTimeout(() => {
        reposPending.delete(node);
        void refreshRepos(node);
      }, 100),
    );
  }

  /** Many events in a burst make one fetch. */
  function refreshPortsSoon(node: string) {
    if (pending.has(node)) return;
    pending.set(
      node,
      setTimeout(() => {
        pending.delete(node);
        void refreshPorts(node).catch(failed);
      }, 50),
    );
  }

  /** The nodes list; a live connection for each node, and none for nodes that are gone. */
  async function refreshNodes() {
    const result = await api.nodes();
    setStore('nodes', reconcile(result.nodes, { key: 'id' }));
    setError(null);
    if (!running) return result.nodes;
    const ids = new Set(result.nodes.map((n) => n.id));
    for (const [id, connection] of connections)
      if (!ids.has(id)) {
        connection.close();
        connections.delete(id);
        setStore('live', id, undefined!);
        setStore('repos', id, undefined!);
      }
    for (const id of ids) if (!connections.has(id)) follow(id);
    return result.nodes;
  }

  /** Everything the screens show. */
  async function refresh() {
    try {
      const list = await refreshNodes();
      await Promise.all(list.map((n) => refreshPorts(n.id)));
    } catch (e) {
      failed(e);
      throw e;
    }
  }

  function follow(node: string) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const path = `/api/nodes/${encodeURIComponent(node)}/live`;
    const connection = new LiveConnection(
      { url: `${scheme}://${location.host}${path}`, probeUrl: path, topics: LIVE_TOPICS },
      {
        onEvent(event) {
          if (event.topic === 'node') {
            const payload = event.payload as { online?: boolean; lastSeen?: number | null };
            if (typeof payload.online === 'boolean') setStore('nodes', (n) => n.id === node, { online: payload.online, ...(payload.lastSeen !== undefined ? { lastSeen: payload.lastSeen } : {}) });
          }
          if (PORT_TOPICS.has(event.topic)) refreshPortsSoon(node);
          if (REPO_TOPICS.has(event.topic)) refreshReposSoon(node);
          for (const listener of listeners) listener(event);
        },
        onResync: () => {
          if (Date.now() - (reposAt.get(node) ?? 0) >= REPOS_POLL_MS || connection.status === 'live') {
            reposAt.set(node, Date.now());
            void refreshRepos(node);
          }
          return refreshPorts(node).catch((e) => (failed(e), Promise.reject(e)));
        },
        onStatus: (status) => setStore('live', node, status),
      },
    );
    connections.set(node, connection);
    connection.start();
  }

  // The nodes list has no live channel: every 2 s until every node is live, then every
  // 30 s with the ports too (shares that expired, a node paired elsewhere).
  async function tick() {
    if (!running) return;
    const allLive = liveStatus() === 'live';
    try {
      await (allLive ? refresh() : refreshNodes());
    } catch (e) {
      failed(e);
    }
    if (running) loop = setTimeout(tick, allLive ? 30_000 : 2000);
  }

  const kick = () => connections.forEach((c) => c.kick());

  let prefetched: Promise<boolean> | null = null;

  /**
   * The first screen's data, asked for while the app still waits to learn who we are
   * (one round trip less before the dashboard shows). A 401 here just means "sign in".
   */
  function prefetch() {
    prefetched ??= refresh().then(
      () => true,
      () => false,
    );
  }

  function start() {
    if (running) return;
    running = true;
    const ready = (prefetched ?? Promise.resolve(false)).then(async (ok) => {
      if (!ok) await refresh().catch(() => {});
    });
    prefetched = null;
    // What the prefetch found gets its live connections now.
    void ready.then(() => {
      if (running) for (const n of store.nodes ?? []) if (!connections.has(n.id)) follow(n.id);
    });
    loop = setTimeout(tick, 2000);
    addEventListener('online', kick);
  }

  function stop() {
    running = false;
    prefetched = null;
    clearTimeout(loop);
    removeEventListener('online', kick);
    for (const connection of connections.values()) connection.close();
    connections.clear();
    setStore('live', reconcile({}));
    setStore('nodes', undefined);
    setStore('ports', reconcile({}));
    setStore('repos', reconcile({}));
  }

  return {
    nodes,
    ports: store.ports,
    repos: store.repos,
    refreshRepos,
    error,
    liveStatus,
    refresh,
    refreshPorts,
    prefetch,
    start,
    stop,
    /** Screens that show other topics (repos, servers) listen here. */
    onEvent(listener: (event: EventEnvelope) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
});
