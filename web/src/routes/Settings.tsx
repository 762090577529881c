/**
 * @module
 * Settings: API tokens (create, shown once; list; delete), each node's scan range and
 * interval as it reports them, its dev-server settings and its Anthropic key for agent
 * tasks (write-only), GitHub sign-in, and versions.
 */
import { createResource, createSignal, For, Show } from 'solid-js';
import { ApiError, api, optional, type Scope, type TokenInfo } from '../api.ts';
import { Confirm } from '../components/Dialog.tsx';
import { ago } from '../format.ts';
import { data, session } from '../state.ts';
import { copy, ui, screenTitle } from '../ui.ts';

declare const __APP_VERSION__: string;

export default function Settings() {
  screenTitle('Settings');
  const githubLogin = () => {
    const me = session.me();
    return me && !me.local ? (me.providers?.github?.login ?? null) : null;
  };
  return (
    <>
      <h1>Settings</h1>
      <Tokens />
      <NodeSettings />
      <For each={(data.nodes() ?? []).filter((n) => n.online)}>{(n) => <ServerSettings node={n.id} name={n.name ?? n.id} />}</For>
      <For each={(data.nodes() ?? []).filter((n) => n.online)}>{(n) => <AnthropicKey node={n.id} name={n.name ?? n.id} />}</For>
      <section class="card" aria-labelledby="github-title">
        <h2 id="github-title">GitHub</h2>
        <Show when={session.providers()?.github} fallback={<p class="muted">GitHub sign-in is not configured on this edge (README, Sign in with GitHub).</p>}>
          <Show
            when={githubLogin()}
            fallback={
              <>
                <p>Not connected. Signing in with a GitHub account whose primary, verified email is yours links it to this account.</p>
                <a class="button" href="/api/auth/github/start" rel="external">
                  Connect GitHub
                </a>
              </>
            }
          >
            {(login) => <p data-testid="github-login">Connected as @{login()}.</p>}
          </Show>
        </Show>
      </section>
      <section class="card" aria-labelledby="about-title">
        <h2 id="about-title">About</h2>
        <dl class="facts">
          <dt>Web app</dt>
          <dd data-testid="web-version">{__APP_VERSION__}</dd>
          <For each={data.nodes() ?? []}>{(n) => <NodeVersion node={n.id} name={n.name ?? n.id} online={n.online} />}</For>
        </dl>
      </section>
    </>
  );
}

function NodeVersion(props: { node: string; name: string; online: boolean }) {
  const [status] = createResource(() => props.online && props.node, (node) => optional(api.nodeStatus(node)).catch(() => null));
  return (
    <>
      <dt>homeportd on {props.name}</dt>
      <dd>{status()?.node.version ?? (props.online ? '…' : 'offline')}</dd>
    </>
  );
}

function NodeSettings() {
  return (
    <section class="card" aria-labelledby="scan-title">
      <h2 id="scan-title">Port scanning</h2>
      <For each={data.nodes() ?? []} fallback={<p class="muted">No nodes.</p>}>
        {(n) => {
          const [status] = createResource(() => n.online && n.id, (node) => optional(api.nodeStatus(node)).catch(() => null));
          return (
            <p>
              <strong>{n.name ?? n.id}</strong>:{' '}
              <Show when={status()?.scan} fallback={<span class="muted">{n.online ? 'loading…' : 'offline'}</span>}>
                {(s) => (
                  <>
                    ports {s().low}–{s().high}, every {s().intervalMs / 1000} s
                  </>
                )}
              </Show>
            </p>
          );
        }}
      </For>
      <p class="muted small">Change them on the node: HOMEPORT_SCAN_RANGE and HOMEPORT_SCAN_INTERVAL_MS (README, Configuration).</p>
    </section>
  );
}

/** How a node treats the dev servers it supervises (its /api/settings). */
function ServerSettings(props: { node: string; name: string }) {
  const [current, { mutate }] = createResource(() => props.node, (node) => optional(api.nodeSettings(node)).catch(() => null));
  const [error, setError] = createSignal('');
  async function save(event: SubmitEvent) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const idle = String(form.get('idle') ?? '').trim();
    setError('');
    try {
      const result = await api.setNodeSettings(props.node, {
        autoRestart: form.get('autoRestart') === 'on',
        restoreServers: form.get('restoreServers') === 'on',
        idleTimeoutMinutes: idle === '' || idle === '0' ? null : Number(idle),
      });
      mutate(result);
      ui.notify(`Saved the dev-server settings of ${props.name}`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }
  return (
    <Show when={current()?.settings}>
      {(s) => (
        <section class="card" aria-labelledby={`servers-${props.node}`} data-settings={props.node}>
          <h2 id={`servers-${props.node}`}>Dev servers on {props.name}</h2>
          <form onSubmit={save}>
            <label class="check">
              <input type="checkbox" name="autoRestart" checked={s().autoRestart} /> Restart a server that crashes
            </label>
            <label class="check">
              <input type="checkbox" name="restoreServers" checked={s().restoreServers} /> Start running servers again after homeportd restarts
            </label>
            <label class="field">
              Stop a server unused for (minutes, empty = never)
              <input name="idle" type="number" min="0" max="10080" step="1" value={s().idleTimeoutMinutes ?? ''} />
            </label>
            <Show when={error()}>
              <p class="error" role="alert">
                {error()}
              </p>
            </Show>
            <button type="submit" class="primary">
              Save
            </button>
          </form>
        </section>
      )}
    </Show>
  );
}

/** The node's Anthropic API key for agent tasks: write-only (set, replace, clear); its value is never shown. */
function AnthropicKey(props: { node: string; name: string }) {
  const [info, { mutate }] = createResource(() => props.node, (node) => optional(api.anthropicKey(node)).catch(() => null));
  const [error, setError] = createSignal('');
  const [clearing, setClearing] = createSignal(false);
  async function save(key: string | null, form?: HTMLFormElement) {
    setError('');
    try {
      mutate(await api.setAnthropicKey(props.node, key));
      form?.reset();
      ui.notify(key === null ? `Anthropic key of ${props.name} cleared` : `Anthropic key of ${props.name} saved`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
    setClearing(false);
  }
  return (
    <Show when={info()}>
      {(i) => (
        <section class="card" aria-labelledby={`anthropic-${props.node}`} data-anthropic={props.node}>
          <h2 id={`anthropic-${props.node}`}>Anthropic API key on {props.name}</h2>
          <p data-testid="anthropic-key-state">
            {i().set ? `Set${i().updatedAt ? ` ${ago(i().updatedAt!, ui.now())}` : ''}. It stays on the node, encrypted; it is never shown again.` : 'Not set: agent tasks on this node need one.'}
          </p>
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              const form = e.currentTarget;
              const key = String(new FormData(form).get('key') ?? '').trim();
              if (key) void save(key, form);
            }}
          >
            <label class="field">
              {i().set ? 'New key' : 'Key'}
              <input name="key" type="password" autocomplete="off" required placeholder="sk-ant-…" />
            </label>
            <button type="submit" class="primary">
              {i().set ? 'Replace key' : 'Save key'}
            </button>
            <Show when={i().set}>
              <button type="button" class="danger" onClick={() => setClearing(true)}>
                Clear key
              </button>
            </Show>
          </form>
          <Show when={error()}>
            <p class="error" role="alert">
              {error()}
            </p>
          </Show>
          <Show when={clearing()}>
            <Confirm title={`Clear the Anthropic key of ${props.name}?`} message="Agent tasks on this node stop working until a key is set again." action="Clear key" onConfirm={() => save(null)} onClose={() => setClearing(false)} />
          </Show>
        </section>
      )}
    </Show>
  );
}

function Tokens() {
  const [tokens, { refetch }] = createResource(async () => {
    try {
      return (await api.tokens()).tokens;
    } catch (e) {
      // The local owner has no account, so no tokens: say so instead of failing.
      if (e instanceof ApiError && e.status === 403) return null;
      throw e;
    }
  });
  const [created, setCreated] = createSignal<(TokenInfo & { token: string }) | null>(null);
  const [error, setError] = createSignal('');

  async function create(event: SubmitEvent) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const fields = new FormData(form);
    const scopes = fields.getAll('scope') as Scope[];
    setError('');
    try {
      setCreated(await api.createToken(String(fields.get('name') ?? ''), scopes));
      form.reset();
      await refetch();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  async function remove(token: TokenInfo) {
    try {
      await api.deleteToken(token.id);
      ui.notify(`Token ${token.name} deleted`);
      if (created()?.id === token.id) setCreated(null);
      await refetch();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <section class="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <Show when={tokens() !== null} fallback={<p class="muted">Tokens belong to an account: sign in with one to create them (the local owner has none).</p>}>
        <p class="muted small">For scripts and the CLI: send <code>Authorization: Bearer &lt;token&gt;</code>. "read" covers GET, "write" everything else.</p>
        <form class="inline" onSubmit={create}>
          <label class="field">
            Name
            <input name="name" required maxLength={100} placeholder="laptop script" />
          </label>
          <fieldset class="checks">
            <legend>Scopes</legend>
            <label>
              <input type="checkbox" name="scope" value="read" checked /> read
            </label>
            <label>
              <input type="checkbox" name="scope" value="write" /> write
            </label>
          </fieldset>
          <button type="submit" class="primary">
            Create token
          </button>
        </form>
        <Show when={error()}>
          <p class="error" role="alert">
            {error()}
          </p>
        </Show>
        <Show when={created()}>
          {(t) => (
            <div class="token" role="note">
              <p>New token "{t().name}", shown only now:</p>
              <div class="copy-row">
                <code data-testid="new-token">{t().token}</code>
                <button type="button" onClick={() => copy(t().token, 'Token')}>
                  Copy
                </button>
              </div>
            </div>
          )}
        </Show>
        <ul class="list">
          <For each={tokens() ?? []} fallback={<li class="muted">No tokens.</li>}>
            {(t) => (
              <li class="row" data-token={t.name}>
                <div class="grow">
                  <strong>{t.name}</strong> <span class="muted small">{t.scopes.join(', ')}</span>
                  <div class="muted small">
                    created {ago(t.createdAt, ui.now())} · {t.lastUsedAt ? `last used ${ago(t.lastUsedAt, ui.now())}` : 'never used'}
                  </div>
                </div>
                <button type="button" class="danger" onClick={() => remove(t)} aria-label={`Delete token ${t.name}`}>
                  Delete
                </button>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </section>
  );
}
