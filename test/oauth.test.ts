/**
 * End to end: "Sign in with GitHub" against the real local edge (wrangler dev) and a
 * local fake GitHub (test/fakes/github.ts). Every request plays a client from another
 * address (x-test-client-ip), so the local-mode loopback owner never stands in for a
 * sign-in; redirects are followed by hand, carrying the dashboard's cookies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub, type FakeGitHubUser } from './fakes/github.ts';
import { startTestStack, type TestStack } from './helpers/stack.ts';

let stack: TestStack;
let github: FakeGitHub;
let dashboard: string;

/** A browser of one client address: a cookie jar for the dashboard host, redirects by hand. */
class Client {
  readonly cookies = new Map<string, string>();
  constructor(readonly ip: string) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async fetch(url: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
    const target = new URL(url, dashboard);
    const toDashboard = target.origin === dashboard;
    const headers: Record<string, string> = {};
    if (toDashboard) {
      // Node cannot always resolve localhost to the edge's 127.0.0.1: send the Host header.
      headers.host = target.host;
      headers['x-test-client-ip'] = this.ip;
      if (this.cookies.size) headers.cookie = this.cookieHeader;
      if (init.method && init.method !== 'GET') headers.origin = dashboard;
    }
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const address = toDashboard ? `http://127.0.0.1:${stack.edgePort}${target.pathname}${target.search}` : target.toString();
    const res = await fetch(address, { method: init.method ?? 'GET', headers, redirect: 'manual', body: init.json === undefined ? undefined : JSON.stringify(init.json) });
    if (toDashboard)
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair!.indexOf('=');
        const [name, value] = [pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim()];
        if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
        else this.cookies.set(name, value);
      }
    return res;
  }

  /** Follows the whole flow: start → GitHub's authorize → callback. Returns each step. */
  async signInWithGitHub() {
    const start = await this.fetch('/api/auth/github/start');
    expect(start.status).toBe(302);
    const authorize = await this.fetch(start.headers.get('location')!);
    expect(authorize.status).toBe(302);
    const callbackUrl = authorize.headers.get('location')!;
    const callback = await this.fetch(callbackUrl);
    expect(callback.status).toBe(302);
    return { start, callbackUrl, callback, location: callback.headers.get('location')! };
  }

  async me() {
    const res = await this.fetch('/api/auth/me');
    return { status: res.status, body: (await res.json()) as { user: { id: string; email: string; name: string | null; role: string; status: string } | null; providers: { github: { login: string } | null }; error?: string } };
  }
}

/** The message of a `/?signin_error=…` redirect, or null. */
function signinError(location: string): string | null {
  return new URL(location, dashboard).searchParams.get('signin_error');
}

let nextId = 1000;
function gitHubUser(login: string, email: string, extra: Partial<FakeGitHubUser> = {}): FakeGitHubUser {
  return github.addUser({ id: nextId++, login, name: `${login} (GitHub)`, emails: [{ email: `${login}@users.noreply.github.com`, primary: false, verified: true }, { email, primary: true, verified: true }], ...extra });
}

let admin: Client;
let danaOnGitHub: FakeGitHubUser;

beforeAll(async () => {
  github = await FakeGitHub.start();
  stack = await startTestStack({ edgeVars: { GITHUB_CLIENT_ID: github.clientId, GITHUB_CLIENT_SECRET: github.clientSecret, GITHUB_OAUTH_URL: github.url, GITHUB_API_URL: github.url } });
  dashboard = `http://localhost:${stack.edgePort}`;
});

afterAll(async () => {
  await stack?.stop();
  await github?.stop();
});

describe('Sign in with GitHub', () => {
  it('should offer GitHub and refuse a client that has not signed in', async () => {
    const client = new Client('203.0.113.5');
    const providers = await client.fetch('/api/auth/providers');
    expect(providers.status).toBe(200);
    expect(await providers.json()).toEqual({ github: true, local: true });
    expect((await client.me()).status).toBe(401);
  });

  it('should make the first GitHub user the admin, with a working session', async () => {
    gitHubUser('octocat', 'Mona@Example.com');
    github.signInAs('octocat');
    admin = new Client('203.0.113.5');
    const { start, callback, location } = await admin.signInWithGitHub();

    const authorizeUrl = new URL(start.headers.get('location')!);
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${github.url}/login/oauth/authorize`);
    const visit = github.authorizeRequests.at(-1)!;
    expect(visit.clientId).toBe(github.clientId);
    expect(visit.redirectUri).toBe(`${dashboard}/api/auth/github/callback`);
    expect(visit.scope).toBe('read:user user:email');
    expect(visit.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stateCookie = start.headers.getSetCookie().find((c) => c.startsWith('homeport_github_state='))!;
    expect(stateCookie).toMatch(/HttpOnly/i);
    expect(stateCookie).toMatch(/SameSite=Lax/i);
    expect(stateCookie).not.toMatch(/Secure/i); // plain http on localhost

    expect(location).toBe('/');
    expect(await callback.text()).not.toMatch(/gho_/);
    expect(admin.cookies.has('homeport_github_state')).toBe(false);
    expect(admin.cookies.get('homeport_session')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const me = await admin.me();
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email: 'mona@example.com', name: 'octocat (GitHub)', role: 'admin', status: 'active' });
    expect(me.body.providers).toEqual({ github: { login: 'octocat' } });
    expect((await admin.fetch('/api/admin/users')).status).toBe(200);
  });

  it('should keep a second GitHub user pending until an admin approves, then sign them in', async () => {
    gitHubUser('hubot', 'hubot@example.com');
    github.signInAs('hubot');
    const client = new Client('203.0.113.6');
    expect((await client.signInWithGitHub()).location).toBe('/?signin=pending');
    expect(client.cookies.has('homeport_session')).toBe(false);
    expect((await client.me()).status).toBe(401);

    const pending = (await (await admin.fetch('/api/admin/users?status=pending')).json()) as { users: { id: string; email: string }[] };
    const hubot = pending.users.find((u) => u.email === 'hubot@example.com')!;
    expect(hubot).toBeDefined();
    expect((await admin.fetch(`/api/admin/users/${hubot.id}/approve`, { method: 'POST' })).status).toBe(200);

    // The same GitHub account again: its linked user, now active.
    expect((await client.signInWithGitHub()).location).toBe('/');
    const me = await client.me();
    expect(me.body.user).toMatchObject({ id: hubot.id, role: 'user', status: 'active' });

    // Deactivated: GitHub cannot sign it in any more.
    expect((await admin.fetch(`/api/admin/users/${hubot.id}/deactivate`, { method: 'POST' })).status).toBe(200);
    const again = await client.signInWithGitHub();
    expect(signinError(again.location)).toBe('your account is not active; ask an admin');
  });

  it('should link a password account whose email GitHub has verified', async () => {
    const client = new Client('203.0.113.7');
    const registered = await client.fetch('/api/auth/register', { method: 'POST', json: { email: 'dana@example.com', password: 'dana password 1' } });
    expect(registered.status).toBe(202);
    const pending = (await (await admin.fetch('/api/admin/users?status=pending')).json()) as { users: { id: string; email: string }[] };
    const dana = pending.users.find((u) => u.email === 'dana@example.com')!;
    expect((await admin.fetch(`/api/admin/users/${dana.id}/approve`, { method: 'POST' })).status).toBe(200);

    danaOnGitHub = gitHubUser('dana-gh', 'Dana@example.com');
    github.signInAs('dana-gh');
    expect((await client.signInWithGitHub()).location).toBe('/');
    const me = await client.me();
    expect(me.body.user).toMatchObject({ id: dana.id, email: 'dana@example.com' });
    expect(me.body.providers).toEqual({ github: { login: 'dana-gh' } });
    // The password still works too.
    const login = await new Client('203.0.113.7').fetch('/api/auth/login', { method: 'POST', json: { email: 'dana@example.com', password: 'dana password 1' } });
    expect(login.status).toBe(200);
  });

  it('should follow a renamed GitHub account by its id, and never relink an account to another one', async () => {
    const renamed = github.addUser({ ...danaOnGitHub, login: 'dana-renamed' });
    github.signInAs(renamed.login);
    const client = new Client('203.0.113.15');
    expect((await client.signInWithGitHub()).location).toBe('/');
    expect((await client.me()).body).toMatchObject({ user: { email: 'dana@example.com' }, providers: { github: { login: 'dana-renamed' } } });

    // Another GitHub account with the admin's verified email: not linked, not signed in.
    gitHubUser('mona-alt', 'mona@example.com');
    github.signInAs('mona-alt');
    const other = new Client('203.0.113.15');
    const { location } = await other.signInWithGitHub();
    expect(signinError(location)).toBe('the Homeport account with this email is linked to another GitHub account');
    expect(other.cookies.has('homeport_session')).toBe(false);
  });

  it('should not link an unverified primary email, nor sign in without one', async () => {
    gitHubUser('mallory', 'dana@example.com', { emails: [{ email: 'dana@example.com', primary: true, verified: false }] });
    github.signInAs('mallory');
    const { location } = await new Client('203.0.113.8').signInWithGitHub();
    expect(signinError(location)).toBe('your GitHub account has no verified primary email address');
  });

  it('should refuse a missing or tampered state without spending the code', async () => {
    github.signInAs('octocat');
    const client = new Client('203.0.113.9');
    const start = await client.fetch('/api/auth/github/start');
    const callbackUrl = new URL((await client.fetch(start.headers.get('location')!)).headers.get('location')!);
    const exchanges = github.tokenRequests;

    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('state', tampered.searchParams.get('state')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
    const refused = await client.fetch(tampered.toString());
    expect(signinError(refused.headers.get('location')!)).toBe('the sign-in expired or did not start here; please try again');
    expect(client.cookies.has('homeport_github_state')).toBe(false); // one use: cleared

    // The right state, but its cookie is gone (cleared above, or another browser).
    const noCookie = await client.fetch(callbackUrl.toString());
    expect(signinError(noCookie.headers.get('location')!)).toBe('the sign-in expired or did not start here; please try again');
    const stranger = await new Client('203.0.113.9').fetch(callbackUrl.toString());
    expect(signinError(stranger.headers.get('location')!)).toBe('the sign-in expired or did not start here; please try again');
    const withoutState = new URL(callbackUrl);
    withoutState.searchParams.delete('state');
    const bare = await client.fetch(withoutState.toString());
    expect(signinError(bare.headers.get('location')!)).toBe('the sign-in expired or did not start here; please try again');

    expect(github.tokenRequests).toBe(exchanges);
    expect(client.cookies.has('homeport_session')).toBe(false);
  });

  it("should land on /?signin_error when GitHub's token endpoint answers an error", async () => {
    github.signInAs('octocat');
    const client = new Client('203.0.113.10');
    const { callbackUrl, location } = await client.signInWithGitHub();
    expect(location).toBe('/');
    // Replaying the callback with its state cookie: GitHub refuses the used code (HTTP 200, {error}).
    const state = new URL(callbackUrl).searchParams.get('state')!;
    const replay = new Client('203.0.113.10');
    replay.cookies.set('homeport_github_state', state);
    const exchanges = github.tokenRequests;
    const res = await replay.fetch(callbackUrl);
    expect(github.tokenRequests).toBe(exchanges + 1);
    expect(res.status).toBe(302);
    expect(signinError(res.headers.get('location')!)).toBe('the GitHub sign-in code was invalid or has expired; please try again');
    expect(replay.cookies.has('homeport_session')).toBe(false);
  });

  it('should report a sign-in the user cancelled at GitHub', async () => {
    github.denyNextAuthorization();
    const { location } = await new Client('203.0.113.11').signInWithGitHub();
    expect(signinError(location)).toBe('GitHub sign-in was cancelled');
  });

  it('should rate limit callbacks per client address', async () => {
    const client = new Client('203.0.113.12');
    const messages: (string | null)[] = [];
    for (let i = 0; i < 11; i++) messages.push(signinError((await client.fetch('/api/auth/github/callback?code=x&state=y')).headers.get('location')!));
    expect(messages.slice(0, 10).every((m) => m === 'the sign-in expired or did not start here; please try again')).toBe(true);
    expect(messages[10]).toMatch(/^too many sign-in attempts; try again in \d+ s$/);
    // Another address is not affected.
    const other = await new Client('203.0.113.13').fetch('/api/auth/github/callback?code=x&state=y');
    expect(signinError(other.headers.get('location')!)).toBe('the sign-in expired or did not start here; please try again');
  });

  it('should not let a GitHub-only account log in with a password', async () => {
    const client = new Client('203.0.113.14');
    const login = (email: string, password: string) => client.fetch('/api/auth/login', { method: 'POST', json: { email, password } });
    const [github, unknown] = [await login('mona@example.com', 'any password at all'), await login('nobody@example.com', 'any password at all')];
    expect(github.status).toBe(401);
    expect(await github.json()).toEqual(await unknown.json());
    const [githubEmpty, passwordEmpty] = [await login('mona@example.com', ''), await login('dana@example.com', '')];
    expect(githubEmpty.status).toBe(400);
    expect(await githubEmpty.json()).toEqual(await passwordEmpty.json());
    expect(client.cookies.has('homeport_session')).toBe(false);
  });
});

describe('GitHub sign-in not configured', () => {
  let bare: TestStack;
  beforeAll(async () => {
    bare = await startTestStack();
  });
  afterAll(async () => {
    await bare?.stop();
  });

  it('should say so to the sign-in screen and answer start with a 404', async () => {
    const get = (path: string) => fetch(`http://127.0.0.1:${bare.edgePort}${path}`, { headers: { host: `localhost:${bare.edgePort}`, 'x-test-client-ip': '203.0.113.5' }, redirect: 'manual' });
    expect(await (await get('/api/auth/providers')).json()).toEqual({ github: false, local: true });
    const start = await get('/api/auth/github/start');
    expect(start.status).toBe(404);
    expect(((await start.json()) as { error: string }).error).toMatch(/not configured/);
    expect((await get('/api/auth/github/callback?code=x&state=y')).status).toBe(404);
  });
});
