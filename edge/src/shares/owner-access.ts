/**
 * @module
 * The owner on the share host. Sessions are host-only cookies of the dashboard host, so
 * share hosts never see them; a signed-in owner gets onto a share host by a handshake
 * that never runs without the owner's click on a page Homeport serves itself:
 *   1. a private share's 403 page (or the password page) links to
 *      GET <dashboard>/api/nodes/:node/share-access?next=<share URL>   (owner-api.ts),
 *      which only shows a confirmation page naming the share origin and the node;
 *   2. its button POSTs (same-origin: the dashboard's Origin); the dashboard checks the
 *      session and `next`, and the node's hub mints a one-time ticket (60 s) for its
 *      owner and that share origin;
 *   3. 303 to <share origin>/__homeport/owner?ticket=…&next=<path>;
 *   4. the hub consumes the ticket, sets `homeport_owner` (host-only; HMAC under a per-hub
 *      secret, over the owner id, the origin and the expiry) on that origin, and 303s to next.
 * `next` must be a subdomain-form or link-host URL: the path form shares one origin
 * between ports, so no owner cookie is ever set there. Scripts skip all this with
 * `Authorization: Bearer hpt_…` (share-proxy.ts).
 */
import { hostnameOf, pages, routeShareRequest } from '@homeport/shared';
import type { EdgeConfig } from '../env.ts';
import { pageResponse } from '../relay.ts';
import { randomToken, sha256Hex, signCookie, verifyCookie } from './crypto.ts';
import { OWNER_COOKIE, OWNER_COOKIE_TTL_MS, OWNER_PATH, OWNER_TICKET_TTL_MS, cookieHeader, safeNext, shareCookiesOf } from './policy.ts';

const SECRET_KEY = 'owner-cookie-secret';
const TICKET_PREFIX = 'owner-ticket:';
const TICKET_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** a visitor may send many cookies of one name; a few are enough for the owner's */
const MAX_COOKIES_CHECKED = 4;

interface Ticket {
  ownerId: string;
  origin: string;
  expiresAt: number;
}

/** Where the handshake leads: a share URL of `node`, split for the redirect. */
export interface ShareTarget {
  /** e.g. https://share.example.com */
  origin: string;
  /** the share's prefix: '' (a host of its own) */
  prefix: string;
  /** path and query to land on, under the prefix */
  path: string;
}

/**
 * `next` as a subdomain-form or link-host URL of this node (its scheme, share host and
 * port), or null: the handshake never redirects anywhere else, nor to the path form.
 */
export function shareTargetOf(next: string | undefined, node: string, config: EdgeConfig): ShareTarget | null {
  if (!next) return null;
  let url: URL;
  try {
    url = new URL(next);
  } catch {
    return null;
  }
  if (url.protocol !== `${config.scheme}:` || url.username || url.password) return null;
  const hostname = hostnameOf(url.host);
  // The port part of the host (":8788" or '') must be the share host's.
  if (url.host.slice(hostname.length) !== new URL(`${config.scheme}://${config.shareHost}`).host.slice(config.shareHostname.length)) return null;
  const routed = routeShareRequest(hostname, url.pathname, config.shareHostname, config.defaultNode);
  if (!routed?.ok || routed.route.node !== node || routed.route.prefix !== '') return null;
  const { prefix } = routed.route;
  const rest = url.pathname.slice(prefix.length);
  // Our own pages (password form, handshake) are no place to land on: the share's home is.
  const path = routed.route.needsSlash || rest.startsWith('/__homeport/') ? `${prefix}/` : url.pathname + url.search;
  return { origin: url.origin, prefix, path };
}

/** The dashboard URL that starts the handshake for a page of `node` at `shareUrl`. */
export function ownerLinkOf(config: EdgeConfig, node: string, shareUrl: string): string {
  return `${config.scheme}://${config.dashboardHost}/api/nodes/${node}/share-access?next=${encodeURIComponent(shareUrl)}`;
}

/** The hub's half: tickets and the owner's cookie, kept in the hub's storage. */
export class OwnerAccess {
  #secret: string | null = null;

  constructor(private readonly storage: DurableObjectStorage) {}

  async #cookieSecret(): Promise<string> {
    this.#secret ??= (await this.storage.get<string>(SECRET_KEY)) ?? null;
    if (!this.#secret) {
      this.#secret = randomToken(32);
      await this.storage.put(SECRET_KEY, this.#secret);
    }
    return this.#secret;
  }

  /** A one-time ticket for `ownerId`, usable on `origin` only, for OWNER_TICKET_TTL_MS. Only its digest is stored. */
  async ticket(ownerId: string, origin: string): Promise<string> {
    const now = Date.now();
    const stale = [...(await this.storage.list<Ticket>({ prefix: TICKET_PREFIX, limit: 128 }))].filter(([, t]) => t.expiresAt <= now).map(([key]) => key);
    if (stale.length) await this.storage.delete(stale);
    const ticket = randomToken(32);
    await this.storage.put(TICKET_PREFIX + (await sha256Hex(ticket)), { ownerId, origin, expiresAt: now + OWNER_TICKET_TTL_MS } satisfies Ticket);
    return ticket;
  }

  /**
   * The handshake's last step on the share origin: consumes the ticket and sets the
   * owner's cookie, then 303 to `next` under the prefix. A used, unknown, expired or
   * foreign ticket gets one 400 page.
   */
  async redeem(request: Request, ctx: { ownerId: string | null; origin: string; prefix: string; secure: boolean }): Promise<{ ok: boolean; response: Response }> {
    const url = new URL(request.url);
    const given = url.searchParams.get('ticket') ?? '';
    let ticket: Ticket | undefined;
    if (TICKET_SHAPE.test(given)) {
      const key = TICKET_PREFIX + (await sha256Hex(given));
      ticket = await this.storage.get<Ticket>(key);
      // Used once, whatever happens next.
      if (ticket) await this.storage.delete(key);
    }
    const valid = ticket && ticket.expiresAt > Date.now() && ticket.ownerId === ctx.ownerId && ticket.origin === originOf(ctx.origin);
    const noReferrer = { 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };
    if (!valid) {
      const page = pages.badRequest('This owner sign-in link is not valid: it was used already or is more than a minute old. Go back and open the share again.');
      return { ok: false, response: pageResponse({ ...page, headers: { ...page.headers, ...noReferrer } }) };
    }
    const value = await signCookie(await this.#cookieSecret(), subjectOf(ticket!.ownerId, ticket!.origin), Date.now() + OWNER_COOKIE_TTL_MS);
    const headers = new Headers({ ...noReferrer, location: safeNext(url.searchParams.get('next'), ctx.prefix) });
    headers.set('set-cookie', cookieHeader(value, '/', OWNER_COOKIE_TTL_MS, ctx.secure, OWNER_COOKIE));
    return { ok: true, response: new Response(null, { status: 303, headers }) };
  }

  /**
   * Whether the Cookie header holds a valid, unexpired owner cookie for `ownerId`, minted
   * for `origin` (a cookie of another share origin counts as none, as do tampered ones).
   */
  async isOwner(cookieHeader: string | null, ownerId: string | null, origin: string): Promise<boolean> {
    if (ownerId === null) return false;
    const values = shareCookiesOf(cookieHeader, OWNER_COOKIE).slice(0, MAX_COOKIES_CHECKED);
    if (!values.length) return false;
    const secret = await this.#cookieSecret();
    for (const value of values) if (await verifyCookie(secret, subjectOf(ownerId, originOf(origin)), value)) return true;
    return false;
  }
}

/** What the cookie is signed over with its expiry: a change of owner ends it, and it is good on one origin only. */
const subjectOf = (ownerId: string, origin: string) => `owner:${ownerId}:${origin}`;

function originOf(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return '';
  }
}
