/**
 * @module
 * Who may pass a share: the owner always (the local owner, an owner's API token or the
 * owner's handshake cookie, decided by the hub); anyone on a public share; on a password
 * share whoever holds the share's cookie or bearer token, everyone else gets the password
 * page (wrong attempts rate limited per client IP and share). A private, expired or
 * revoked share lets the owner only. A bearer token that opens nothing is a plain 401.
 * The path form shares one origin between ports, so there only bearer tokens open a
 * private or password share (browsers never attach them by themselves); everyone else
 * gets a page that links the share's own origin, and no cookie is ever set there.
 */
import { errorPage, pages } from '@homeport/shared';
import { pageResponse } from '../relay.ts';
import { sha256Hex, signCookie, verifyCookie, verifyPassword } from './crypto.ts';
import { OWNER_LINK_LABEL, loginPage } from './login-page.ts';
import { COOKIE_TTL_MS, LOGIN_LIMIT, LOGIN_PATH, cookieHeader, safeNext, shareCookiesOf } from './policy.ts';
import type { ShareRow, ShareStore } from './store.ts';

export interface GateContext {
  prefix: string;
  owner: boolean;
  /** the request came in the path form (`<share host>/<port>/…`) */
  pathForm: boolean;
  /** the same page at the port's own origin (the subdomain form) */
  ownUrl: string;
  clientIp: string;
  secure: boolean;
  /** the dashboard's handshake URL for this page, offered to the owner on refusals */
  ownerLink: string;
}

export type GateResult =
  | { pass: true; authenticated: boolean; usedToken: boolean }
  | { pass: false; authenticated: boolean; response: Response };

const MAX_LOGIN_BODY = 4096;
const SHARE_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

const refuse = (response: Response): GateResult => ({ pass: false, authenticated: false, response });

/** The token in `Authorization: Bearer …`, '' for a malformed one, null when there is none. */
function bearerOf(request: Request): string | null {
  const header = request.headers.get('authorization');
  if (header === null || !/^Bearer\b/i.test(header)) return null;
  return /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? '';
}

/** One answer for every token that opens nothing here: it does not say which part was wrong. */
const badToken = () =>
  pageResponse(
    errorPage(401, 'Not allowed', 'The token sent with this request does not open this share.', {
      'www-authenticate': 'Bearer realm="homeport share", error="invalid_token"',
    }),
  );

/** Whether `bearer` is the password share's own access token. */
const opensShare = async (bearer: string, share: ShareRow) => SHARE_TOKEN.test(bearer) && share.tokenHash !== null && (await sha256Hex(bearer)) === share.tokenHash;

export async function gate(request: Request, share: ShareRow | null, store: ShareStore, ctx: GateContext): Promise<GateResult> {
  const url = new URL(request.url);
  const rest = url.pathname.slice(ctx.prefix.length);
  const bearer = bearerOf(request);
  if (ctx.pathForm && share?.mode !== 'public') {
    if (ctx.owner) return { pass: true, authenticated: true, usedToken: false };
    if (bearer === null) return refuse(pageResponse(pages.ownOrigin(ctx.ownUrl)));
    if (share?.mode === 'password' && (await opensShare(bearer, share))) return { pass: true, authenticated: true, usedToken: true };
    return refuse(badToken());
  }
  if (!share || share.mode === 'private') {
    if (ctx.owner) return { pass: true, authenticated: true, usedToken: false };
    if (bearer !== null) return refuse(badToken());
    return refuse(pageResponse(errorPage(403, 'Not allowed', 'This port is private: only its owner may open it.', {}, { href: ctx.ownerLink, label: OWNER_LINK_LABEL })));
  }
  if (share.mode === 'public') return { pass: true, authenticated: ctx.owner, usedToken: false };

  if (rest === LOGIN_PATH) return refuse(await login(request, share, store, ctx));
  if (ctx.owner) return { pass: true, authenticated: true, usedToken: false };

  if (bearer !== null) {
    if (await opensShare(bearer, share)) return { pass: true, authenticated: true, usedToken: true };
    return refuse(badToken());
  }
  for (const value of shareCookiesOf(request.headers.get('cookie')))
    if (await verifyCookie(share.cookieSecret, share.id, value)) return { pass: true, authenticated: true, usedToken: false };

  return refuse(loginPage({ action: ctx.prefix + LOGIN_PATH, next: url.pathname + url.search, status: 401, ownerLink: ctx.ownerLink }));
}

async function login(request: Request, share: ShareRow, store: ShareStore, ctx: GateContext): Promise<Response> {
  const action = ctx.prefix + LOGIN_PATH;
  const url = new URL(request.url);
  if (request.method !== 'POST') return loginPage({ action, next: safeNext(url.searchParams.get('next'), ctx.prefix), status: 200, ownerLink: ctx.ownerLink });

  const key = `${ctx.clientIp}|${share.id}`;
  const blocked = store.loginBlockedFor(key);
  if (blocked > 0) {
    await request.body?.cancel();
    return tooMany(action, ctx.prefix, blocked);
  }
  if (Number(request.headers.get('content-length') ?? 0) > MAX_LOGIN_BODY) return pageResponse(pages.badRequest('That form is too large.'));
  const text = await request.text();
  if (text.length > MAX_LOGIN_BODY) return pageResponse(pages.badRequest('That form is too large.'));
  const form = new URLSearchParams(text);
  const next = safeNext(form.get('next'), ctx.prefix);
  const password = form.get('password') ?? '';
  const ok =
    password.length > 0 &&
    password.length <= 256 &&
    share.passwordHash !== null &&
    (await verifyPassword(password, { salt: share.passwordSalt ?? '', hash: share.passwordHash, iterations: share.passwordIterations ?? 0 }));
  if (!ok) {
    store.loginFailed(key);
    return loginPage({ action, next, status: 401, message: 'Wrong password. Try again.' });
  }
  const ttl = Math.min(COOKIE_TTL_MS, share.expiresAt === null ? COOKIE_TTL_MS : share.expiresAt - Date.now());
  const value = await signCookie(share.cookieSecret, share.id, Date.now() + ttl);
  return new Response(null, {
    status: 303,
    headers: { location: next, 'set-cookie': cookieHeader(value, ctx.prefix, ttl, ctx.secure), 'cache-control': 'no-store' },
  });
}

function tooMany(action: string, prefix: string, ms: number): Response {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return loginPage({
    action,
    next: `${prefix}/`,
    status: 429,
    message: `Too many wrong passwords (${LOGIN_LIMIT} a minute). Try again in ${seconds} seconds.`,
    retryAfterSeconds: seconds,
  });
}
