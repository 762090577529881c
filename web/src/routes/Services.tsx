/**
 * @module
 * Services on each online node: the installed ones with their honest status (each
 * part's state and health check), start/stop/restart, live logs, connection strings
 * (masked; revealed or copied on request) and uninstall (data kept unless purged, after
 * a confirm); the catalog, where installing a template that wants privileges first asks
 * for the owner's explicit grant, and the install's progress shows as it goes.
 */
import { createResource, createSignal, For, onCleanup, Show } from 'solid-js';
import { api, optional, type ServiceConnection, type ServiceTemplateView, type ServiceView } from '../api.ts';
import { Confirm, Dialog } from '../components/Dialog.tsx';
import { keysOf } from '../keyed.ts';
import { followSse } from '../sse.ts';
import { data } from '../state.ts';
import { copy, ui, screenTitle } from '../ui.ts';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export default function Services() {
  screenTitle('Services');
  const online = () => (data.nodes() ?? []).filter((n) => n.online);
  return (
    <section aria-labelledby="services-title">
      <h1 id="services-title">Services</h1>
      <For each={online()} fallback={<p class="muted card">No node is online: services run on a node.</p>}>
        {(n) => <NodeServices node={n.id} name={online().length > 1 ? (n.name ?? n.id) : null} />}
      </For>
    </section>
  );
}

/** A list that may not exist on an older node (null) or may fail (no Docker engine: the node says so). */
type Loaded<T> = T[] | null | { error: string };
const loaded = <T,>(request: Promise<{ [key: string]: T[] }>, key: string): Promise<Loaded<T>> => optional(request).then((r) => (r ? r[key] : null), (e) => ({ error: message(e) }));
const items = <T,>(value: Loaded<T> | undefined): T[] => (Array.isArray(value) ? value : []);

function NodeServices(props: { node: string; name: string | null }) {
  const [services, { refetch }] = createResource(() => props.node, (node) => loaded<ServiceView>(api.services(node), 'services'));
  const [catalog] = createResource(() => props.node, (node) => loaded<ServiceTemplateView>(api.catalog(node), 'templates'));
  const names = keysOf(() => items(services()), (s) => s.name);
  const [installing, setInstalling] = createSignal<ServiceTemplateView | null>(null);
  const [progress, setProgress] = createSignal<Record<string, string>>({});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refetchSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void refetch(), 200);
  };
  const unlisten = data.onEvent((e) => e.nodeId === props.node && e.topic === 'services' && refetchSoon());
  const poll = setInterval(() => data.liveStatus() !== 'live' && !document.hidden && void refetch(), 5000);
  const installs = new Set<AbortController>();
  onCleanup(() => {
    unlisten();
    clearInterval(poll);
    clearTimeout(timer);
    installs.forEach((c) => c.abort());
  });

  /** Follows an install's progress (steps, pull percentages) until it is done or failed. */
  function watchInstall(name: string) {
    const controller = new AbortController();
    installs.add(controller);
    let ended = false;
    const say = (text: string) => setProgress((p) => ({ ...p, [name]: text }));
    void followSse(
      () => api.serviceProgressUrl(props.node, name),
      (m) => {
        let e: { message?: string; progress?: { image: string; percent: number }; error?: string };
        try {
          e = JSON.parse(m.data);
        } catch {
          return;
        }
        if (m.event === 'step') say(e.message ?? '');
        else if (m.event === 'pull' && e.progress) say(`Pulling ${e.progress.image}: ${e.progress.percent}%`);
        else if (m.event === 'done' || m.event === 'error') {
          ended = true;
          say(m.event === 'error' ? `Install failed: ${e.error}` : '');
          ui.notify(m.event === 'error' ? `${name}: install failed` : `${name} installed`);
          refetchSoon();
        }
      },
      { signal: controller.signal, ended: () => ended },
    ).finally(() => installs.delete(controller));
  }

  return (
    <section aria-label={`Services on ${props.name ?? props.node}`} data-node={props.node}>
      <Show when={props.name}>
        <h2>On {props.name}</h2>
      </Show>
      <Show when={services() !== null} fallback={<p class="muted card">This node's homeportd has no services yet: update it.</p>}>
        <Show when={services() && 'error' in services()!}>
          <p class="error banner" role="alert">
            {(services() as { error: string }).error}
          </p>
        </Show>
        <h2 class="sub">Installed</h2>
        <ul class="list">
          <For each={names()} fallback={<li class="muted card">{services.loading ? 'Loading…' : 'No services installed yet: pick one from the catalog below.'}</li>}>
            {(name) => (
              <Show when={items(services()).find((s) => s.name === name)}>
                {(s) => <ServiceCard node={props.node} service={s()} progress={progress()[name]} onChange={refetchSoon} />}
              </Show>
            )}
          </For>
        </ul>
        <h2 class="sub">Catalog</h2>
        <Show when={catalog() && 'error' in catalog()!}>
          <p class="error" role="alert">
            {(catalog() as { error: string }).error}
          </p>
        </Show>
        <ul class="catalog">
          <For each={items(catalog())}>
            {(t) => (
              <li class="card" data-template={t.id}>
                <h3>{t.title}</h3>
                <p class="small">{t.description}</p>
                <p class="muted small">
                  {t.parts.map((p) => p.image).join(', ')}
                  <Show when={t.ports.length}> · ports {t.ports.map((p) => `${p.label} ${p.hostPort}`).join(', ')}</Show>
                </p>
                <Show when={t.needs.length}>
                  <p class="small warn-text">Needs your grant: {t.needs.map((n) => n.grant).join(', ')}</p>
                </Show>
                <button type="button" onClick={() => setInstalling(t)} aria-label={`Install ${t.title}`}>
                  Install…
                </button>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <Show when={installing()}>
        {(t) => (
          <InstallDialog
            node={props.node}
            template={t()}
            onClose={() => setInstalling(null)}
            onStarted={(name) => {
              setInstalling(null);
              watchInstall(name);
              refetchSoon();
            }}
          />
        )}
      </Show>
    </section>
  );
}

/** Install: an optional name and, for templates that want privileges, the grant the owner must give. */
function InstallDialog(props: { node: string; template: ServiceTemplateView; onClose: () => void; onStarted: (name: string) => void }) {
  const [error, setError] = createSignal('');
  const needs = () => props.template.needs;
  async function install(event: SubmitEvent) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const name = String(form.get('name') ?? '').trim() || undefined;
    setError('');
    try {
      const { service } = await api.installService(props.node, props.template.id, name, form.getAll('grant').map(String));
      props.onStarted(service.name);
    } catch (e) {
      setError(message(e));
    }
  }
  return (
    <Dialog title={`Install ${props.template.title}`} onClose={props.onClose}>
      <form onSubmit={install}>
        <label class="field">
          Name
          <input name="name" placeholder={props.template.id} pattern="[a-z]([a-z0-9-]{0,30}[a-z0-9])?" autocomplete="off" />
        </label>
        <Show when={needs().length}>
          <fieldset class="grant">
            <legend>This template needs your explicit grant</legend>
            <For each={needs()}>
              {(n) => (
                <label class="check">
                  <input type="checkbox" name="grant" value={n.grant} required />
                  <span>
                    <strong>{n.grant}</strong>: {n.why}
                  </span>
                </label>
              )}
            </For>
          </fieldset>
        </Show>
        <Show when={props.template.notes}>
          <p class="muted small">{props.template.notes}</p>
        </Show>
        <Show when={error()}>
          <p class="error" role="alert">
            {error()}
          </p>
        </Show>
        <div class="actions">
          <button type="button" onClick={() => props.onClose()}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Install
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ServiceCard(props: { node: string; service: ServiceView; progress?: string; onChange: () => void }) {
  const s = () => props.service;
  const [error, setError] = createSignal('');
  const [busy, setBusy] = createSignal(false);
  const [logs, setLogs] = createSignal(false);
  const [connection, setConnection] = createSignal<ServiceConnection | null>(null);
  const [removing, setRemoving] = createSignal(false);
  const installing = () => s().state === 'installing';

  async function run(what: () => Promise<unknown>, done: string) {
    setError('');
    setBusy(true);
    try {
      await what();
      ui.notify(done);
      props.onChange();
      return true;
    } catch (e) {
      setError(message(e));
      return false;
    } finally {
      setBusy(false);
    }
  }
  const action = (a: 'start' | 'stop' | 'restart') => run(() => api.service(props.node, s().name, a), `${s().name}: ${a === 'stop' ? 'stopped' : a === 'start' ? 'started' : 'restarted'}`);
  const showConnection = (reveal: boolean) => run(async () => setConnection(await api.serviceConnection(props.node, s().name, reveal)), reveal ? 'Connection details revealed' : 'Connection details');
  async function copyValue(label: string) {
    // The value is fetched revealed for the clipboard only; the screen keeps showing the mask.
    try {
      const revealed = await api.serviceConnection(props.node, s().name, true);
      const value = revealed.connections.find((c) => c.label === label)?.value ?? revealed.credentials.find((c) => c.name === label)?.value;
      if (value) await copy(value, label);
    } catch (e) {
      setError(message(e));
    }
  }

  return (
    <li class="card service" data-service={s().name}>
      <div class="row">
        <div class="grow">
          <h3>
            {s().name} <span class="muted small">{s().title}</span>
          </h3>
          <span class={`badge state-${s().state}`} data-testid="service-state">
            {s().state}
          </span>{' '}
          <span class="muted small">
            <For each={s().parts}>
              {(p, i) => (
                <>
                  {i() ? ' · ' : ''}
                  {p.part}: {p.state}
                  {p.health ? ` (${p.health})` : ''}
                  {p.job && p.exitCode !== null ? ` exit ${p.exitCode}` : ''}
                </>
              )}
            </For>
          </span>
          <Show when={props.progress || s().detail}>
            <div class="muted small" aria-live="polite" data-testid="service-detail">
              {props.progress || s().detail}
            </div>
          </Show>
          <For each={s().parts.filter((p) => p.detail && p.state !== 'running' && p.state !== 'completed')}>{(p) => <div class="small warn-text">{p.part}: {p.detail}</div>}</For>
          <Show when={s().endpoints.length}>
            <div class="small">
              <For each={s().endpoints}>
                {(e, i) => (
                  <>
                    {i() ? ' · ' : ''}
                    {e.label}:{' '}
                    <Show when={e.url} fallback={<code>127.0.0.1:{e.hostPort}</code>}>
                      {(url) => (
                        <a href={url()} target="_blank" rel="noopener">
                          127.0.0.1:{e.hostPort}
                        </a>
                      )}
                    </Show>
                  </>
                )}
              </For>
            </div>
          </Show>
        </div>
        <div class="actions">
          <Show
            when={s().desiredState === 'running'}
            fallback={
              <button type="button" class="primary" disabled={busy() || installing()} onClick={() => action('start')} aria-label={`Start ${s().name}`}>
                Start
              </button>
            }
          >
            <button type="button" disabled={busy() || installing()} onClick={() => action('stop')} aria-label={`Stop ${s().name}`}>
              Stop
            </button>
          </Show>
          <button type="button" disabled={busy() || installing()} onClick={() => action('restart')} aria-label={`Restart ${s().name}`}>
            Restart
          </button>
          <button type="button" aria-expanded={logs()} onClick={() => setLogs(!logs())} aria-label={`Logs of ${s().name}`}>
            Logs
          </button>
          <button type="button" aria-expanded={!!connection()} disabled={installing()} onClick={() => (connection() ? setConnection(null) : showConnection(false))} aria-label={`Connection of ${s().name}`}>
            Connection
          </button>
          <button type="button" class="danger" disabled={busy() || installing()} onClick={() => setRemoving(true)} aria-label={`Uninstall ${s().name}`}>
            Uninstall
          </button>
        </div>
      </div>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={connection()}>
        {(c) => (
          <div class="connection" data-testid="service-connection">
            <For each={[...c().connections.map((x) => ({ label: x.label, value: x.value })), ...c().credentials.map((x) => ({ label: x.name, value: x.value }))]}>
              {(row) => (
                <div class="copy-row">
                  <span class="link-label">{row.label}</span>
                  <code>{row.value}</code>
                  <button type="button" onClick={() => copyValue(row.label)} aria-label={`Copy ${row.label}`}>
                    Copy
                  </button>
                </div>
              )}
            </For>
            <Show when={c().notes}>
              <p class="muted small">{c().notes}</p>
            </Show>
            <Show when={!c().revealed}>
              <button type="button" onClick={() => showConnection(true)}>
                Reveal secrets
              </button>
            </Show>
          </div>
        )}
      </Show>
      <Show when={logs()}>
        <ServiceLog node={props.node} name={s().name} />
      </Show>
      <Show when={removing()}>
        <UninstallDialog node={props.node} name={s().name} onClose={() => setRemoving(false)} onDone={props.onChange} />
      </Show>
    </li>
  );
}

function UninstallDialog(props: { node: string; name: string; onClose: () => void; onDone: () => void }) {
  const [purge, setPurge] = createSignal(false);
  const [error, setError] = createSignal('');
  return (
    <Confirm
      title={`Uninstall ${props.name}?`}
      message={
        <>
          Its containers and network are removed.
          <label class="check">
            <input type="checkbox" checked={purge()} onChange={(e) => setPurge(e.currentTarget.checked)} /> Also delete its data: volumes and credentials (cannot be undone)
          </label>
          <Show when={error()}>
            <span class="error" role="alert">
              {error()}
            </span>
          </Show>
        </>
      }
      action={purge() ? 'Uninstall and delete data' : 'Uninstall'}
      onConfirm={async () => {
        try {
          await api.uninstallService(props.node, props.name, purge());
          ui.notify(`${props.name} uninstalled${purge() ? ', its data deleted' : ''}`);
          props.onClose();
          props.onDone();
        } catch (e) {
          setError(message(e));
        }
      }}
      onClose={props.onClose}
    />
  );
}

/** The service's output, followed live (a fresh tail after a reconnect). */
function ServiceLog(props: { node: string; name: string }) {
  const [lines, setLines] = createSignal<{ part: string; stream: string; text: string }[]>([]);
  const [state, setState] = createSignal('connecting');
  const controller = new AbortController();
  let ended = false;
  void followSse(
    () => api.serviceLogUrl(props.node, props.name),
    (m) => {
      if (m.event === 'end') return void (ended = true);
      try {
        const line = JSON.parse(m.data);
        setLines((l) => [...l.slice(-499), line]);
      } catch {
        // not a line
      }
    },
    {
      signal: controller.signal,
      ended: () => ended,
      onState: (s, error) => {
        if (s === 'live') setLines([]);
        setState(s === 'ended' ? (error ?? 'every container stopped') : s);
      },
    },
  );
  onCleanup(() => controller.abort());
  return (
    <section aria-label={`Logs of ${props.name}`}>
      <p class="muted small">Logs: {state()}</p>
      <pre class="server-log" tabindex="0" aria-label={`Output of ${props.name}`} data-testid="service-log">
        <For each={lines()} fallback={<span class="muted">No output yet.</span>}>{(l) => <span class={`line ${l.stream}`}>{`${l.part} | ${l.text}\n`}</span>}</For>
      </pre>
    </section>
  );
}
