/**
 * @module
 * Sign in, or create an account: the first account on an edge becomes its owner and is
 * signed in at once; later ones wait for an admin (the pending notice). GitHub sign-in
 * is offered when the edge says it is configured.
 */
import { A, useNavigate, useSearchParams } from '@solidjs/router';
import { createSignal, Show } from 'solid-js';
import { ApiError, api } from '../api.ts';
import { session } from '../state.ts';
import { screenTitle } from '../ui.ts';

export default function SignIn() {
  screenTitle('Sign in');
  const navigate = useNavigate();
  const [creating, setCreating] = createSignal(false);
  const [search] = useSearchParams<{ signin_error?: string }>();
  const [error, setError] = createSignal(search.signin_error ?? '');
  const [busy, setBusy] = createSignal(false);

  async function submit(event: SubmitEvent) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const email = String(form.get('email') ?? '');
    const password = String(form.get('password') ?? '');
    setError('');
    setBusy(true);
    try {
      if (creating()) {
        const result = await api.register(email, password, String(form.get('name') ?? ''));
        if (!('user' in result)) return navigate('/pending', { replace: true });
      } else {
        await api.login(email, password);
      }
      await session.refetch();
      navigate('/', { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.status === 403 && /approve/.test(e.message)) return navigate('/pending', { replace: true });
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="auth card" aria-labelledby="auth-title">
      <h1 id="auth-title">{creating() ? 'Create an account' : 'Sign in to Homeport'}</h1>
      <p class="muted">{creating() ? 'The first account on this edge becomes its owner. Later accounts wait for the owner to approve them.' : 'Your dev servers, from anywhere.'}</p>
      <Show when={session.providers()?.local && !creating()}>
        <p class="note-local" data-testid="local-sign-in">
          This Homeport runs locally: its owner signs in with the one-time link that <code>npm start</code> printed in its terminal. For a new link, run <code>npm run sign-in-link</code> there.
        </p>
      </Show>
      <form onSubmit={submit}>
        <Show when={creating()}>
          <label class="field">
            Name <span class="muted">(optional)</span>
            <input name="name" autocomplete="name" maxLength={100} />
          </label>
        </Show>
        <label class="field">
          Email
          <input name="email" type="email" autocomplete="email" required autofocus />
        </label>
        <label class="field">
          Password
          <input name="password" type="password" autocomplete={creating() ? 'new-password' : 'current-password'} required minLength={creating() ? 10 : undefined} />
          <Show when={creating()}>
            <span class="muted small">At least 10 characters.</span>
          </Show>
        </label>
        <Show when={error()}>
          <p class="error" role="alert">
            {error()}
          </p>
        </Show>
        <button type="submit" class="primary wide" disabled={busy()}>
          {creating() ? 'Create account' : 'Sign in'}
        </button>
      </form>
      <Show when={session.providers()?.github}>
        <a class="button wide" href="/api/auth/github/start" rel="external">
          Sign in with GitHub
        </a>
      </Show>
      <p class="switch">
        {creating() ? 'Have an account?' : 'New here?'}{' '}
        <button type="button" class="link" onClick={() => (setCreating(!creating()), setError(''))}>
          {creating() ? 'Sign in' : 'Create an account'}
        </button>
      </p>
    </section>
  );
}

export function Pending() {
  return (
    <section class="auth card" aria-labelledby="pending-title">
      <h1 id="pending-title">Waiting for approval</h1>
      <p>Your account was created. The owner of this Homeport must approve it before you can sign in; try again once they have.</p>
      <A class="button" href="/signin">
        Back to sign in
      </A>
    </section>
  );
}
