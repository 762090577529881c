/** @module One port in a list: its link, process, share mode and expiry, and its actions. */
import { A } from '@solidjs/router';
import { Show } from 'solid-js';
import type { PortRow } from '../api.ts';
import { until } from '../format.ts';
import { logPath } from '../repos.ts';
import { copy, ui } from '../ui.ts';

export function PortItem(props: { node: string; port: PortRow }) {
  const p = () => props.port;
  return (
    <li class="port" data-port={p().port}>
      <div class="port-main">
        <a class="port-num" href={p().url} target="_blank" rel="noopener" aria-label={`Open port ${p().port}`}>
          :{p().port}
        </a>
        <span class="cmd muted" title={p().command ?? ''}>
          {p().command ?? 'unknown process'}
        </span>
      </div>
      <div class="port-share">
        <span class={`mode mode-${p().mode}`} data-testid="share-mode">
          {p().mode}
        </span>
        <Show when={p().expiresAt}>{(at) => <span class="muted small">ends {until(at(), ui.now())}</span>}</Show>
      </div>
      <div class="port-actions">
        <button type="button" onClick={() => ui.openShare(props.node, p().port)} aria-label={`Share port ${p().port}`}>
          Share
        </button>
        <button type="button" onClick={() => copy(p().url, 'URL')} aria-label={`Copy the URL of port ${p().port}`}>
          Copy URL
        </button>
        <A href={logPath(props.node, p().port)} aria-label={`Access log of port ${p().port}`}>
          Log
        </A>
      </div>
    </li>
  );
}
