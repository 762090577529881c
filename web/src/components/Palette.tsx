/**
 * @module
 * The command palette (Cmd+K / Ctrl+K): jump to any screen, repo or port, share, copy
 * a URL, open logs, start or stop a dev server, start an agent task in a repo or open
 * it in the browser editor. Keyboard only is enough: type to filter, arrows to move,
 * Enter to run, Esc to close. A combobox over a listbox (WAI-ARIA), in
 * a modal dialog that keeps the focus.
 */
import { useNavigate } from '@solidjs/router';
import { createMemo, createSignal, For, onMount, Show } from 'solid-js';
import { api } from '../api.ts';
import { openInEditor } from '../editor.ts';
import { groupByRepo, logPath, repoPath, tasksPath } from '../repos.ts';
import { data, session } from '../state.ts';
import { copy, ui } from '../ui.ts';
import { trapTab } from './Dialog.tsx';

export interface Command {
  id: string;
  label: string;
  hint?: string;
  run: () => void | Promise<void>;
}

/** Every word typed must appear in the label or hint; earlier matches rank first. */
export function filterCommands(commands: Command[], query: string): Command[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return commands;
  const scored: { c: Command; score: number }[] = [];
  for (const c of commands) {
    const text = `${c.label} ${c.hint ?? ''}`.toLowerCase();
    if (!words.every((w) => text.includes(w))) continue;
    scored.push({ c, score: words.reduce((s, w) => s + text.indexOf(w), 0) });
  }
  return scored.sort((a, b) => a.score - b.score).map((s) => s.c);
}

export default function Palette(props: { onClose: () => void }) {
  const navigate = useNavigate();
  const [query, setQuery] = createSignal('');
  const [active, setActive] = createSignal(0);
  let dialog!: HTMLDialogElement;
  let input!: HTMLInputElement;
  const listId = 'palette-list';

  const go = (path: string) => () => navigate(path);
  const commands = createMemo<Command[]>(() => {
    const list: Command[] = [
      { id: 'nav:/', label: 'Go to Dashboard', run: go('/') },
      { id: 'nav:/tasks', label: 'Go to Tasks', hint: 'agent tasks: start, follow, cancel', run: go('/tasks') },
      { id: 'nav:/services', label: 'Go to Services', hint: 'databases and apps in Docker', run: go('/services') },
      { id: 'nav:/mcp', label: 'Go to MCP servers', hint: 'tools for agents', run: go('/mcp') },
      { id: 'nav:/nodes', label: 'Go to Nodes', hint: 'pair, rename, revoke', run: go('/nodes') },
      { id: 'nav:/settings', label: 'Go to Settings', hint: 'tokens, about', run: go('/settings') },
    ];
    if (session.isAdmin()) list.push({ id: 'nav:/admin', label: 'Go to Users', hint: 'approve accounts', run: go('/admin') });
    for (const node of data.nodes() ?? []) {
      const nodeName = node.name ?? node.id;
      for (const group of groupByRepo(data.ports[node.id]?.ports ?? [])) {
        if (group.name) list.push({ id: `repo:${node.id}:${group.name}`, label: `Go to ${group.name}`, hint: `repo on ${nodeName}`, run: go(repoPath(node.id, group.name)) });
        for (const p of group.ports) {
          const what = `:${p.port}${group.name ? ` ${group.name}` : ''}`;
          list.push(
            { id: `open:${node.id}:${p.port}`, label: `Open ${what}`, hint: `${p.mode} · new tab`, run: () => void window.open(p.url, '_blank', 'noopener') },
            { id: `share:${node.id}:${p.port}`, label: `Share ${what}…`, hint: `now ${p.mode}`, run: () => void ui.openShare(node.id, p.port) },
            { id: `copy:${node.id}:${p.port}`, label: `Copy URL of ${what}`, hint: p.url, run: () => copy(p.url, 'URL') },
            { id: `log:${node.id}:${p.port}`, label: `Access log of ${what}`, run: go(logPath(node.id, p.port)) },
          );
        }
      }
    }
    // Dev servers homeportd supervises: start or stop, and their logs.
    for (const node of data.nodes() ?? []) {
      for (const r of data.repos[node.id] ?? []) {
        list.push(
          { id: `task:${node.id}:${r.id}`, label: `New task in ${r.name}`, hint: 'agent task', run: go(tasksPath(node.id, r.name)) },
          {
            id: `editor:${node.id}:${r.id}`,
            label: `Open ${r.name} in editor`,
            hint: 'browser VS Code',
            run: () => openInEditor(node.id, r.name).then((problem) => void (problem && ui.notify(problem))),
          },
        );
        if (!r.runtime) continue;
        const running = ['running', 'starting', 'crashed'].includes(r.runtime.status?.state ?? 'stopped');
        list.push(
          { id: `logs:${node.id}:${r.id}`, label: `Logs of ${r.name}`, hint: 'dev server output', run: go(`${repoPath(node.id, r.name)}#logs`) },
          {
            id: `server:${node.id}:${r.id}`,
            label: `${running ? 'Stop' : 'Start'} ${r.name}`,
            hint: 'dev server',
            run: () =>
              api.server(node.id, r.id, running ? 'stop' : 'start').then(
                () => {
                  ui.notify(`${r.name}: ${running ? 'stopped' : 'starting'}`);
                  void data.refreshRepos(node.id);
                },
                (e: Error) => ui.notify(e.message),
              ),
          },
        );
      }
    }
    return list;
  });
  const results = createMemo(() => filterCommands(commands(), query()));
  const activeId = () => (results().length ? `palette-${active()}` : undefined);

  onMount(() => {
    dialog.showModal();
    input.focus();
  });

  function move(delta: number) {
    const n = results().length;
    if (!n) return;
    setActive((active() + delta + n) % n);
    document.getElementById(`palette-${active()}`)?.scrollIntoView({ block: 'nearest' });
  }

  function run(command: Command | undefined) {
    if (!command) return;
    props.onClose();
    void command.run();
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'ArrowDown') move(1);
    else if (e.key === 'ArrowUp') move(-1);
    else if (e.key === 'Home' && e.ctrlKey) setActive(0);
    else if (e.key === 'End' && e.ctrlKey) setActive(Math.max(0, results().length - 1));
    else if (e.key === 'Enter') run(results()[active()]);
    else return trapTab(dialog, e);
    e.preventDefault();
  }

  return (
    <dialog
      ref={dialog}
      class="dialog palette"
      aria-label="Command palette"
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
      onClick={(e) => e.target === dialog && props.onClose()}
    >
      <div class="dialog-inner">
        <input
          ref={input}
          type="text"
          role="combobox"
          aria-expanded="true"
          aria-controls={listId}
          aria-activedescendant={activeId()}
          aria-autocomplete="list"
          aria-label="Type a command or search"
          placeholder="Type a command, a repo or a port…"
          autocomplete="off"
          spellcheck={false}
          value={query()}
          onInput={(e) => {
            setQuery(e.currentTarget.value);
            setActive(0);
          }}
          onKeyDown={onKeyDown}
        />
        <ul id={listId} role="listbox" aria-label="Commands">
          <For each={results()}>
            {(c, i) => (
              <li id={`palette-${i()}`} role="option" aria-selected={i() === active()} classList={{ active: i() === active() }} onMouseMove={() => setActive(i())} onClick={() => run(c)}>
                <span>{c.label}</span>
                <Show when={c.hint}>
                  <span class="muted small hint">{c.hint}</span>
                </Show>
              </li>
            )}
          </For>
        </ul>
        <Show when={!results().length}>
          <p class="muted empty">Nothing matches “{query()}”.</p>
        </Show>
        <p class="muted small keys" aria-hidden="true">
          <kbd>↑</kbd> <kbd>↓</kbd> move · <kbd>Enter</kbd> run · <kbd>Esc</kbd> close
        </p>
      </div>
    </dialog>
  );
}
