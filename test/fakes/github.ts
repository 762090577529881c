/**
 * @module
 * A local fake of GitHub for tests, on a free port of 127.0.0.1: one Node http server
 * that speaks GitHub's wire shapes. Serves both base URLs (give `url` as the edge's
 * GITHUB_OAUTH_URL and GITHUB_API_URL, or octokit's `baseUrl`):
 *
 * - OAuth web flow: `GET /login/oauth/authorize` answers at once, as if the signed-in
 *   GitHub user (`signInAs`) clicked "Authorize" (or "Cancel", `denyNextAuthorization`),
 *   with a 302 back to `redirect_uri`; `POST /login/oauth/access_token` (form or JSON
 *   body) checks the client, the code (single use, 10 min) and the redirect URI, and
 *   answers JSON (or a form, as GitHub does without `Accept: application/json`), its
 *   errors as `{error, error_description, error_uri}` with HTTP 200.
 * - REST: `GET /user`, `GET /user/emails` (Bearer or `token` auth; emails need the
 *   `user:email` or `user` scope, else 404 like GitHub).
 *
 * More REST routes: `fake.route('GET', '/repos/:owner/:repo', handler)`; handlers get
 * the caller (`auth`: user and scopes from the token) and the parsed body.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { freePort } from '../helpers/ports.ts';

export interface FakeGitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
  visibility?: 'public' | 'private' | null;
}

export interface FakeGitHubUser {
  id: number;
  login: string;
  name?: string | null;
  emails: FakeGitHubEmail[];
}

/** One `/login/oauth/authorize` visit, as the browser made it. */
export interface AuthorizeRequest {
  clientId: string | null;
  redirectUri: string | null;
  scope: string | null;
  state: string | null;
}

export interface FakeRequest {
  method: string;
  url: URL;
  params: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  /** the JSON or form body, parsed (form fields as strings) */
  body: Record<string, unknown>;
  /** the token's user and scopes, when a valid token came with the request */
  auth: { user: FakeGitHubUser; scopes: string[] } | null;
}

export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  /** sent as JSON (a string is sent as is) */
  body?: unknown;
}

export type FakeHandler = (request: FakeRequest) => FakeResponse | Promise<FakeResponse>;

const DOCS = 'https://docs.github.com';
const CODE_TTL_MS = 10 * 60_000;

function oauthError(error: string, description: string, anchor: string): FakeResponse {
  return { body: { error, error_description: description, error_uri: `${DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#${anchor}` } };
}

function restError(status: number, message: string, path: string): FakeResponse {
  return { status, body: { message, documentation_url: `${DOCS}/rest${path}`, status: String(status) } };
}

export class FakeGitHub {
  readonly clientId: string;
  readonly clientSecret: string;
  /** every authorize visit, oldest first */
  readonly authorizeRequests: AuthorizeRequest[] = [];
  /** how many code exchanges were attempted */
  tokenRequests = 0;

  #server: http.Server;
  #port = 0;
  #users = new Map<string, FakeGitHubUser>();
  #signedIn: string | null = null;
  #denyNext = false;
  #codes = new Map<string, { login: string; clientId: string; redirectUri: string | null; scopes: string[]; expiresAt: number }>();
  #tokens = new Map<string, { login: string; scopes: string[] }>();
  #routes: { method: string; pattern: RegExp; names: string[]; handler: FakeHandler }[] = [];

  private constructor(options: { clientId: string; clientSecret: string }) {
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.#server = http.createServer((req, res) => void this.#serve(req, res));
    this.route('GET', '/login/oauth/authorize', (r) => this.#authorize(r));
    this.route('POST', '/login/oauth/access_token', (r) => this.#accessToken(r));
    this.route('GET', '/user', ({ auth }) => (auth ? { body: this.#profile(auth.user) } : restError(401, 'Requires authentication', '/users/users#get-the-authenticated-user')));
    this.route('GET', '/user/emails', ({ auth }) => {
      if (!auth) return restError(401, 'Requires authentication', '/users/emails#list-email-addresses-for-the-authenticated-user');
      if (!auth.scopes.includes('user:email') && !auth.scopes.includes('user')) return restError(404, 'Not Found', '/users/emails#list-email-addresses-for-the-authenticated-user');
      return { body: auth.user.emails.map((e) => ({ visibility: null, ...e })) };
    });
  }

  /** Starts the fake on a free port of 127.0.0.1. */
  static async start(options: { clientId?: string; clientSecret?: string } = {}): Promise<FakeGitHub> {
    const fake = new FakeGitHub({ clientId: options.clientId ?? `Iv1.${randomBytes(8).toString('hex')}`, clientSecret: options.clientSecret ?? randomBytes(20).toString('hex') });
    fake.#port = await freePort(40001, 50000);
    await new Promise<void>((resolve, reject) => {
      fake.#server.once('error', reject);
      fake.#server.listen(fake.#port, '127.0.0.1', () => resolve());
    });
    return fake;
  }

  /** The base URL, e.g. http://127.0.0.1:41234 */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Adds (or replaces) a GitHub account. */
  addUser(user: FakeGitHubUser): FakeGitHubUser {
    this.#users.set(user.login, user);
    return user;
  }

  /** The GitHub account whose browser visits /login/oauth/authorize from now on (it approves). */
  signInAs(login: string): void {
    if (!this.#users.has(login)) throw new Error(`no fake GitHub user ${login}`);
    this.#signedIn = login;
  }

  /** The next authorize visit is cancelled by the user (`error=access_denied`). */
  denyNextAuthorization(): void {
    this.#denyNext = true;
  }

  /** An access token for a user, as if issued by the OAuth flow (for REST tests). */
  issueToken(login: string, scopes: string[] = ['repo', 'read:user', 'user:email']): string {
    if (!this.#users.has(login)) throw new Error(`no fake GitHub user ${login}`);
    const token = `gho_${randomBytes(18).toString('base64url')}`;
    this.#tokens.set(token, { login, scopes });
    return token;
  }

  /** Adds a route; `:name` segments become `params.name`. Later routes cannot shadow earlier ones. */
  route(method: string, path: string, handler: FakeHandler): void {
    const names: string[] = [];
    const pattern = new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_, name: string) => (names.push(name), '([^/]+)'))}$`);
    this.#routes.push({ method, pattern, names, handler });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #profile(user: FakeGitHubUser) {
    const primary = user.emails.find((e) => e.primary && e.visibility === 'public');
    return {
      login: user.login,
      id: user.id,
      node_id: Buffer.from(`04:User${user.id}`).toString('base64'),
      avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
      html_url: `https://github.com/${user.login}`,
      type: 'User',
      site_admin: false,
      name: user.name ?? null,
      email: primary?.email ?? null,
    };
  }

  #authorize({ url }: FakeRequest): FakeResponse {
    const q = url.searchParams;
    const visit: AuthorizeRequest = { clientId: q.get('client_id'), redirectUri: q.get('redirect_uri'), scope: q.get('scope'), state: q.get('state') };
    this.authorizeRequests.push(visit);
    if (visit.clientId !== this.clientId || !visit.redirectUri) return { status: 404, headers: { 'content-type': 'text/html' }, body: '<h1>404</h1><p>This is not the web page you are looking for.</p>' };
    const back = new URL(visit.redirectUri);
    if (this.#denyNext) {
      this.#denyNext = false;
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The user has denied your application access.');
      back.searchParams.set('error_uri', `${DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied`);
    } else {
      if (!this.#signedIn) throw new Error('FakeGitHub: call signInAs(login) before the authorize step');
      const code = randomBytes(10).toString('hex');
      const scopes = (visit.scope ?? '').split(/[\s,]+/).filter(Boolean);
      this.#codes.set(code, { login: this.#signedIn, clientId: this.clientId, redirectUri: visit.redirectUri, scopes, expiresAt: Date.now() + CODE_TTL_MS });
      back.searchParams.set('code', code);
    }
    if (visit.state !== null) back.searchParams.set('state', visit.state);
    return { status: 302, headers: { location: back.toString() } };
  }

  #accessToken({ body, headers }: FakeRequest): FakeResponse {
    this.tokenRequests++;
    const field = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : null);
    const answer = (response: FakeResponse): FakeResponse => {
      // Without Accept: application/json GitHub answers application/x-www-form-urlencoded.
      if ((headers.accept ?? '').includes('application/json')) return response;
      return { headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: new URLSearchParams(response.body as Record<string, string>).toString() };
    };
    if (field('client_id') !== this.clientId || field('client_secret') !== this.clientSecret)
      return answer(oauthError('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.', 'incorrect-client-credentials'));
    const code = field('code');
    const grant = code ? this.#codes.get(code) : undefined;
    if (code) this.#codes.delete(code);
    if (!grant || grant.expiresAt < Date.now() || grant.clientId !== this.clientId) return answer(oauthError('bad_verification_code', 'The code passed is incorrect or expired.', 'bad-verification-code'));
    const redirectUri = field('redirect_uri');
    if (redirectUri !== null && redirectUri !== grant.redirectUri)
      return answer(oauthError('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.', 'redirect-uri-mismatch'));
    const token = this.issueToken(grant.login, grant.scopes);
    return answer({ body: { access_token: token, token_type: 'bearer', scope: grant.scopes.join(',') } });
  }

  async #serve(req: http.IncomingMessage, res: http.ServerResponse) {
    const send = ({ status = 200, headers = {}, body }: FakeResponse) => {
      const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
      const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    try {
      const url = new URL(req.url ?? '/', this.url);
      const route = this.#routes.map((r) => ({ r, m: req.method === r.method ? r.pattern.exec(url.pathname) : null })).find((x) => x.m);
      if (!route) return send(restError(404, 'Not Found', ''));
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks).toString();
      let body: Record<string, unknown> = {};
      if (raw && (req.headers['content-type'] ?? '').includes('json')) body = JSON.parse(raw) as Record<string, unknown>;
      else if (raw) body = Object.fromEntries(new URLSearchParams(raw));
      const auth = this.#authOf(req);
      // Like GitHub's API: a token that is presented but unknown fails every REST call.
      if (!auth && req.headers.authorization && !url.pathname.startsWith('/login/oauth/')) return send(restError(401, 'Bad credentials', ''));
      const params = Object.fromEntries(route.r.names.map((name, i) => [name, decodeURIComponent(route.m![i + 1]!)]));
      send(await route.r.handler({ method: req.method!, url, params, headers: req.headers, body, auth }));
    } catch (error) {
      send({ status: 500, body: { message: `FakeGitHub: ${(error as Error).message}` } });
    }
  }

  #authOf(req: http.IncomingMessage): FakeRequest['auth'] {
    const token = /^(?:Bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const grant = token ? this.#tokens.get(token) : undefined;
    const user = grant && this.#users.get(grant.login);
    return user ? { user, scopes: grant.scopes } : null;
  }
}
