/**
 * @module
 * The text of the one tracking comment Homeport keeps on an issue for each delivery that
 * starts a task (pure). It is rewritten as the run advances and always ends in a final
 * state: the pull request, the branch, the error, the stop or the cancellation — never
 * "working". Every comment Homeport writes starts with the hidden MARKER, so it can never
 * trigger a task itself.
 */
import { MARKER } from './github-events.ts';

/** Task statuses after which nothing changes any more. */
export const FINAL_TASK_STATUSES = ['completed', 'failed', 'cancelled', 'stopped', 'interrupted'] as const;

export function isFinalTaskStatus(status: string | null): boolean {
  return status !== null && (FINAL_TASK_STATUSES as readonly string[]).includes(status);
}

export interface TrackingState {
  deliveryId: string;
  /** delivery status: pending | queued | started | cancelled | failed | node_revoked */
  status: string;
  note: string;
  node: string;
  sender: string | null;
  taskId: string | null;
  taskStatus: string | null;
  taskReason: string | null;
  prUrl: string | null;
  branch: string | null;
}

/** Where the web app shows a task live (docs/webhooks.md): `<dashboard>/nodes/<node>/tasks/<task id>`. */
export function taskUrlOf(dashboardUrl: string, node: string, taskId: string): string {
  return `${dashboardUrl}/nodes/${encodeURIComponent(node)}/tasks/${encodeURIComponent(taskId)}`;
}

/** Where the web app shows a node's queued commands: `<dashboard>/nodes/<node>`. */
export function nodeUrlOf(dashboardUrl: string, node: string): string {
  return `${dashboardUrl}/nodes/${encodeURIComponent(node)}`;
}

/** One line for GitHub: no HTML comments or mentions smuggled in through a reason. */
function inline(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, ' ').replace(/<!--|-->/g, '').replace(/@/g, '@\u200b').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The tracking comment's body, or null while there is nothing to say yet (pending). */
export function renderTracking(state: TrackingState, dashboardUrl: string): string | null {
  const marker = `${MARKER}tracking ${state.deliveryId} -->`;
  const node = `\`${state.node}\``;
  const live = state.taskId ? `[live run](${taskUrlOf(dashboardUrl, state.node, state.taskId)})` : null;
  const reason = state.taskReason ? `: ${inline(state.taskReason)}` : '';
  let line: string;
  if (state.status === 'pending') return null;
  else if (state.status === 'queued') line = `⏳ **Queued** — waiting for the home node ${node} to come online. ([queue](${nodeUrlOf(dashboardUrl, state.node)}))`;
  else if (state.status === 'cancelled') line = '🚫 **Cancelled** before it started.';
  else if (state.status === 'failed') line = `❌ **Could not start**: ${inline(state.note)}`;
  else if (state.status === 'node_revoked') line = `❌ **Stopped waiting**: ${inline(state.note)}.`;
  else
    switch (state.taskStatus) {
      case 'completed':
        line = state.prUrl
          ? `✅ **Done** — pull request: ${state.prUrl}`
          : state.branch
            ? `✅ **Done** — the changes are on the branch \`${inline(state.branch, 200)}\` (no pull request was opened).`
            : '✅ **Done** — the run finished without changes.';
        break;
      case 'failed':
        line = `❌ **Failed**${reason || ': the run ended with an error.'}`;
        break;
      case 'cancelled':
        line = `🚫 **Cancelled**${reason}`;
        break;
      case 'stopped':
        line = `⏹️ **Stopped**${reason || ': a limit was reached.'}`;
        break;
      case 'interrupted':
        line = `⚠️ **Interrupted**${reason || ': the home node stopped during the run.'} Ask again to start a new run.`;
        break;
      default:
        line = `🔧 **Working** on it on ${node}…`;
    }
  const footer = [live, state.sender ? `asked by @${state.sender}` : null].filter(Boolean).join(' · ');
  return `${marker}\n**Homeport** · ${line}${footer ? `\n\n<sub>${footer}</sub>` : ''}`;
}

/** The polite answer to someone who may not start tasks here. */
export function renderDenied(deliveryId: string, sender: string): string {
  return `${MARKER}reply ${deliveryId} -->\nHi @${sender}, thanks for asking! Only people the repository's owner allows (collaborators with write access, or listed users) can start Homeport tasks here, so nothing was started.`;
}
