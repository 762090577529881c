/**
 * @module
 * The layout every screen sits in: a header with the nodes' status, the live
 * connection's state and the navigation; the sign-in guard; and the app-wide share
 * modal, command palette and status notes.
 */
import { A, useLocation, useNavigate, type RouteSectionProps } from '@solidjs/router';
import { createEffect, For, lazy, onCleanup, Show } from 'solid-js';
import { api } from './api.ts';
import { ago } from './format.ts';
import { ShareModal } from './components/ShareModal.tsx';
import { data, session } from './state.ts';
import { ui, paletteShortcut } from './ui.ts';

const Palette = lazy(() => import('./components/Palette.tsx'));
const PUBLIC_PATHS = ['/signin', '/pending'];

const LIVE_LABEL = {
  live: 'Live',
  connecting: 'Reconnecting…',
  polling: 'Updating every 2 s',
  offline: 'Offline',
} as const;

export function App(props: RouteSectionProps) {
  const location = useLocation();
  const navigate = useNavigate();
  const isPublic = () => PUBLIC_PATHS.includes(location.pathname);

  // The sign-in guard: signed out → /signin; signed in → never stay on /signin.
  createEffect(() => {
    if (session.me.loading || session.me.error) return;
    const me = session.me();
    // GitHub sign-in comes back to /?signin=pending or /?signin_error=<message>.
    const search = new URLSearchParams(location.search);
    if (search.get('signin') === 'pending') return navigate('/pending', { replace: true });
    if (me === null) {
      data.stop();
      const error = search.get('signin_error');
      if (!isPublic()) navigate(error ? `/signin?signin_error=${encodeURIComponent(error)}` : '/signin', { replace: true });
    } else if (me) {
      data.start();
      if (isPublic()) navigate('/', { replace: true });
    }
  });

  const onKey = (e: KeyboardEvent) => {
    if ((e.metaKey || e.ctrlKey) && e.key.toLowerCase() === 'k' && session.me()) {
      e.preventDefault();
      ui.setPaletteOpen(!ui.paletteOpen());
    }
  };
  document.addEventListener('keydown', onKey);
  onCleanup(() => document.removeEventListener('keydown', onKey));

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Show when={session.me()}>
        <Header />
      </Show>
      <main id="main" tabindex="-1">
        <Show
          when={!session.me.error}
          fallback={
            <div class="card">
              <p class="error" role="alert">
                {String(session.me.error?.message ?? session.me.error)}
              </p>
              <button type="button" onClick={() => session.refetch()}>
                Try again
              </button>
            </div>
          }
        >
          <Show when={session.me() || (session.me() === null && isPublic())} fallback={<p class="muted">Loading…</p>}>
            {props.children}
          </Show>
        </Show>
      </main>
      <Show when={ui.shareTarget()}>{(t) => <ShareModal node={t().node} port={t().port} onClose={ui.closeShare} />}</Show>
      <Show when={ui.paletteOpen()}>
        <Palette onClose={() => ui.setPaletteOpen(false)} />
      </Show>
      <div class="note" role="status" aria-live="polite">
        {ui.note()}
      </div>
    </>
  );
}

function Header() {
  const navigate = useNavigate();
  const me = () => session.me();
  const who = () => {
    const m = me();
    return !m ? '' : m.local ? 'Local owner' : (m.user.name ?? m.user.email);
  };
  async function signOut() {
    await api.logout().catch(() => {});
    session.setMe(null);
    navigate('/signin', { replace: true });
  }
  return (
    <header class="top">
      <A href="/" class="brand" end>
        Homeport
      </A>
      <nav aria-label="Main">
        <A href="/" end>
          Dashboard
        </A>
        <A href="/tasks">Tasks</A>
        <A href="/services">Services</A>
        <A href="/mcp">MCP</A>
        <A href="/webhooks">Webhooks</A>
        <A href="/nodes">Nodes</A>
        <A href="/settings">Settings</A>
        <Show when={session.isAdmin()}>
          <A href="/admin">Users</A>
        </Show>
      </nav>
      <div class="status" aria-label="Connection status">
        <For each={data.nodes() ?? []}>
          {(n) => (
            <A href="/nodes" class={`pill ${n.online ? 'online' : 'offline'}`} title={n.online ? 'online' : n.lastSeen ? `offline, last seen ${ago(n.lastSeen)}` : 'offline, never connected'} data-node={n.id}>
              <span class="dot" aria-hidden="true" />
              {n.name ?? n.id}
              <span class="visually-hidden">{n.online ? ' online' : ' offline'}</span>
            </A>
          )}
        </For>
        <span class={`pill live-${data.liveStatus()}`} data-testid="live-status">
          {LIVE_LABEL[data.liveStatus()]}
        </span>
      </div>
      <div class="user">
        <button type="button" class="kbd-button" aria-label="Open the command palette" aria-keyshortcuts="Control+K Meta+K" onClick={() => ui.setPaletteOpen(true)}>
          <kbd class="shortcut">{paletteShortcut()}</kbd>
          <span class="touch-only">Go to…</span>
        </button>
        <span class="muted who">{who()}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
