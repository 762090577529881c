/**
 * @module
 * "Sign in with GitHub": the OAuth web flow (authorize → callback → code exchange →
 * /user and /user/emails), against configurable endpoints (GITHUB_OAUTH_URL,
 * GITHUB_API_URL) so tests can point it at a local fake. Mounted under /api before
 * ownerOnly: `GET /auth/providers`, `GET /auth/github/start`, `GET /auth/github/callback`.
 * The callback always ends in a redirect to the web app: `/`, `/?signin=pending` or
 * `/?signin_error=<message>`. The access token is used for these two reads only, never
 * stored and never logged.
 */
import { Hono, type Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import { clientIpOf, secretsEqual } from '../access.ts';
import { configOf, type EdgeConfig, type GitHubOAuthConfig } from '../env.ts';
import { directoryOf } from './directory.ts';
import type { ApiEnv } from './middleware.ts';
import { cookieIsSecure, writeSessionCookie } from './principal.ts';
import { randomSecret, sha256Hex } from './secrets.ts';

const SCOPE = 'read:user user:email';
const STATE_TTL_S = 10 * 60;
const STATE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const GITHUB_TIMEOUT_MS = 10_000;
/** Callbacks per client address and minute: each one costs three calls to GitHub. */
const CALLBACK_LIMIT = 10;
const CALLBACK_WINDOW_MS = 60_000;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** A sign-in that cannot go on; `message` is shown to the person signing in. */
class SignInFailed extends Error {}

function stateCookieName(config: EdgeConfig): string {
  return cookieIsSecure(config) ? '__Host-homeport_github_state' : 'homeport_github_state';
}

function callbackUrl(config: EdgeConfig): string {
  return `${config.scheme}://${config.dashboardHost}/api/auth/github/callback`;
}

function githubOf(config: EdgeConfig): GitHubOAuthConfig {
  if (!config.github) throw new HTTPException(404, { message: 'Sign in with GitHub is not configured on this edge (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET).' });
  return config.github;
}

/** GitHub's JSON, or SignInFailed with `unreachable` when GitHub cannot be reached or answers garbage. */
async function githubJson(url: string, init: RequestInit, unreachable: string): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(GITHUB_TIMEOUT_MS) });
  } catch {
    console.warn('github sign-in: no answer from', new URL(url).origin);
    throw new SignInFailed(unreachable);
  }
  try {
    return { status: response.status, body: await response.json() };
  } catch {
    console.warn('github sign-in: not JSON from', new URL(url).pathname, response.status);
    throw new SignInFailed(unreachable);
  }
}

const HEADERS = { 'user-agent': 'Homeport', accept: 'application/json' };

/** Exchanges the callback's code for an access token (GitHub answers errors with HTTP 200 and `{error}`). */
async function accessToken(github: GitHubOAuthConfig, code: string, redirectUri: string): Promise<string> {
  const form = new URLSearchParams({ client_id: github.clientId, client_secret: github.clientSecret, code, redirect_uri: redirectUri });
  const { status, body } = await githubJson(
    `${github.oauthUrl}/login/oauth/access_token`,
    { method: 'POST', headers: { ...HEADERS, 'content-type': 'application/x-www-form-urlencoded' }, body: form },
    'could not reach GitHub; please try again',
  );
  const answer = (body ?? {}) as { access_token?: unknown; error?: unknown };
  if (typeof answer.error === 'string') {
    if (answer.error === 'bad_verification_code') throw new SignInFailed('the GitHub sign-in code was invalid or has expired; please try again');
    // The app's settings are wrong (client id/secret, callback URL): the admin must fix them.
    console.warn('github sign-in: the token endpoint refused:', /^[a-z_]{1,64}$/.test(answer.error) ? answer.error : 'unknown error');
    throw new SignInFailed("GitHub refused this edge's sign-in request; ask the admin to check the GitHub OAuth app");
  }
  if (status !== 200 || typeof answer.access_token !== 'string' || !answer.access_token) {
    console.warn('github sign-in: no access token from the token endpoint, status', status);
    throw new SignInFailed('GitHub did not complete the sign-in; please try again');
  }
  return answer.access_token;
}

interface GitHubAccount {
  id: string;
  login: string;
  name: string | null;
  /** the primary, verified email, lower-cased */
  email: string;
}

/** Who the token belongs to: /user, and the primary verified address from /user/emails. */
async function accountOf(github: GitHubOAuthConfig, token: string): Promise<GitHubAccount> {
  const init = { headers: { ...HEADERS, accept: 'application/vnd.github+json', authorization: `Bearer ${token}`, 'x-github-api-version': '2022-11-28' } };
  const unreachable = 'could not read your GitHub account; please try again';
  const [user, emails] = await Promise.all([githubJson(`${github.apiUrl}/user`, init, unreachable), githubJson(`${github.apiUrl}/user/emails`, init, unreachable)]);
  const profile = (user.body ?? {}) as { id?: unknown; login?: unknown; name?: unknown };
  if (user.status !== 200 || typeof profile.id !== 'number' || typeof profile.login !== 'string') {
    console.warn('github sign-in: /user answered', user.status);
    throw new SignInFailed(unreachable);
  }
  if (emails.status !== 200 || !Array.isArray(emails.body)) {
    console.warn('github sign-in: /user/emails answered', emails.status);
    throw new SignInFailed('Homeport could not read your GitHub email addresses; sign in again and allow access to them');
  }
  const primary = (emails.body as { email?: unknown; primary?: unknown; verified?: unknown }[]).find((e) => e?.primary === true && e.verified === true);
  const email = typeof primary?.email === 'string' ? primary.email.trim().toLowerCase() : '';
  if (!email || email.length > 254 || !EMAIL.test(email)) throw new SignInFailed('your GitHub account has no verified primary email address');
  const name = typeof profile.name === 'string' && profile.name.trim() ? profile.name.trim().slice(0, 100) : null;
  return { id: String(profile.id), login: profile.login, name, email };
}

function finish(c: Context<ApiEnv>, to: string) {
  c.header('cache-control', 'no-store');
  // The callback URL held the code: keep it out of the next page's Referer.
  c.header('referrer-policy', 'no-referrer');
  return c.redirect(to, 302);
}

const failed = (c: Context<ApiEnv>, message: string) => finish(c, `/?signin_error=${encodeURIComponent(message)}`);

export const oauthRoutes = new Hono<ApiEnv>();

/** For the sign-in screen: which providers it may offer. */
// `local`: a local-mode edge, whose owner signs in by the link `npm start` prints.
oauthRoutes.get('/auth/providers', (c) => c.json({ github: configOf(c.env).github !== null, local: configOf(c.env).localOwnerKey !== null }));

oauthRoutes.get('/auth/github/start', (c) => {
  const config = configOf(c.env);
  const github = githubOf(config);
  const state = randomSecret();
  // SameSite=Lax: the cookie comes back on GitHub's top-level redirect to the callback.
  setCookie(c, stateCookieName(config), state, { httpOnly: true, secure: cookieIsSecure(config), sameSite: 'Lax', path: '/', maxAge: STATE_TTL_S });
  const authorize = new URL(`${github.oauthUrl}/login/oauth/authorize`);
  authorize.search = new URLSearchParams({ client_id: github.clientId, redirect_uri: callbackUrl(config), scope: SCOPE, state }).toString();
  c.header('cache-control', 'no-store');
  return c.redirect(authorize.toString(), 302);
});

oauthRoutes.get('/auth/github/callback', async (c) => {
  const config = configOf(c.env);
  const github = githubOf(config);
  const cookieName = stateCookieName(config);
  const expected = getCookie(c, cookieName);
  // One use per state, whatever happens next.
  if (expected !== undefined) deleteCookie(c, cookieName, { httpOnly: true, secure: cookieIsSecure(config), sameSite: 'Lax', path: '/' });
  const directory = directoryOf(c.env);

  const wait = await directory.hitLimit(`github-callback:${clientIpOf(c.req.raw, config)}`, CALLBACK_LIMIT, CALLBACK_WINDOW_MS);
  if (wait > 0) return failed(c, `too many sign-in attempts; try again in ${Math.ceil(wait / 1000)} s`);

  const { code, state, error } = c.req.query();
  if (error) return failed(c, error === 'access_denied' ? 'GitHub sign-in was cancelled' : 'GitHub did not complete the sign-in; please try again');
  if (!state || !expected || !STATE_SHAPE.test(expected) || !(await secretsEqual(state, expected)))
    return failed(c, 'the sign-in expired or did not start here; please try again');
  if (!code || code.length > 512) return failed(c, 'GitHub sent no sign-in code; please try again');

  try {
    const token = await accessToken(github, code, callbackUrl(config));
    const account = await accountOf(github, token);
    const result = await directory.signInWithProvider({ provider: 'github', providerUserId: account.id, login: account.login, email: account.email, name: account.name });
    if ('linkedElsewhere' in result) return failed(c, 'the Homeport account with this email is linked to another GitHub account');
    const { user } = result;
    if (user.status === 'pending') return finish(c, '/?signin=pending');
    if (user.status !== 'active') return failed(c, 'your account is not active; ask an admin');
    const sessionId = randomSecret();
    const { expiresAt } = await directory.createSession(user.id, await sha256Hex(sessionId));
    writeSessionCookie(c, config, sessionId, expiresAt);
    return finish(c, '/');
  } catch (error) {
    if (error instanceof SignInFailed) return failed(c, error.message);
    console.error('github sign-in error', error instanceof Error ? error.name : 'unknown');
    return failed(c, 'sign-in failed; please try again');
  }
});
