/**
 * @module
 * The task console: the live transcript (Markdown, the assistant's text streaming in,
 * tool calls and results folded), the raw events (JSON, one per line), the diff, usage
 * and cost, the branch, commit and pull request; cancel and follow-up.
 *
 * Events come from the node's SSE route with `?after=<last seq applied>`: a reload
 * replays the stored events once and goes on live; a dropped stream resumes after the
 * last event it showed, so nothing is missing or shown twice.
 */
import { A, useParams } from '@solidjs/router';
import { createEffect, createResource, createSignal, For, Match, onCleanup, Show, Switch } from 'solid-js';
import { createStore, produce } from 'solid-js/store';
import { api, type TaskEvent, type TaskView } from '../api.ts';
import { Diff } from '../components/Diff.tsx';
import { ago, count, duration, usd } from '../format.ts';
import { markdown } from '../markdown.ts';
import { repoPath } from '../repos.ts';
import { followSse } from '../sse.ts';
import { data } from '../state.ts';
import { apply, emptyTranscript, isFinal, type Entry } from '../transcript.ts';
import { ui, screenTitle } from '../ui.ts';

const ACTIVE = new Set(['queued', 'running']);
const TABS = [
  ['transcript', 'Transcript'],
  ['events', 'Raw events'],
  ['diff', 'Diff'],
] as const;
type Tab = (typeof TABS)[number][0];

export default function Task() {
  screenTitle('Task');
  const params = useParams<{ node: string; id: string }>();
  return (
    <Show when={`${params.node}\n${params.id}`} keyed>
      {(_key) => <Console node={params.node} id={params.id} />}
    </Show>
  );
}

/** A tool call's gist for its summary line: the command, the path, or the first string it was given. */
function gist(input: unknown): string {
  if (!input || typeof input !== 'object') return '';
  const o = input as Record<string, unknown>;
  const value = [o.command, o.path, ...Object.values(o)].find((v) => typeof v === 'string') as string | undefined;
  return value ? (value.length > 80 ? `${value.slice(0, 79)}…` : value) : '';
}

function Console(props: { node: string; id: string }) {
  const [task, setTask] = createSignal<TaskView | null>(null);
  const [t, setT] = createStore(emptyTranscript());
  const [stream, setStream] = createSignal<'live' | 'reconnecting' | 'ended'>('live');
  const [error, setError] = createSignal('');
  async function refetch() {
    try {
      setTask((await api.task(props.node, props.id)).task);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }
  void refetch();
  const [tab, setTab] = createSignal<Tab>('transcript');
  let box: HTMLDivElement | undefined;
  let following: AbortController | null = null;
  let endedRun = false;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  const refreshSoon = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void refetch(), 300);
  };

  function receive(raw: string) {
    let event: TaskEvent;
    try {
      event = JSON.parse(raw);
    } catch {
      return;
    }
    if (typeof event?.seq !== 'number' || event.seq <= t.last) return;
    endedRun = isFinal(event);
    const stick = box ? box.scrollHeight - box.scrollTop - box.clientHeight < 40 : false;
    setT(produce((draft) => apply(draft, event)));
    if (stick && box) queueMicrotask(() => box && (box.scrollTop = box.scrollHeight));
    if (event.type === 'status' || event.type === 'usage') refreshSoon();
  }

  /** Follows the events from the last one applied until the run ends (a follow-up starts it again). */
  function follow() {
    if (following) return;
    const controller = (following = new AbortController());
    endedRun = false;
    void followSse(() => api.taskEventsUrl(props.node, props.id, t.last), (m) => receive(m.data), {
      signal: controller.signal,
      ended: () => endedRun,
      onState: (state, message) => {
        setStream(state);
        if (message) setError(message);
      },
    }).finally(() => {
      if (following === controller) following = null;
      refreshSoon();
    });
  }
  follow();
  // A follow-up sent elsewhere (CLI, webhook) shows here too.
  createEffect(() => {
    const status = task()?.status;
    if (status && ACTIVE.has(status)) follow();
  });
  const unlisten = data.onEvent((event) => {
    if (event.nodeId === props.node && event.topic === 'tasks' && (event.payload as { id?: string })?.id === props.id) setTask((current) => ({ ...(event.payload as TaskView), prompt: current?.prompt ?? (event.payload as TaskView).prompt }));
  });
  onCleanup(() => {
    unlisten();
    following?.abort();
    clearTimeout(refreshTimer);
  });

  const active = () => ACTIVE.has(task()?.status ?? '');
  const [busy, setBusy] = createSignal(false);
  async function act(what: () => Promise<{ task: TaskView }>, done: string) {
    setError('');
    setBusy(true);
    try {
      setTask((await what()).task);
      ui.notify(done);
      return true;
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      return false;
    } finally {
      setBusy(false);
    }
  }
  async function sendFollowUp(event: SubmitEvent) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const prompt = String(new FormData(form).get('prompt') ?? '').trim();
    if (prompt && (await act(() => api.followUp(props.node, props.id, prompt), 'Follow-up sent'))) {
      form.reset();
      follow();
    }
  }

  function onTabKey(e: KeyboardEvent) {
    const i = TABS.findIndex(([id]) => id === tab());
    const next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : null;
    if (next === null) return;
    e.preventDefault();
    const [id] = TABS[(next + TABS.length) % TABS.length];
    setTab(id);
    document.getElementById(`tab-${id}`)?.focus();
  }

  return (
    <section aria-labelledby="task-title" class="task-console">
      <Show when={task()}>
        {(v) => (
          <>
            <div class="page-head">
              <h1 id="task-title" class="task-title">
                {v().prompt.split('\n')[0]}
              </h1>
              <span class={`badge state-${v().status}`} data-testid="task-status">
                {v().status}
              </span>
            </div>
            <dl class="facts task-facts">
              <dt>Repo</dt>
              <dd>
                <A href={repoPath(props.node, v().repo.name)}>{v().repo.name}</A> · {v().model}
              </dd>
              <dt>Usage</dt>
              <dd data-testid="task-usage">
                {count(v().usage.inputTokens)} in · {count(v().usage.outputTokens)} out · {usd(v().costUsd)}
                <span class="muted small">
                  {' '}
                  (budget {usd(v().limits.maxCostUsd)}, {v().limits.maxTurns} turns, {duration(v().limits.wallClockMs)})
                </span>
              </dd>
              <Show when={v().branch}>
                <dt>Branch</dt>
                <dd>
                  <code>{v().branch}</code>
                  <Show when={v().commitSha}>{(sha) => <> · commit <code data-testid="task-commit">{sha().slice(0, 10)}</code></>}</Show>
                  <Show when={v().diffStat}>{(s) => <span class="muted small"> · {s().files} {s().files === 1 ? 'file' : 'files'} +{s().insertions} −{s().deletions}</span>}</Show>
                </dd>
              </Show>
              <Show when={v().prUrl}>
                {(url) => (
                  <>
                    <dt>Pull request</dt>
                    <dd>
                      <a href={url()} target="_blank" rel="noopener">
                        {url()}
                      </a>
                    </dd>
                  </>
                )}
              </Show>
              <dt>Started</dt>
              <dd>
                {ago(v().createdAt, ui.now())}
                <Show when={v().endedAt && v().startedAt}> · ran {duration(v().endedAt! - v().startedAt!)}</Show>
                <Show when={v().reason}>{(r) => <span class="muted"> · {r()}</span>}</Show>
              </dd>
            </dl>
            <div class="actions task-actions">
              <span class="muted small" aria-live="polite">
                {stream() === 'live' && active() ? 'Live' : stream() === 'reconnecting' ? 'Reconnecting…' : ''}
              </span>
              <Show when={active()}>
                <button type="button" class="danger" disabled={busy()} onClick={() => act(() => api.cancelTask(props.node, props.id), 'Task cancelled')}>
                  Cancel task
                </button>
              </Show>
            </div>
          </>
        )}
      </Show>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <div role="tablist" aria-label="Task views" class="tabs" onKeyDown={onTabKey}>
        <For each={TABS}>
          {([id, label]) => (
            <button type="button" role="tab" id={`tab-${id}`} aria-selected={tab() === id} aria-controls={`panel-${id}`} tabindex={tab() === id ? 0 : -1} onClick={() => setTab(id)}>
              {label}
            </button>
          )}
        </For>
      </div>
      <div role="tabpanel" id={`panel-${tab()}`} aria-labelledby={`tab-${tab()}`} class="tab-panel">
        <Switch>
          <Match when={tab() === 'transcript'}>
            <div class="transcript" ref={box} tabindex="0" aria-label="Transcript" data-testid="transcript">
              <For each={t.entries} fallback={<p class="muted">No events yet.</p>}>
                {(entry) => <EntryView entry={entry} />}
              </For>
            </div>
          </Match>
          <Match when={tab() === 'events'}>
            <pre class="server-log events" tabindex="0" aria-label="Raw events, one JSON object per line" data-testid="raw-events">
              <For each={t.events}>{(e) => <span data-seq={e.seq}>{JSON.stringify(e) + '\n'}</span>}</For>
            </pre>
          </Match>
          <Match when={tab() === 'diff'}>
            <TaskDiff node={props.node} id={props.id} version={`${task()?.status}:${task()?.commitSha}`} />
          </Match>
        </Switch>
      </div>
      <Show when={task() && !active()}>
        <form class="card follow-up" onSubmit={sendFollowUp}>
          <label class="field">
            Follow-up
            <textarea name="prompt" rows="3" required placeholder="Continue on the same branch: what next?" />
          </label>
          <button type="submit" class="primary" disabled={busy()}>
            Send follow-up
          </button>
        </form>
      </Show>
    </section>
  );
}

function EntryView(props: { entry: Entry }) {
  const e = props.entry;
  return (
    <Switch>
      <Match when={e.kind === 'user' && e}>
        {(u) => (
          <div class="msg user" data-seq={u().seq}>
            <span class="who-label">Prompt</span>
            <div class="md" innerHTML={markdown(u().text)} />
          </div>
        )}
      </Match>
      <Match when={e.kind === 'assistant' && e}>
        {(a) => (
          <div class="msg assistant" classList={{ streaming: a().streaming }} data-seq={a().seq} aria-busy={a().streaming}>
            <div class="md" innerHTML={markdown(a().text)} />
          </div>
        )}
      </Match>
      <Match when={e.kind === 'tool' && e}>
        {(call) => (
          <details class="tool" data-seq={call().seq} data-tool={call().name}>
            <summary>
              <code>{call().name}</code> <span class="muted">{gist(call().input)}</span>{' '}
              <span class={`badge ${call().result ? (call().result!.isError ? 'state-failed' : 'state-completed') : 'state-running'}`}>
                {call().result ? (call().result!.isError ? 'error' : `${call().result!.ms} ms`) : 'running…'}
              </span>
            </summary>
            <p class="muted small">Input</p>
            <pre>{JSON.stringify(call().input, null, 2)}</pre>
            <Show when={call().result}>
              {(r) => (
                <>
                  <p class="muted small">Result</p>
                  <pre classList={{ error: r().isError }}>{r().content || '(no output)'}</pre>
                </>
              )}
            </Show>
          </details>
        )}
      </Match>
      <Match when={e.kind === 'note' && e}>
        {(n) => (
          <p class={`note-line ${n().tone}`} data-seq={n().seq}>
            {n().text}
          </p>
        )}
      </Match>
    </Switch>
  );
}

function TaskDiff(props: { node: string; id: string; version: unknown }) {
  const [diff, { refetch }] = createResource(
    () => props.version,
    () => api.taskDiff(props.node, props.id).catch((e: Error) => ({ error: e.message })),
  );
  const failure = () => {
    const r = diff();
    return r && 'error' in r ? r.error : null;
  };
  const view = () => {
    const r = diff();
    return r && !('error' in r) ? r : null;
  };
  return (
    <Show
      when={view()}
      fallback={
        <p class={failure() ? 'error' : 'muted'} role={failure() ? 'alert' : undefined}>
          {failure() ?? 'Loading the diff…'}
        </p>
      }
    >
      {(d) => (
          <>
            <div class="row">
              <p class="muted small grow">
                {d().live ? 'The work tree as it is now (not committed yet).' : d().head ? `From ${d().base?.slice(0, 10)} to ${d().head?.slice(0, 10)}.` : 'No changes yet.'}
                <Show when={d().truncated}> The diff is cut: see the branch for the rest.</Show>
                <Show when={d().untracked.length}> New files: {d().untracked.join(', ')}.</Show>
              </p>
              <button type="button" onClick={() => refetch()}>
                Refresh
              </button>
            </div>
            <Show when={d().patch} fallback={<p class="muted">No changes.</p>}>
              <Diff patch={d().patch} label="The task's changes as a unified diff" />
            </Show>
          </>
        )}
    </Show>
  );
}
