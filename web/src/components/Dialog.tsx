/**
 * @module
 * A modal dialog on the native <dialog> (showModal makes the rest of the page inert and
 * gives Esc for free). Tab is also kept inside, focus goes to the first field, and it
 * returns to where it was when the dialog closes.
 */
import { createUniqueId, onCleanup, onMount, type JSX } from 'solid-js';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Keeps Tab and Shift+Tab cycling inside `root`. */
export function trapTab(root: HTMLElement, event: KeyboardEvent) {
  if (event.key !== 'Tab') return;
  const items = [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null || el === document.activeElement);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

export function Dialog(props: { title: string; onClose: () => void; children: JSX.Element; class?: string; hideTitle?: boolean }) {
  let dialog!: HTMLDialogElement;
  const titleId = createUniqueId();
  const before = document.activeElement as HTMLElement | null;
  onMount(() => {
    dialog.showModal();
    const first = dialog.querySelector<HTMLElement>('[autofocus], input:not([type=radio]):not([disabled]), select, textarea') ?? dialog.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
  });
  onCleanup(() => {
    if (dialog.open) dialog.close();
    before?.focus?.();
  });
  return (
    <dialog
      ref={dialog}
      class={`dialog ${props.class ?? ''}`}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
      onKeyDown={(e) => trapTab(dialog, e)}
      onClick={(e) => e.target === dialog && props.onClose()}
    >
      {/* the dialog itself has no padding: a click on it, not on this, is on the backdrop */}
      <div class="dialog-inner">
        <div class="dialog-head" classList={{ 'visually-hidden': props.hideTitle }}>
          <h2 id={titleId}>{props.title}</h2>
          <button type="button" class="icon" aria-label="Close" onClick={() => props.onClose()}>
            ×
          </button>
        </div>
        {props.children}
      </div>
    </dialog>
  );
}

/** A yes/no question in a dialog, for destructive actions. */
export function Confirm(props: { title: string; message: JSX.Element; action: string; onConfirm: () => void | Promise<void>; onClose: () => void }) {
  let busy = false;
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <p>{props.message}</p>
      <div class="actions">
        {/* Cancel has the focus: Enter alone never destroys anything. */}
        <button type="button" autofocus onClick={() => props.onClose()}>
          Cancel
        </button>
        <button
          type="button"
          class="danger"
          onClick={async () => {
            if (busy) return;
            busy = true;
            try {
              await props.onConfirm();
            } finally {
              busy = false;
            }
          }}
        >
          {props.action}
        </button>
      </div>
    </Dialog>
  );
}
