/**
 * @module
 * Agent tasks: start one (repo, prompt, model, limits) and every task of every online
 * node, newest first, with its status, usage and cost; `?repo=` narrows the list to one
 * repo. The list follows the node's `tasks` events (each carries the task's view).
 */
import { A, useNavigate, useSearchParams } from '@solidjs/router';
import { createResource, createSignal, For, onCleanup, Show } from 'solid-js';
import { api, optional, type TaskView } from '../api.ts';
import { ago, count, usd } from '../format.ts';
import { taskPath } from '../repos.ts';
import { data } from '../state.ts';
import { ui, screenTitle } from '../ui.ts';

export default function Tasks() {
  screenTitle('Tasks');
  const [search, setSearch] = useSearchParams<{ node?: string; repo?: string }>();
  const online = () => (data.nodes() ?? []).filter((n) => n.online);
  const repoNames = () => [...new Set(online().flatMap((n) => (data.repos[n.id] ?? []).map((r) => r.name)))].sort();
  return (
    <section aria-labelledby="tasks-title">
      <div class="page-head">
        <h1 id="tasks-title">Agent tasks</h1>
        <label class="inline-label">
          Show{' '}
          <select value={search.repo ?? ''} onChange={(e) => setSearch({ repo: e.currentTarget.value || undefined })}>
            <option value="">All repos</option>
            <For each={repoNames()}>{(name) => <option value={name}>{name}</option>}</For>
          </select>
        </label>
      </div>
      <Show when={online().length} fallback={<p class="muted card">No node is online: tasks run on a node.</p>}>
        <NewTask node={search.node} repo={search.repo} />
        <For each={online()}>{(n) => <NodeTasks node={n.id} name={online().length > 1 ? (n.name ?? n.id) : null} repo={search.repo} />}</For>
      </Show>
    </section>
  );
}

const firstLine = (text: string) => text.split('\n').find((l) => l.trim()) ?? text;

function NodeTasks(props: { node: string; name: string | null; repo?: string }) {
  const [tasks, { mutate, refetch }] = createResource(() => props.node, (node) => optional(api.tasks(node)).then((r) => r && r.tasks, (e: Error) => ({ error: e.message })));
  const list = () => {
    const value = tasks();
    return value && !('error' in value) ? value : null;
  };
  // Each `tasks` event carries the task's whole view: put it in place.
  const unlisten = data.onEvent((event) => {
    if (event.nodeId !== props.node || event.topic !== 'tasks') return;
    const view = event.payload as TaskView;
    const current = list();
    if (!current || typeof view?.id !== 'string') return;
    const at = current.findIndex((t) => t.id === view.id);
    mutate(at === -1 ? [view, ...current] : current.map((t, i) => (i === at ? view : t)));
  });
  // Without live events, ask now and then.
  const timer = setInterval(() => data.liveStatus() !== 'live' && !document.hidden && void refetch(), 5000);
  onCleanup(() => {
    unlisten();
    clearInterval(timer);
  });
  const shown = () => (list() ?? []).filter((t) => !props.repo || t.repo.name === props.repo);
  return (
    <section aria-label={`Tasks on ${props.name ?? props.node}`} data-node={props.node}>
      <Show when={props.name}>
        <h2>On {props.name}</h2>
      </Show>
      <Show when={tasks() && 'error' in tasks()!}>
        <p class="error" role="alert">
          {(tasks() as { error: string }).error}
        </p>
      </Show>
      <Show when={tasks() !== null} fallback={<p class="muted card">This node's homeportd has no agent tasks yet: update it.</p>}>
        <ul class="list card tasks">
          <For each={shown()} fallback={<li class="muted empty">{tasks.loading ? 'Loading…' : 'No tasks yet. Start one with New task, homeport task in a terminal, or a webhook.'}</li>}>
            {(t) => (
              <li class="task-row" data-task={t.id}>
                <span class={`badge state-${t.status}`}>{t.status}</span>
                <div class="grow">
                  <A href={taskPath(props.node, t.id)}>{firstLine(t.prompt)}</A>
                  <div class="muted small">
                    {t.repo.name} · {t.model} · {ago(t.createdAt, ui.now())} · {count(t.usage.inputTokens + t.usage.outputTokens)} tokens · {usd(t.costUsd)}
                    <Show when={t.prUrl}>
                      {(url) => (
                        <>
                          {' · '}
                          <a href={url()} target="_blank" rel="noopener">
                            pull request
                          </a>
                        </>
                      )}
                    </Show>
                  </div>
                </div>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </section>
  );
}

/** The start form; the limits left empty take the node's defaults. */
function NewTask(props: { node?: string; repo?: string }) {
  const navigate = useNavigate();
  const online = () => (data.nodes() ?? []).filter((n) => n.online);
  const [node, setNode] = createSignal(props.node && online().some((n) => n.id === props.node) ? props.node : (online()[0]?.id ?? ''));
  const repos = () => (data.repos[node()] ?? []).filter((r) => r.state === 'ready');
  const [settings] = createResource(node, (n) => optional(api.nodeSettings(n)).catch(() => null));
  const [error, setError] = createSignal('');
  const [busy, setBusy] = createSignal(false);

  async function start(event: SubmitEvent) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    const number = (name: string) => (text(name) === '' ? undefined : Number(text(name)));
    const minutes = number('timeout');
    const limits = { maxTurns: number('turns'), maxCostUsd: number('budget'), wallClockMs: minutes === undefined ? undefined : Math.round(minutes * 60_000) };
    setError('');
    setBusy(true);
    try {
      const { task } = await api.createTask(node(), {
        repo: text('repo'),
        prompt: text('prompt'),
        model: text('model') || undefined,
        limits: Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)),
      });
      ui.notify('Task started');
      navigate(taskPath(node(), task.id));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card new-task" onSubmit={start} aria-labelledby="new-task-title">
      <h2 id="new-task-title">New task</h2>
      <div class="inline">
        <Show when={online().length > 1}>
          <label class="field">
            Node
            <select name="node" value={node()} onChange={(e) => setNode(e.currentTarget.value)}>
              <For each={online()}>{(n) => <option value={n.id}>{n.name ?? n.id}</option>}</For>
            </select>
          </label>
        </Show>
        <label class="field">
          Repo
          <select name="repo" required>
            <For each={repos()} fallback={<option value="">No repo on this node</option>}>
              {(r) => (
                <option value={r.name} selected={r.name === props.repo}>
                  {r.name}
                </option>
              )}
            </For>
          </select>
        </label>
        <label class="field">
          Model
          <input name="model" placeholder={String(settings()?.settings.agentModel ?? 'the node default')} autocomplete="off" />
        </label>
      </div>
      <label class="field">
        Prompt
        <textarea name="prompt" rows="4" required placeholder="Fix the failing test in api/" />
      </label>
      <fieldset class="inline limits">
        <legend>Limits (empty: the defaults)</legend>
        <label class="field">
          Max turns
          <input name="turns" type="number" min="1" max="1000" step="1" placeholder="50" />
        </label>
        <label class="field">
          Budget ($)
          <input name="budget" type="number" min="0.01" max="1000" step="0.01" placeholder="2.00" />
        </label>
        <label class="field">
          Timeout (minutes)
          <input name="timeout" type="number" min="1" max="1440" step="1" placeholder="30" />
        </label>
      </fieldset>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <button type="submit" class="primary" disabled={busy() || !repos().length}>
        Start task
      </button>
    </form>
  );
}
