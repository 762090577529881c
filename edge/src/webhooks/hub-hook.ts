/**
 * @module
 * What a node's hub tells the Webhooks object, so a GitHub tracking comment follows the
 * task a webhook started: a webhook command (id `wh-…`) that settled (delivered, failed,
 * cancelled) and changes of tasks whose `source` is `webhook:<delivery id>`. Everything
 * else stays in the hub. The hub calls `webhookNoticesOf` on what it applied and sends
 * the notices with `tellWebhooks` (best effort: logged when the object cannot be reached).
 */
import type { Env } from '../env.ts';
import { webhooksOf } from './webhooks-do.ts';

export const WEBHOOK_COMMAND_PREFIX = 'wh-';
export const WEBHOOK_SOURCE_PREFIX = 'webhook:';

export interface TaskNotice {
  id: string;
  status: string;
  source: string;
  reason?: string | null;
  prUrl?: string | null;
  branch?: string | null;
}

export type HubNotice = { command: { id: string; state: string; status: number | null; result: unknown } } | { task: TaskNotice };

const optional = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The notice for a settled command, or null when no webhook queued it. */
export function commandNoticeOf(command: { id: string; state: string; status: number | null; result: unknown }): HubNotice | null {
  return command.id.startsWith(WEBHOOK_COMMAND_PREFIX) ? { command: { id: command.id, state: command.state, status: command.status, result: command.result } } : null;
}

/**
 * Notices for the `tasks` entities that changed, read from the merged mirror (`entity`),
 * so an event carrying only part of a task still knows where the task came from.
 */
export function taskNoticesOf(events: { topic: string; payload: unknown }[], entity: (topic: string, key: string) => unknown): HubNotice[] {
  const notices = new Map<string, HubNotice>();
  for (const event of events) {
    if (event.topic !== 'tasks') continue;
    const id = optional((event.payload as { id?: unknown } | null)?.id);
    if (!id) continue;
    const task = (entity('tasks', id) ?? event.payload) as Record<string, unknown>;
    const source = optional(task.source);
    const status = optional(task.status);
    if (!source?.startsWith(WEBHOOK_SOURCE_PREFIX) || !status) continue;
    // The newest state of each task is enough.
    notices.set(id, { task: { id, status, source, reason: optional(task.reason), prUrl: optional(task.prUrl), branch: optional(task.branch) } });
  }
  return [...notices.values()];
}

/** Sends notices to the Webhooks object, one at a time, in order. */
export async function tellWebhooks(env: Env, node: string, notices: HubNotice[]): Promise<void> {
  if (!notices.length || !node) return;
  for (const notice of notices) {
    try {
      await webhooksOf(env).nodeChanged(node, notice);
    } catch (error) {
      console.error('webhook notice failed', error instanceof Error ? error.message : 'unknown');
    }
  }
}
