/**
 * @module
 * The first screen: the home node, whether it is online, and the dev servers it sees,
 * grouped by repo, each with its share link. Refreshes every two seconds.
 */
import { createResource, For, onCleanup, Show } from 'solid-js';
import { api } from './api.ts';

export function App() {
  const [data, { refetch }] = createResource(async () => {
    const { nodes } = await api.nodes();
    return Promise.all(nodes.map(async (n) => ({ ...n, ...(await api.ports(n.id)) })));
  });
  const timer = setInterval(() => refetch(), 2000);
  onCleanup(() => clearInterval(timer));

  return (
    <main>
      <header>
        <h1>Homeport</h1>
      </header>
      <Show when={!data.error} fallback={<p class="error" role="alert">{String(data.error?.message ?? data.error)}</p>}>
        <For each={data.latest ?? []} fallback={<p>Loading…</p>}>
          {(node) => (
            <section aria-label={`node ${node.id}`}>
              <h2>
                {node.id} <span class={node.online ? 'badge online' : 'badge offline'}>{node.online ? 'online' : 'offline'}</span>
              </h2>
              <Show when={!node.online && node.lastSeen}>
                <p class="muted">Last seen {new Date(node.lastSeen!).toLocaleString()} — showing the last known ports.</p>
              </Show>
              <table>
                <thead>
                  <tr>
                    <th>Port</th>
                    <th>Repo</th>
                    <th class="process">Process</th>
                    <th>Share link</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={node.ports} fallback={<tr><td colspan="4" class="muted">No dev servers listening.</td></tr>}>
                    {(p) => (
                      <tr data-port={p.port}>
                        <td>{p.port}</td>
                        <td>{p.repo?.name ?? <span class="muted">no repo</span>}</td>
                        <td class="muted process" title={p.command ?? ''}>{p.command ?? '—'}</td>
                        <td class="link">
                          <a href={p.url} target="_blank" rel="noopener">{p.url}</a>
                        </td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </section>
          )}
        </For>
      </Show>
    </main>
  );
}
