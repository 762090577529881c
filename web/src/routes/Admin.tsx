/**
 * @module
 * Users (admins only): pending registrations first, to approve or reject; active users
 * can be deactivated (their sessions end), inactive and rejected ones activated.
 */
import { createResource, createSignal, For, Show } from 'solid-js';
import { api, type User, type UserStatus } from '../api.ts';
import { ago } from '../format.ts';
import { session } from '../state.ts';
import { ui, screenTitle } from '../ui.ts';

const ORDER: UserStatus[] = ['pending', 'active', 'inactive', 'rejected'];
const ACTIONS: Record<UserStatus, ('approve' | 'reject' | 'deactivate' | 'activate')[]> = {
  pending: ['approve', 'reject'],
  active: ['deactivate'],
  inactive: ['activate'],
  rejected: ['activate'],
};

export default function Admin() {
  screenTitle('Users');
  const [users, { refetch }] = createResource(() => api.users());
  const [error, setError] = createSignal('');
  const selfId = () => session.me()?.user?.id;

  async function act(user: User, action: (typeof ACTIONS)[UserStatus][number]) {
    setError('');
    try {
      await api.userAction(user.id, action);
      ui.notify(`${user.email}: ${action === 'approve' ? 'approved' : action === 'reject' ? 'rejected' : action === 'deactivate' ? 'deactivated' : 'activated'}`);
      await refetch();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  const sorted = () => (users.latest?.users ?? []).slice().sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status) || b.createdAt - a.createdAt);

  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <Show when={error() || users.error}>
        <p class="error" role="alert">
          {error() || String(users.error?.message ?? users.error)}
        </p>
      </Show>
      <Show when={users.latest} fallback={<p class="muted">Loading…</p>}>
        <ul class="list">
          <For each={sorted()}>
            {(u) => (
              <li class="card row" data-user={u.email}>
                <div class="grow">
                  <strong>{u.name ?? u.email}</strong>
                  <Show when={u.name}>
                    <span class="muted"> {u.email}</span>
                  </Show>
                  <div class="muted small">
                    <span class={`badge status-${u.status}`}>{u.status}</span> {u.role} · registered {ago(u.createdAt, ui.now())}
                  </div>
                </div>
                <div class="actions">
                  <Show when={u.id !== selfId()} fallback={<span class="muted small">you</span>}>
                    <For each={ACTIONS[u.status]}>
                      {(a) => (
                        <button type="button" class={a === 'approve' || a === 'activate' ? 'primary' : 'danger'} onClick={() => act(u, a)} aria-label={`${a} ${u.email}`}>
                          {a[0].toUpperCase() + a.slice(1)}
                        </button>
                      )}
                    </For>
                  </Show>
                </div>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </section>
  );
}
