/**
 * @module
 * The password page of a password share: a plain HTML form on the share's own origin,
 * no scripts, posting to `<prefix>/__homeport/login`, with the owner's way in.
 */

/** The words of the owner's way in, on this page and on a private share's 403 page. */
export const OWNER_LINK_LABEL = 'Signed in as the owner? Open it';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface LoginPageOptions {
  action: string;
  next: string;
  status: 200 | 401 | 429;
  message?: string;
  retryAfterSeconds?: number;
  /** the dashboard's handshake URL that lets the signed-in owner in (owner-access.ts) */
  ownerLink?: string;
}

export function loginPage(options: LoginPageOptions): Response {
  const { action, next, status, message } = options;
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Password required · Homeport</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:15vh auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem}p{color:#57606a}.error{color:#cf222e}input,button{font:inherit;padding:.4rem .6rem}input{width:100%;box-sizing:border-box;margin:.5rem 0}</style></head>
<body><h1>Password required</h1><p>The owner shared this app with a password.</p>
${message ? `<p class="error" role="alert">${escape(message)}</p>` : ''}
<form method="post" action="${escape(action)}"><input type="hidden" name="next" value="${escape(next)}">
<label>Password <input type="password" name="password" autocomplete="current-password" autofocus required></label>
<button type="submit">Open</button></form>
${options.ownerLink ? `<p><a href="${escape(options.ownerLink)}">${OWNER_LINK_LABEL}</a></p>` : ''}<p><small>Homeport · ${status}</small></p></body></html>`;
  const headers: Record<string, string> = {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-homeport-error': String(status),
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    'www-authenticate': 'Bearer realm="homeport share"',
  };
  if (options.retryAfterSeconds !== undefined) headers['retry-after'] = String(options.retryAfterSeconds);
  return new Response(body, { status, headers });
}
