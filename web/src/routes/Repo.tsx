/**
 * @module
 * One repo on one node: its ports (with share controls), and, where homeportd supervises
 * its dev server, the server's state with start/stop/restart and its live log.
 */
import { A, useParams } from '@solidjs/router';
import { createMemo, createResource, createSignal, For, onCleanup, Show } from 'solid-js';
import { api, optional, type LogLine, type RepoInfo, type ServerStatus } from '../api.ts';
import { PortItem } from '../components/PortItem.tsx';
import { data } from '../state.ts';
import { ui } from '../ui.ts';

const MAX_LINES = 500;

export default function Repo() {
  const params = useParams<{ node: string; repo: string }>();
  const ports = createMemo(() => (data.ports[params.node]?.ports ?? []).filter((p) => p.repo?.name === params.repo).sort((a, b) => a.port - b.port));
  // Repos and their supervised servers, where this homeportd has those routes.
  const [known, { refetch }] = createResource(
    () => params.node,
    async (node) => {
      const [repos, servers] = await Promise.all([optional(api.repos(node)).catch(() => null), optional(api.servers(node)).catch(() => null)]);
      return { repos: repos?.repos ?? [], servers: servers?.servers ?? [] };
    },
  );
  const repo = () => known.latest?.repos.find((r) => r.name === params.repo || r.id === params.repo) ?? null;
  const server = () => known.latest?.servers.find((s) => s.id === repo()?.id) ?? null;
  const off = data.onEvent((e) => e.nodeId === params.node && (e.topic === 'repos' || e.topic === 'processes') && refetch());
  // Without live events, follow the server's state by asking now and then.
  const timer = setInterval(() => repo() && !document.hidden && refetch(), 3000);
  onCleanup(() => {
    off();
    clearInterval(timer);
  });

  return (
    <section aria-labelledby="repo-title">
      <div class="page-head">
        <h1 id="repo-title">{params.repo}</h1>
        <span class={`badge ${ports().length ? 'running' : 'stopped'}`} data-testid="repo-state">
          {server()?.state ?? (ports().length ? 'running' : 'stopped')}
        </span>
      </div>
      <Show when={repo()}>{(r) => <ServerControls node={params.node} repo={r()} status={server()} onChange={refetch} />}</Show>
      <h2>Ports</h2>
      <ul class="ports card">
        <For each={ports()} fallback={<li class="muted">Nothing of this repo listens right now.</li>}>
          {(p) => <PortItem node={params.node} port={p} />}
        </For>
      </ul>
      <Show when={repo()}>{(r) => <ServerLog node={params.node} repo={r().id} />}</Show>
      <p>
        <A href="/">← Dashboard</A>
      </p>
    </section>
  );
}

function ServerControls(props: { node: string; repo: RepoInfo; status: ServerStatus | null; onChange: () => void }) {
  const [error, setError] = createSignal('');
  const [busy, setBusy] = createSignal(false);
  const state = () => props.status?.state ?? 'stopped';
  const active = () => state() === 'running' || state() === 'starting' || state() === 'crashed';
  async function run(action: 'start' | 'stop' | 'restart') {
    setError('');
    setBusy(true);
    try {
      await api.server(props.node, props.repo.id, action);
      ui.notify(`${props.repo.name}: ${action === 'stop' ? 'stopping' : action === 'start' ? 'starting' : 'restarting'}`);
      props.onChange();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="card server">
      <div class="row">
        <div class="grow">
          <strong>Dev server</strong> <span class={`badge state-${state()}`}>{state()}</span>
          <div class="muted small">
            <code>{props.repo.server.command ?? 'detected start command'}</code>
            <Show when={props.status?.lastError}>{(e) => <span class="error"> · {e()}</span>}</Show>
          </div>
        </div>
        <div class="actions">
          <Show when={!active()} fallback={<button type="button" disabled={busy()} onClick={() => run('stop')}>Stop</button>}>
            <button type="button" class="primary" disabled={busy()} onClick={() => run('start')}>
              Start
            </button>
          </Show>
          <button type="button" disabled={busy() || !active()} onClick={() => run('restart')}>
            Restart
          </button>
        </div>
      </div>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
    </div>
  );
}

/** The server's output, followed live over SSE (EventSource resumes with Last-Event-ID by itself). */
function ServerLog(props: { node: string; repo: string }) {
  const [lines, setLines] = createSignal<LogLine[]>([]);
  const [state, setState] = createSignal<'connecting' | 'open' | 'closed'>('connecting');
  let box: HTMLPreElement | undefined;
  const source = new EventSource(api.serverLogUrl(props.node, props.repo));
  source.onopen = () => setState('open');
  source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
  source.onmessage = (event) => {
    let line: LogLine;
    try {
      line = JSON.parse(event.data);
    } catch {
      return;
    }
    const stick = box ? box.scrollHeight - box.scrollTop - box.clientHeight < 24 : true;
    setLines((l) => (l.length >= MAX_LINES ? [...l.slice(l.length - MAX_LINES + 1), line] : [...l, line]));
    if (stick && box) queueMicrotask(() => box && (box.scrollTop = box.scrollHeight));
  };
  onCleanup(() => source.close());
  return (
    <section aria-labelledby="log-title" id="logs">
      <h2 id="log-title">
        Logs <span class="muted small">{state() === 'open' ? 'live' : state()}</span>
      </h2>
      <pre class="server-log" ref={box} tabindex="0" aria-label="Dev server output">
        <For each={lines()} fallback={<span class="muted">No output yet.</span>}>
          {(l) => <span class={`line ${l.stream}`}>{l.text + '\n'}</span>}
        </For>
      </pre>
    </section>
  );
}
