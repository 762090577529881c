/**
 * @module
 * The share modal for one port: who may open it (private, password, public), the
 * password, when it ends, its links (its own origin first, then the unguessable link,
 * then the path form for apps built with a base path) with copy buttons, revoke, and the
 * way to its access log.
 */
import { A } from '@solidjs/router';
import { createEffect, createResource, createSignal, For, Show } from 'solid-js';
import { api, type ShareMode, type ShareView } from '../api.ts';
import { until } from '../format.ts';
import { data } from '../state.ts';
import { copy, ui } from '../ui.ts';
import { Dialog } from './Dialog.tsx';

const MODES: { mode: ShareMode; label: string; hint: string }[] = [
  { mode: 'private', label: 'Private', hint: 'Only you, signed in.' },
  { mode: 'password', label: 'Password', hint: 'Anyone with the link and the password.' },
  { mode: 'public', label: 'Public', hint: 'Anyone with the link.' },
];

const EXPIRIES = [
  { value: '', label: 'Never' },
  { value: '30m', label: 'In 30 minutes' },
  { value: '1h', label: 'In 1 hour' },
  { value: '8h', label: 'In 8 hours' },
  { value: '24h', label: 'In 24 hours' },
  { value: '7d', label: 'In 7 days' },
  { value: '30d', label: 'In 30 days' },
];
const KEEP = 'keep';

export function ShareModal(props: { node: string; port: number; onClose: () => void }) {
  const [share, { mutate }] = createResource(async () => {
    const { shares } = await api.shares(props.node);
    return shares.find((s) => s.port === props.port) ?? null;
  });
  const [mode, setMode] = createSignal<ShareMode | null>(null);
  const [password, setPassword] = createSignal('');
  const [expiry, setExpiry] = createSignal<string | null>(null);
  const [error, setError] = createSignal('');
  const [busy, setBusy] = createSignal(false);
  const [token, setToken] = createSignal('');

  let form: HTMLFormElement | undefined;
  // Once loaded, keyboard users start on the chosen mode.
  createEffect(() => {
    if (!share.loading) queueMicrotask(() => form?.querySelector<HTMLInputElement>('input[name=mode]:checked')?.focus());
  });

  const current = () => share()?.mode ?? 'private';
  const chosenMode = () => mode() ?? current();
  const chosenExpiry = () => expiry() ?? (share()?.expiresAt ? KEEP : '');
  const row = () => data.ports[props.node]?.ports.find((p) => p.port === props.port);
  const title = () => `Share :${props.port}${row()?.repo ? ` · ${row()!.repo!.name}` : ''}`;

  async function save(event: SubmitEvent) {
    event.preventDefault();
    setError('');
    const m = chosenMode();
    if (m === 'password' && !password() && current() !== 'password') return setError('Choose a password for this share.');
    let expiresIn: string | null = null;
    const e = chosenExpiry();
    if (e === KEEP && share()?.expiresAt) expiresIn = `${Math.max(1, Math.ceil((share()!.expiresAt! - Date.now()) / 1000))}s`;
    else if (e && e !== KEEP) expiresIn = e;
    setBusy(true);
    try {
      const result: ShareView = m === 'private' ? await api.unshare(props.node, props.port) : await api.share(props.node, props.port, { mode: m, ...(password() ? { password: password() } : {}), expiresIn });
      mutate(result.mode === 'private' ? null : result);
      setToken(result.accessToken ?? '');
      setMode(null);
      setExpiry(null);
      setPassword('');
      ui.notify(result.mode === 'private' ? `:${props.port} is private` : `:${props.port} is shared (${result.mode})`);
      void data.refreshPorts(props.node).catch(() => {});
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  async function revoke() {
    setError('');
    setBusy(true);
    try {
      await api.unshare(props.node, props.port);
      mutate(null);
      setMode(null);
      setExpiry(null);
      setToken('');
      ui.notify(`Share of :${props.port} revoked; old links stop working`);
      void data.refreshPorts(props.node).catch(() => {});
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  const links = () => {
    const s = share();
    const r = row();
    const list: { key: string; label: string; url: string }[] = [];
    const own = s?.url ?? r?.url;
    const path = s?.pathUrl ?? r?.pathUrl;
    if (own) list.push({ key: 'subdomain', label: 'Own origin', url: own });
    if (s?.linkUrl) list.push({ key: 'link', label: 'Link', url: s.linkUrl });
    // The path form serves public shares only (and only ports whose path form is on): no other link that would not open.
    if (path && s?.mode === 'public') list.push({ key: 'path', label: "Path (if the port's path form is on; shares one origin, for apps built with a base path)", url: path });
    return list;
  };

  return (
    <Dialog title={title()} onClose={props.onClose} class="share-modal">
      <Show when={!share.loading} fallback={<p class="muted">Loading…</p>}>
        <Show when={!share.error} fallback={<p class="error" role="alert">{String(share.error?.message ?? share.error)}</p>}>
          <p class="muted" data-testid="share-state">
            Now: <strong>{current()}</strong>
            <Show when={share()?.expiresAt}>{(at) => <> · ends {until(at())}</>}</Show>
          </p>
          <form ref={form} onSubmit={save}>
            <fieldset class="modes">
              <legend>Who can open it</legend>
              <For each={MODES}>
                {(m) => (
                  <label class="mode-choice">
                    <input type="radio" name="mode" value={m.mode} checked={chosenMode() === m.mode} onChange={() => setMode(m.mode)} />
                    <span>
                      <strong>{m.label}</strong> <span class="muted">{m.hint}</span>
                    </span>
                  </label>
                )}
              </For>
            </fieldset>
            <Show when={chosenMode() === 'password'}>
              <label class="field">
                Password
                <input
                  type="password"
                  name="share-password"
                  autocomplete="new-password"
                  value={password()}
                  onInput={(e) => setPassword(e.currentTarget.value)}
                  placeholder={current() === 'password' ? 'Leave empty to keep the current one' : ''}
                  required={current() !== 'password'}
                />
              </label>
            </Show>
            <Show when={chosenMode() !== 'private'}>
              <label class="field">
                Ends
                <select name="expiry" value={chosenExpiry()} onChange={(e) => setExpiry(e.currentTarget.value)}>
                  <Show when={share()?.expiresAt}>{(at) => <option value={KEEP}>Keep ({until(at())})</option>}</Show>
                  <For each={EXPIRIES}>{(o) => <option value={o.value}>{o.label}</option>}</For>
                </select>
              </label>
            </Show>
            <Show when={error()}>
              <p class="error" role="alert">
                {error()}
              </p>
            </Show>
            <div class="actions">
              <Show when={share()}>
                <button type="button" class="danger" disabled={busy()} onClick={revoke}>
                  Revoke
                </button>
              </Show>
              <button type="submit" class="primary" disabled={busy()}>
                Save
              </button>
            </div>
          </form>
          <Show when={token()}>
            <div class="token" role="note">
              <p>Token for scripts (<code>Authorization: Bearer …</code>), shown only now:</p>
              <div class="copy-row">
                <code>{token()}</code>
                <button type="button" onClick={() => copy(token(), 'Token')}>
                  Copy
                </button>
              </div>
            </div>
          </Show>
          <h3>Links</h3>
          <Show when={current() === 'private'}>
            <p class="muted">Private: these open only for you. Share the port to let others in.</p>
          </Show>
          <ul class="links">
            <For each={links()}>
              {(l) => (
                <li class="copy-row">
                  <span class="link-label">{l.label}</span>
                  <a href={l.url} target="_blank" rel="noopener" data-link={l.key}>
                    {l.url}
                  </a>
                  <button type="button" aria-label={`Copy ${l.key} URL`} onClick={() => copy(l.url)}>
                    Copy
                  </button>
                </li>
              )}
            </For>
          </ul>
          <p>
            <A href={`/n/${encodeURIComponent(props.node)}/p/${props.port}/log`} onClick={() => props.onClose()}>
              Access log of :{props.port}
            </A>
          </p>
        </Show>
      </Show>
    </Dialog>
  );
}
