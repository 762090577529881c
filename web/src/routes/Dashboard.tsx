/**
 * @module
 * The dashboard: every node (online or not, last seen), its repos with their ports,
 * each port's share mode and expiry, and the node's system stats where it reports them.
 * It changes in place as the live connection brings news.
 */
import { A } from '@solidjs/router';
import { createMemo, For, Show } from 'solid-js';
import type { NodeSummary, PortRow, RepoInfo } from '../api.ts';
import { PortItem } from '../components/PortItem.tsx';
import { SystemPanel } from '../components/SystemPanel.tsx';
import { ago } from '../format.ts';
import { groupByRepo, repoPath } from '../repos.ts';
import { data } from '../state.ts';
import { ui, screenTitle } from '../ui.ts';

export default function Dashboard() {
  screenTitle('Dashboard');
  return (
    <>
      <h1 class="visually-hidden">Dashboard</h1>
      <Show when={data.error()}>
        <p class="error banner" role="alert">
          {data.error()}
        </p>
      </Show>
      <Show when={data.nodes()} fallback={<p class="muted">Loading…</p>}>
        <For
          each={data.nodes()}
          fallback={
            <section class="card empty">
              <h2>No node yet</h2>
              <p>
                Pair the machine your code lives on: <A href="/nodes">Nodes → Pair a node</A>.
              </p>
            </section>
          }
        >
          {(node) => <NodeSection node={node} />}
        </For>
      </Show>
    </>
  );
}

export function NodeStateLine(props: { node: NodeSummary }) {
  return (
    <span class="node-state">
      <span class={`badge ${props.node.online ? 'online' : 'offline'}`}>{props.node.online ? 'online' : 'offline'}</span>
      <Show when={!props.node.online}>
        <span class="muted small">{props.node.lastSeen ? `last seen ${ago(props.node.lastSeen, ui.now())}` : 'never connected'}</span>
      </Show>
    </span>
  );
}

interface RepoCard {
  key: string;
  name: string | null;
  ports: PortRow[];
  known: RepoInfo | null;
}

function NodeSection(props: { node: NodeSummary }) {
  const ports = () => data.ports[props.node.id]?.ports ?? [];
  // Repos with listening ports, and the repos homeportd knows that have none (stopped).
  const cards = createMemo<RepoCard[]>(() => {
    const known = data.repos[props.node.id] ?? [];
    const out: RepoCard[] = groupByRepo(ports()).map((g) => {
      const repo = known.find((r) => r.path === g.root) ?? null;
      return { key: g.root ?? '', name: repo?.name ?? g.name, ports: g.ports, known: repo };
    });
    for (const r of known) if (!out.some((c) => c.key === r.path)) out.push({ key: r.path, name: r.name, ports: [], known: r });
    return out.sort((a, b) => (a.name === null ? 1 : b.name === null ? -1 : a.name.localeCompare(b.name)));
  });
  // Keyed by path (a string), so a refresh updates cards in place and focus stays put.
  const keys = createMemo(() => cards().map((c) => c.key), undefined, { equals: (a, b) => a.length === b.length && a.every((k, i) => k === b[i]) });
  return (
    <section class="node" aria-labelledby={`node-${props.node.id}`} data-node={props.node.id}>
      <div class="node-head">
        <h2 id={`node-${props.node.id}`}>{props.node.name ?? props.node.id}</h2>
        <NodeStateLine node={props.node} />
      </div>
      <Show when={!props.node.online && ports().length}>
        <p class="muted small">The node is offline: these are the last ports it reported.</p>
      </Show>
      <Show when={props.node.online}>
        <SystemPanel node={props.node.id} />
      </Show>
      <For each={keys()} fallback={<p class="muted card">No dev servers are listening. Start one (npm run dev) in a repo on this machine; it shows up here by itself.</p>}>
        {(key) => {
          const card = () => cards().find((c) => c.key === key) ?? { key, name: null, ports: [], known: null };
          const state = () => card().known?.runtime?.status?.state ?? (card().ports.length ? 'running' : 'stopped');
          return (
            <article class="repo card" data-repo={card().name ?? ''}>
              <div class="repo-head">
                <h3>
                  <Show when={card().name} fallback={<span class="muted">Outside any repo</span>}>
                    {(name) => <A href={repoPath(props.node.id, name())}>{name()}</A>}
                  </Show>
                </h3>
                <span class={`badge state-${state()}`} data-testid="repo-state">
                  {state()}
                  <Show when={card().ports.length}>
                    {' '}
                    · {card().ports.length} {card().ports.length === 1 ? 'port' : 'ports'}
                  </Show>
                </span>
              </div>
              <Show when={card().ports.length}>
                <ul class="ports">
                  <For each={card().ports}>{(p) => <PortItem node={props.node.id} port={p} />}</For>
                </ul>
              </Show>
            </article>
          );
        }}
      </For>
    </section>
  );
}
