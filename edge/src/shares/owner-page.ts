/**
 * @module
 * The owner's confirmation before the handshake (owner-api.ts): a plain page on the
 * dashboard origin, no scripts, never framed, naming the share origin and the node, with
 * one button that POSTs. A page elsewhere can send the owner here, but only the owner's
 * own click goes on.
 */

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface AccessPageOptions {
  node: string;
  /** the share origin the owner's cookie will be set on */
  origin: string;
  /** where the form posts (this same path) */
  action: string;
  next: string;
}

export function accessPage(options: AccessPageOptions): Response {
  const { node, origin, action, next } = options;
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Open a share as its owner · Homeport</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:15vh auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem}p{color:#57606a}code{color:#1f2328;word-break:break-all}button{font:inherit;padding:.4rem .8rem}</style></head>
<body><h1>Open a share as its owner</h1>
<p>Open <code>${escape(origin)}</code>, a share of node <code>${escape(node)}</code>, as its owner? Your browser gets an owner cookie for that origin only, for 12 hours.</p>
<p>Go on only if you opened this link yourself.</p>
<form method="post" action="${escape(action)}"><input type="hidden" name="next" value="${escape(next)}">
<button type="submit">Open as the owner</button></form><p><small>Homeport</small></p></body></html>`;
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // Not no-referrer: with it the form's POST says `Origin: null` and the CSRF check refuses it.
      'referrer-policy': 'same-origin',
      'x-frame-options': 'DENY',
      // No form-action: the POST's answer redirects to the share origin, which form-action would block.
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    },
  });
}
