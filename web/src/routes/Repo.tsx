/**
 * @module
 * One repo on one node: its ports (with share controls) and, when homeportd knows the
 * repo (cloned or registered), its dev server's state with start/stop/restart, the
 * command it runs, git state and the server's live log (SSE); opening it in the
 * browser editor (code-server) and its agent tasks.
 */
import { A, useLocation, useParams } from '@solidjs/router';
import { createMemo, createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import { api, type LogLine, type RepoInfo } from '../api.ts';
import { PortItem } from '../components/PortItem.tsx';
import { openInEditor } from '../editor.ts';
import { tasksPath } from '../repos.ts';
import { data } from '../state.ts';
import { ui, screenTitle } from '../ui.ts';

const MAX_LINES = 500;
const ACTIVE = new Set(['starting', 'running', 'crashed']);

export default function Repo() {
  screenTitle('Repository');
  const params = useParams<{ node: string; repo: string }>();
  // The repo as homeportd knows it; undefined for a folder it only sees through the scanner.
  const repo = () => data.repos[params.node]?.find((r) => r.name === params.repo || r.id === params.repo);
  const ports = createMemo(() =>
    (data.ports[params.node]?.ports ?? []).filter((p) => (repo() ? p.repo?.root === repo()!.path : p.repo?.name === params.repo)).sort((a, b) => a.port - b.port),
  );
  const refetch = () => void data.refreshRepos(params.node);
  // Without live events, follow the server's state closely while this screen is open.
  const timer = setInterval(() => repo() && data.liveStatus() !== 'live' && !document.hidden && refetch(), 2000);
  onCleanup(() => clearInterval(timer));
  const state = () => {
    const status = repo()?.runtime?.status?.state;
    if (status) return status;
    return ports().length ? 'running' : 'stopped';
  };

  return (
    <section aria-labelledby="repo-title">
      <div class="page-head">
        <h1 id="repo-title">{params.repo}</h1>
        <span class={`badge state-${state()}`} data-testid="repo-state">
          {state()}
        </span>
      </div>
      <Show when={repo()}>{(r) => <RepoActions node={params.node} repo={r().name} />}</Show>
      <Show when={repo()}>{(r) => <ServerControls node={params.node} repo={r()} onChange={refetch} />}</Show>
      <h2>Ports</h2>
      <ul class="ports card">
        <For each={ports()} fallback={<li class="muted">Nothing of this repo listens right now.</li>}>
          {(p) => <PortItem node={params.node} port={p} />}
        </For>
      </ul>
      <Show when={repo()?.runtime && repo()!.id} keyed>
        {(id) => <ServerLog node={params.node} repo={id} />}
      </Show>
      <p>
        <A href="/">← Dashboard</A>
      </p>
    </section>
  );
}

/** Browser VS Code on the repo's folder, and the repo's agent tasks. */
function RepoActions(props: { node: string; repo: string }) {
  const [problem, setProblem] = createSignal('');
  const [opening, setOpening] = createSignal(false);
  async function open() {
    setProblem('');
    setOpening(true);
    setProblem((await openInEditor(props.node, props.repo)) ?? '');
    setOpening(false);
  }
  return (
    <div class="repo-actions">
      <div class="actions">
        <A class="button" href={tasksPath(props.node, props.repo)}>
          Agent tasks
        </A>
        <button type="button" onClick={open} disabled={opening()}>
          {opening() ? 'Opening…' : 'Open in editor'}
        </button>
      </div>
      <Show when={problem()}>
        <p class="error" role="alert" data-testid="editor-problem">
          {problem()}
        </p>
      </Show>
    </div>
  );
}

function ServerControls(props: { node: string; repo: RepoInfo; onChange: () => void }) {
  const [error, setError] = createSignal('');
  const [busy, setBusy] = createSignal(false);
  const runtime = () => props.repo.runtime;
  const state = () => runtime()?.status?.state ?? 'stopped';
  const active = () => ACTIVE.has(state());
  async function run(action: 'start' | 'stop' | 'restart') {
    setError('');
    setBusy(true);
    try {
      await api.server(props.node, props.repo.id, action);
      ui.notify(`${props.repo.name}: ${action === 'stop' ? 'stopped' : action === 'start' ? 'starting' : 'restarting'}`);
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
          <strong>Dev server</strong>{' '}
          <span class={`badge state-${state()}`} data-testid="server-state">
            {state()}
          </span>
          <div class="muted small">
            <Show when={runtime()?.command} fallback={<>No start command: {props.repo.detected.reason}</>}>
              {(command) => <code>{command()}</code>}
            </Show>
            <Show when={runtime()?.status?.lastError}>{(e) => <span class="error"> · {e()}</span>}</Show>
          </div>
          <Show when={props.repo.git}>
            {(git) => (
              <div class="muted small">
                {git().branch ?? 'detached'}
                {git().dirty ? ' · uncommitted changes' : ''}
                <Show when={git().lastCommit}>{(c) => <> · {c().subject}</>}</Show>
              </div>
            )}
          </Show>
        </div>
        <Show when={runtime()}>
          <div class="actions">
            <Show
              when={!active()}
              fallback={
                <button type="button" disabled={busy()} onClick={() => run('stop')}>
                  Stop
                </button>
              }
            >
              <button type="button" class="primary" disabled={busy() || !runtime()?.command} onClick={() => run('start')}>
                Start
              </button>
            </Show>
            <button type="button" disabled={busy() || !active()} onClick={() => run('restart')}>
              Restart
            </button>
          </div>
        </Show>
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
  const location = useLocation();
  const [lines, setLines] = createSignal<LogLine[]>([]);
  const [state, setState] = createSignal<'connecting' | 'live' | 'closed'>('connecting');
  let box: HTMLPreElement | undefined;
  let section: HTMLElement | undefined;
  const source = new EventSource(api.serverLogUrl(props.node, props.repo));
  source.onopen = () => setState('live');
  source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
  source.addEventListener('log', (event) => {
    let line: LogLine;
    try {
      line = JSON.parse((event as MessageEvent).data);
    } catch {
      return;
    }
    const stick = box ? box.scrollHeight - box.scrollTop - box.clientHeight < 24 : true;
    setLines((l) => (l.length >= MAX_LINES ? [...l.slice(l.length - MAX_LINES + 1), line] : [...l, line]));
    if (stick && box) queueMicrotask(() => box && (box.scrollTop = box.scrollHeight));
  });
  onCleanup(() => source.close());
  // "Logs of …" in the palette lands here.
  onMount(() => location.hash === '#logs' && section?.scrollIntoView());
  return (
    <section aria-labelledby="logs-title" id="logs" ref={section}>
      <h2 id="logs-title">
        Logs <span class="muted small">{state()}</span>
      </h2>
      <pre class="server-log" ref={box} tabindex="0" aria-label="Dev server output" data-testid="server-log">
        <For each={lines()} fallback={<span class="muted">No output yet.</span>}>
          {(l) => <span class={`line ${l.stream}`}>{l.text + '\n'}</span>}
        </For>
      </pre>
    </section>
  );
}
