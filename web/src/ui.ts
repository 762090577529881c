/**
 * @module
 * App-wide UI state: the share modal's target, the command palette, and short status
 * notes read out by screen readers (the `role=status` region in the layout).
 */
import { createRoot, createSignal } from 'solid-js';

export interface ShareTarget {
  node: string;
  port: number;
}

export const ui = createRoot(() => {
  const [shareTarget, setShareTarget] = createSignal<ShareTarget | null>(null);
  const [paletteOpen, setPaletteOpen] = createSignal(false);
  const [note, setNote] = createSignal('');
  let timer: ReturnType<typeof setTimeout> | undefined;
  // "5 min ago" and "ends in 2 h" move on by themselves.
  const [now, setNow] = createSignal(Date.now());
  setInterval(() => setNow(Date.now()), 10_000);
  return {
    now,
    shareTarget,
    openShare: (node: string, port: number) => setShareTarget({ node, port }),
    closeShare: () => setShareTarget(null),
    paletteOpen,
    setPaletteOpen,
    note,
    /** A short message for a few seconds ("Copied"). */
    notify(text: string) {
      clearTimeout(timer);
      setNote(text);
      timer = setTimeout(() => setNote(''), 4000);
    },
  };
});

/** Copies text; falls back to a hidden textarea where the Clipboard API is refused (plain http). */
export async function copy(text: string, what = 'Link'): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  ui.notify(`${what} copied`);
}

/** Names the screen in the browser's tab and history: "Tasks · Homeport". */
export function screenTitle(name: string): void {
  document.title = `${name} · Homeport`;
}

/** The command palette's shortcut as this keyboard writes it: ⌘K on Apple devices, Ctrl K elsewhere. */
export const paletteShortcut = (): string => (/Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent) ? '⌘K' : 'Ctrl K');
