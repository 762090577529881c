/**
 * @module
 * One port's access log at the edge, newest first, a page at a time: "Older" follows the
 * page's `next` id, "Newest" goes back to the start. Every request through a share is
 * here, refused ones too; a download cut short says so under its status.
 */
import { A, useParams } from '@solidjs/router';
import { createResource, createSignal, For, onCleanup, Show } from 'solid-js';
import { api } from '../api.ts';
import { bytes, dateTime } from '../format.ts';
import { data } from '../state.ts';
import { ui, screenTitle } from '../ui.ts';

const PAGE = 25;
/** How a request reached the share, in the words of the share modal. */
const VIA: Record<string, string> = { subdomain: 'own origin', slug: 'link', path: 'path' };

/** An answer that did not reach the visitor whole (the node or the visitor went away…). */
const cutShort = (outcome: string | null) => outcome?.startsWith('aborted') ?? false;

export default function AccessLog() {
  screenTitle('Access log');
  const params = useParams<{ node: string; port: string }>();
  const port = () => Number(params.port);
  /** the `before` ids of the pages we came through, to go back */
  const [trail, setTrail] = createSignal<(number | null)[]>([null]);
  const before = () => trail()[trail().length - 1];
  const [page, { refetch }] = createResource(() => ({ node: params.node, port: port(), before: before() }), (k) => api.accessLog(k.node, k.port, k.before, PAGE));
  // The newest page follows new visits by itself.
  const timer = setInterval(() => trail().length === 1 && !document.hidden && refetch(), 5000);
  onCleanup(() => clearInterval(timer));
  const row = () => data.ports[params.node]?.ports.find((p) => p.port === port());

  return (
    <section aria-labelledby="log-title">
      <div class="page-head">
        <h1 id="log-title">
          Access log · :{params.port}
          <Show when={row()?.repo}>{(r) => <span class="muted"> {r().name}</span>}</Show>
        </h1>
        <div class="actions">
          <button type="button" onClick={() => ui.openShare(params.node, port())}>
            Share settings
          </button>
          <button type="button" onClick={() => refetch()}>
            Refresh
          </button>
        </div>
      </div>
      <Show when={!page.error} fallback={<p class="error" role="alert">{String(page.error?.message ?? page.error)}</p>}>
        <Show when={page.latest} fallback={<p class="muted">Loading…</p>}>
          {(p) => (
            <>
              <Show when={p().entries.length} fallback={<p class="muted card">No visits yet. Share the port and open its link; every request shows up here.</p>}>
                <table class="log">
                  <caption class="visually-hidden">Requests to port {params.port}, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">Client</th>
                      <th scope="col">Request</th>
                      <th scope="col">Status</th>
                      <th scope="col" class="opt">Bytes</th>
                      <th scope="col" class="opt">Via</th>
                      <th scope="col">Signed in</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={p().entries}>
                      {(e) => (
                        <tr data-entry={e.id}>
                          <td>{dateTime(e.at)}</td>
                          <td class="client" title={e.userAgent}>
                            {e.clientIp}
                          </td>
                          <td class="req">
                            <code>
                              {e.method} {e.path}
                            </code>
                          </td>
                          <td class={e.status >= 400 || cutShort(e.outcome) ? 'bad' : ''}>
                            {e.status}
                            <Show when={cutShort(e.outcome) || e.outcome === 'websocket'}>
                              <span class="outcome small">{e.outcome}</span>
                            </Show>
                          </td>
                          <td class="opt">{bytes(e.bytes)}</td>
                          <td class="opt">{VIA[e.form] ?? e.form}</td>
                          <td>{e.authenticated ? 'yes' : 'no'}</td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </Show>
              <nav class="pager" aria-label="Pages">
                <button type="button" disabled={trail().length === 1} onClick={() => setTrail([null])}>
                  Newest
                </button>
                <button type="button" disabled={trail().length === 1} onClick={() => setTrail(trail().slice(0, -1))}>
                  Newer
                </button>
                <span class="muted small">Page {trail().length}</span>
                <button type="button" disabled={!p().next} onClick={() => setTrail([...trail(), p().next])}>
                  Older
                </button>
              </nav>
            </>
          )}
        </Show>
      </Show>
      <p>
        <A href="/">← Dashboard</A>
      </p>
    </section>
  );
}
