/** @module A unified diff, coloured line by line: added, removed, hunk headers and file headers. */
import { For } from 'solid-js';

function lineClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff ') || line.startsWith('index ')) return 'meta';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  return '';
}

export function Diff(props: { patch: string; label: string }) {
  const lines = () => props.patch.replace(/\n$/, '').split('\n');
  return (
    <pre class="diff" tabindex="0" aria-label={props.label} data-testid="diff">
      <For each={lines()}>{(line) => <span class={lineClass(line)}>{line + '\n'}</span>}</For>
    </pre>
  );
}
