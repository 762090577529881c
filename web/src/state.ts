/**
 * @module
 * The app's shared state: who is signed in, the nodes and each node's ports (with their
 * shares), kept fresh by the live connection (events when /api/live answers, polling
 * every 2 s while it does not). Screens read these signals; nothing else fetches them.
 */
import { createResource, createRoot, createSignal } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import type { EventEnvelope } from '@homeport/shared/control';
import { ApiError, api, optional, type Me, type NodePorts, type NodeSummary } from './api.ts';
import { LiveConnection, type LiveStatus } from './live.ts';

/** The topics the app shows; ports and shares refetch the port list. */
export const LIVE_TOPICS = ['ports', 'shares', 'repos', 'processes', 'services', 'system'];
const PORT_TOPICS = new Set(['ports', 'shares']);

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
  const [store, setStore] = createStore<{ nodes?: NodeSummary[]; ports: Record<string, NodePorts> }>({ ports: {} });
  const nodes = () => store.nodes;
  const [error, setError] = createSignal<string | null>(null);
  const [liveStatus, setLiveStatus] = createSignal<LiveStatus>('connecting');
  const listeners = new Set<(event: EventEnvelope) => void>();
  let live: LiveConnection | null = null;
  const pending = new Map<string, ReturnType<typeof setTimeout>>();

  async function refreshPorts(node: string) {
    try {
      const result = await api.ports(node);
      setStore('ports', node, reconcile(result, { key: 'port' }));
    } catch (e) {
      // A node revoked meanwhile: drop its ports quietly; the nodes list says why.
      if (e instanceof ApiError && e.status === 404) setStore('ports', node, undefined!);
      else throw e;
    }
  }

  /** Many events in a burst make one fetch. */
  function refreshPortsSoon(node: string) {
    if (pending.has(node)) return;
    pending.set(node, setTimeout(() => {
      pending.delete(node);
      void refreshPorts(node).catch(() => {});
    }, 50));
  }

  async function refresh() {
    try {
      const result = await api.nodes();
      setStore('nodes', reconcile(result.nodes, { key: 'id' }));
      live?.setNodes(result.nodes.map((n) => n.id));
      await Promise.all(result.nodes.map((n) => refreshPorts(n.id)));
      setError(null);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      setError(message);
      // A session that ended elsewhere: back to the sign-in screen.
      if (e instanceof ApiError && e.status === 401) session.setMe(null);
      throw e;
    }
  }

  function start() {
    if (live) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    live = new LiveConnection(
      { url: `${scheme}://${location.host}/api/live`, probeUrl: '/api/live', topics: LIVE_TOPICS },
      {
        onEvent(event) {
          if (PORT_TOPICS.has(event.topic)) refreshPortsSoon(event.nodeId);
          for (const listener of listeners) listener(event);
        },
        onNode(message) {
          setStore('nodes', (n) => n.id === message.node, (n) => ({ online: message.online, lastSeen: message.online ? n.lastSeen : Date.now() }));
          refreshPortsSoon(message.node);
        },
        onResync: refresh,
        onStatus: setLiveStatus,
      },
    );
    void refresh().catch(() => {});
    live.start();
    addEventListener('online', () => live?.kick());
  }

  function stop() {
    live?.close();
    live = null;
    setStore('nodes', undefined);
    setStore('ports', reconcile({}));
  }

  return {
    nodes,
    ports: store.ports,
    error,
    liveStatus,
    refresh,
    refreshPorts,
    start,
    stop,
    /** Screens that show other topics (repos, system) listen here. */
    onEvent(listener: (event: EventEnvelope) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
});
