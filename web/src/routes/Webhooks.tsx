/**
 * @module
 * Webhooks (docs/webhooks.md): GitHub repositories mapped to a node and a repo on it,
 * generic endpoints (created with a secret shown once, next to a filled-in signing
 * example), and the delivery log a page at a time, with Redeliver for the deliveries that
 * started nothing. Users see their own; admins and the local owner everyone's.
 */
import { A } from '@solidjs/router';
import { createResource, createSignal, For, onCleanup, Show } from 'solid-js';
import { webhooksApi, type RepoMapping, type WebhookDelivery, type WebhookEndpoint } from '../api.ts';
import { Confirm } from '../components/Dialog.tsx';
import { ago, dateTime } from '../format.ts';
import { taskPath } from '../repos.ts';
import { data } from '../state.ts';
import { copy, ui, screenTitle } from '../ui.ts';

const PAGE = 25;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export default function Webhooks() {
  screenTitle('Webhooks');
  return (
    <>
      <h1>Webhooks</h1>
      <p class="muted">
        GitHub issues and signed requests from other services start agent tasks on your nodes. See <code>docs/webhooks.md</code> for the setup on GitHub.
      </p>
      <GithubRepos />
      <Endpoints />
      <Deliveries />
    </>
  );
}

/** The nodes' names, and the repos each knows (for the pickers). */
const nodes = () => data.nodes() ?? [];
const nodeName = (id: string) => nodes().find((n) => n.id === id)?.name ?? id;

function NodeAndRepo(props: { idPrefix: string; repoLabel: string; repoRequired: boolean }) {
  const [node, setNode] = createSignal(nodes()[0]?.id ?? '');
  return (
    <>
      <label class="field">
        Node
        <select name="node" required onChange={(e) => setNode(e.currentTarget.value)}>
          <For each={nodes()}>{(n) => <option value={n.id}>{n.name ?? n.id}</option>}</For>
        </select>
      </label>
      <label class="field">
        {props.repoLabel}
        <input name="repo" required={props.repoRequired} maxLength={100} pattern="[A-Za-z0-9._-]+" list={`${props.idPrefix}-repos`} autocomplete="off" />
        <datalist id={`${props.idPrefix}-repos`}>
          <For each={data.repos[node() || nodes()[0]?.id] ?? []}>{(r) => <option value={r.name} />}</For>
        </datalist>
      </label>
    </>
  );
}

function GithubRepos() {
  const [setup] = createResource(() => webhooksApi.github().catch(() => null));
  const [repos, { refetch }] = createResource(() => webhooksApi.repos().then((r) => r.repos));
  const [error, setError] = createSignal('');
  const [removing, setRemoving] = createSignal<RepoMapping | null>(null);

  async function add(event: SubmitEvent) {
    event.preventDefault();
    const formEl = event.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const fullName = String(form.get('github') ?? '').trim();
    setError('');
    if (!/^[^/\s]+\/[^/\s]+$/.test(fullName)) return setError('Say the GitHub repository as owner/name, e.g. acme/shop.');
    try {
      await webhooksApi.mapRepo(fullName, {
        node: String(form.get('node')),
        repo: String(form.get('repo')).trim(),
        allowCollaborators: form.get('collaborators') === 'on',
        allowedUsers: String(form.get('allow') ?? '')
          .split(/[\s,]+/)
          .map((u) => u.replace(/^@/, ''))
          .filter(Boolean),
        onDenied: form.get('reply') === 'on' ? 'reply' : 'ignore',
      });
      formEl.reset();
      ui.notify(`${fullName} mapped`);
      refetch();
    } catch (e) {
      setError(message(e));
    }
  }

  async function remove(m: RepoMapping) {
    try {
      await webhooksApi.unmapRepo(m.repo);
      ui.notify(`${m.repo} unmapped`);
      refetch();
    } catch (e) {
      setError(message(e));
    }
    setRemoving(null);
  }

  return (
    <section class="card" aria-labelledby="gh-hooks-title">
      <h2 id="gh-hooks-title">GitHub repositories</h2>
      <Show when={setup()}>
        {(s) => (
          <dl class="facts small">
            <dt>Payload URL</dt>
            <dd class="copy-row">
              <code>{s().url}</code>
              <button type="button" onClick={() => copy(s().url, 'Payload URL')}>
                Copy
              </button>
            </dd>
            <dt>Events</dt>
            <dd>
              {s().events.join(', ')} · mention <code>{s().mention}</code> or label <code>{s().label}</code>
            </dd>
            <dt>Secret</dt>
            <dd data-testid="github-secret-state">{s().secretConfigured ? 'set on the edge' : 'not set: GitHub deliveries are refused (503) until GITHUB_WEBHOOK_SECRET is set'}</dd>
            <dt>Comments</dt>
            <dd>{s().commentsEnabled ? 'Homeport writes a tracking comment on the issue' : 'off (no GITHUB_TOKEN): only allow-listed users can trigger'}</dd>
          </dl>
        )}
      </Show>
      <form class="inline" onSubmit={add} aria-label="Map a GitHub repository">
        <label class="field">
          GitHub repository
          <input name="github" required placeholder="owner/name" autocomplete="off" />
        </label>
        <NodeAndRepo idPrefix="gh" repoLabel="Repo on the node" repoRequired />
        <label class="field">
          Also allow (GitHub logins)
          <input name="allow" placeholder="ada, grace" autocomplete="off" />
        </label>
        <label class="check">
          <input type="checkbox" name="collaborators" checked /> Collaborators with write access may trigger
        </label>
        <label class="check">
          <input type="checkbox" name="reply" checked /> Reply politely to others
        </label>
        <button type="submit" class="primary">
          Map repository
        </button>
      </form>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={!repos.error} fallback={<p class="error">{message(repos.error)}</p>}>
        <ul class="list">
          <For each={repos() ?? []} fallback={<li class="muted">No repositories mapped yet.</li>}>
            {(m) => (
              <li class="row" data-mapping={m.repo}>
                <div class="grow">
                  <strong>{m.repo}</strong> → {nodeName(m.node)} / {m.localRepo}
                  <div class="muted small">
                    {[m.allowCollaborators ? 'collaborators with write access' : null, m.allowedUsers.length ? m.allowedUsers.map((u) => `@${u}`).join(', ') : null].filter(Boolean).join(' and ') || 'nobody'} may trigger · others{' '}
                    {m.onDenied === 'reply' ? 'get a reply' : 'are ignored'}
                  </div>
                </div>
                <button type="button" class="danger" onClick={() => setRemoving(m)} aria-label={`Remove the mapping of ${m.repo}`}>
                  Remove
                </button>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <Show when={removing()}>
        {(m) => <Confirm title={`Unmap ${m().repo}?`} message={<p>Its issues stop starting tasks. The delivery log keeps its entries.</p>} action="Remove" onConfirm={() => remove(m())} onClose={() => setRemoving(null)} />}
      </Show>
    </section>
  );
}

/** The signing example of docs/webhooks.md with this endpoint's URL and secret filled in. */
function signingExample(url: string, secret: string): string {
  return [
    `URL=${url}`,
    `SECRET=${secret}`,
    `BODY='{"prompt":"The nightly build fails in test/cart.test.ts: fix it."}'`,
    'TS=$(date +%s)',
    `SIG=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.* //')`,
    `curl -sS "$URL" -H 'content-type: application/json' \\`,
    `  -H "X-Homeport-Timestamp: $TS" -H "X-Homeport-Signature: sha256=$SIG" -d "$BODY"`,
  ].join('\n');
}

function Endpoints() {
  const [list, { refetch }] = createResource(() => webhooksApi.endpoints().then((r) => r.endpoints));
  const [error, setError] = createSignal('');
  const [created, setCreated] = createSignal<{ endpoint: WebhookEndpoint; secret: string; url: string } | null>(null);
  const [deleting, setDeleting] = createSignal<WebhookEndpoint | null>(null);

  async function create(event: SubmitEvent) {
    event.preventDefault();
    const formEl = event.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const repo = String(form.get('repo') ?? '').trim();
    setError('');
    try {
      setCreated(
        await webhooksApi.createEndpoint({
          name: String(form.get('name')).trim(),
          node: String(form.get('node')),
          repo: repo || null,
          ratePerMinute: Number(form.get('rate')),
        }),
      );
      formEl.reset();
      refetch();
    } catch (e) {
      setError(message(e));
    }
  }

  async function rotate(e: WebhookEndpoint) {
    setError('');
    try {
      setCreated(await webhooksApi.rotateEndpoint(e.id));
      ui.notify(`New secret for ${e.name}; the old one stopped working`);
    } catch (err) {
      setError(message(err));
    }
  }

  async function remove(e: WebhookEndpoint) {
    try {
      await webhooksApi.deleteEndpoint(e.id);
      if (created()?.endpoint.id === e.id) setCreated(null);
      ui.notify(`Endpoint ${e.name} deleted`);
      refetch();
    } catch (err) {
      setError(message(err));
    }
    setDeleting(null);
  }

  return (
    <section class="card" aria-labelledby="endpoints-title">
      <h2 id="endpoints-title">Generic endpoints</h2>
      <p class="muted small">
        For CI, chat bots and scripts: a signed JSON <code>{'{"prompt": "…", "repo": "…"}'}</code> starts a task. Leave the repo empty to let each request name it.
      </p>
      <form class="inline" onSubmit={create} aria-label="Create a webhook endpoint">
        <label class="field">
          Name
          <input name="name" required maxLength={60} placeholder="nightly CI" autocomplete="off" />
        </label>
        <NodeAndRepo idPrefix="ep" repoLabel="Repo (optional)" repoRequired={false} />
        <label class="field">
          Requests a minute
          <input name="rate" type="number" min="1" max="600" step="1" value="30" required />
        </label>
        <button type="submit" class="primary">
          Create endpoint
        </button>
      </form>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={created()}>
        {(c) => (
          <div class="token" role="note" data-testid="endpoint-secret">
            <p>
              Endpoint "{c().endpoint.name}": its secret, shown only now. Keep it where the sender can read it.
            </p>
            <div class="copy-row">
              <code data-testid="new-endpoint-secret">{c().secret}</code>
              <button type="button" onClick={() => copy(c().secret, 'Secret')}>
                Copy secret
              </button>
            </div>
            <p class="small">A signed request from a shell:</p>
            <pre class="command" data-testid="signing-example">
              {signingExample(c().url, c().secret)}
            </pre>
            <div class="row">
              <button type="button" onClick={() => copy(signingExample(c().url, c().secret), 'Example')}>
                Copy example
              </button>
              <button type="button" onClick={() => setCreated(null)}>
                Done
              </button>
            </div>
          </div>
        )}
      </Show>
      <Show when={!list.error} fallback={<p class="error">{message(list.error)}</p>}>
        <ul class="list">
          <For each={list() ?? []} fallback={<li class="muted">No endpoints yet.</li>}>
            {(e) => (
              <li class="row" data-endpoint={e.id}>
                <div class="grow">
                  <strong>{e.name}</strong> → {nodeName(e.node)} / {e.repo ?? <em>repo from the request</em>}
                  <div class="copy-row small">
                    <code>{e.url}</code>
                    <button type="button" onClick={() => copy(e.url, 'URL')} aria-label={`Copy the URL of ${e.name}`}>
                      Copy
                    </button>
                  </div>
                  <div class="muted small">
                    {e.ratePerMinute} a minute · created {ago(e.createdAt, ui.now())} · {e.lastUsedAt ? `last used ${ago(e.lastUsedAt, ui.now())}` : 'never used'}
                  </div>
                </div>
                <button type="button" onClick={() => rotate(e)} aria-label={`New secret for ${e.name}`}>
                  New secret
                </button>
                <button type="button" class="danger" onClick={() => setDeleting(e)} aria-label={`Delete endpoint ${e.name}`}>
                  Delete
                </button>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <Show when={deleting()}>
        {(e) => <Confirm title={`Delete endpoint ${e().name}?`} message={<p>Requests to its URL get 404 from now on.</p>} action="Delete" onConfirm={() => remove(e())} onClose={() => setDeleting(null)} />}
      </Show>
    </section>
  );
}

const FAILED = new Set(['refused', 'too_large', 'invalid', 'replay', 'rate_limited', 'unknown_repo', 'denied', 'node_revoked', 'failed']);

function Deliveries() {
  /** the `before` times of the pages we came through, to go back */
  const [trail, setTrail] = createSignal<(number | null)[]>([null]);
  const before = () => trail()[trail().length - 1];
  const [page, { refetch }] = createResource(() => ({ before: before() }), (k) => webhooksApi.deliveries(k.before, PAGE));
  const [error, setError] = createSignal('');
  // The newest page follows new deliveries by itself.
  const timer = setInterval(() => trail().length === 1 && !document.hidden && refetch(), 5000);
  onCleanup(() => clearInterval(timer));

  async function redeliver(d: WebhookDelivery) {
    setError('');
    try {
      await webhooksApi.redeliver(d.id);
      ui.notify(`Delivery ${d.id} runs again`);
      refetch();
    } catch (e) {
      setError(message(e));
    }
  }

  return (
    <section aria-labelledby="deliveries-title">
      <div class="page-head">
        <h2 id="deliveries-title">Delivery log</h2>
        <div class="actions">
          <button type="button" onClick={() => refetch()}>
            Refresh
          </button>
        </div>
      </div>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={!page.error} fallback={<p class="error" role="alert">{message(page.error)}</p>}>
        <Show when={page.latest} fallback={<p class="muted">Loading…</p>}>
          {(p) => (
            <>
              <Show when={p().deliveries.length} fallback={<p class="muted card">No deliveries yet. Every request to a webhook shows up here, refused ones too.</p>}>
                <table class="log">
                  <caption class="visually-hidden">Webhook deliveries, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">Status</th>
                      <th scope="col">Event</th>
                      <th scope="col">Repo</th>
                      <th scope="col" class="opt">Who</th>
                      <th scope="col">Outcome</th>
                      <th scope="col">Task</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={p().deliveries}>
                      {(d) => (
                        <tr data-delivery={d.id} data-status={d.status}>
                          <td>{dateTime(d.receivedAt)}</td>
                          <td class={FAILED.has(d.status) ? 'bad' : ''}>
                            {d.status} <span class="muted small">{d.httpStatus}</span>
                          </td>
                          <td>
                            {d.source === 'endpoint' ? 'endpoint' : (d.event ?? '—')}
                            {d.action ? ` (${d.action})` : ''}
                          </td>
                          <td>{d.repo ?? d.localRepo ?? '—'}</td>
                          <td class="opt">{d.sender ? `@${d.sender}` : (d.endpointId ?? '—')}</td>
                          <td>{d.note}</td>
                          <td>
                            <Show when={d.taskId && d.node}>
                              <A href={taskPath(d.node!, d.taskId!)}>{d.taskStatus ?? 'task'}</A>
                            </Show>
                            <Show when={d.prUrl}>
                              {' '}
                              <a href={d.prUrl!} rel="external noopener" target="_blank">
                                PR
                              </a>
                            </Show>
                            <Show when={d.redeliverable}>
                              <button type="button" onClick={() => redeliver(d)} aria-label={`Redeliver ${d.id}`}>
                                Redeliver
                              </button>
                            </Show>
                          </td>
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
    </section>
  );
}
