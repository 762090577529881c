/**
 * @module
 * A task's events folded into the transcript the console shows: the prompts, the
 * assistant's text (growing with each `assistant.delta`, settled by `assistant.text`),
 * each tool call with its result, and short notes for the run's milestones. Events are
 * applied in `seq` order, each once: `apply` ignores anything at or below the last seq
 * (a stream that resumes may repeat the event it broke on).
 */
import type { TaskEvent } from './api.ts';

export type Entry =
  | { kind: 'user'; seq: number; text: string }
  | { kind: 'assistant'; seq: number; text: string; streaming: boolean }
  | { kind: 'tool'; seq: number; id: string; name: string; input: unknown; result: { content: string; isError: boolean; ms: number } | null }
  | { kind: 'note'; seq: number; tone: 'info' | 'warn' | 'bad'; text: string };

export interface Transcript {
  /** the last seq applied */
  last: number;
  entries: Entry[];
  /** every event, for the raw tab */
  events: TaskEvent[];
}

export const emptyTranscript = (): Transcript => ({ last: 0, entries: [], events: [] });

/** A final `status` event ends a run (a follow-up starts another). */
export const isFinal = (event: TaskEvent) => event.type === 'status' && event.payload.final === true;

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** What a `status` event says, for people; null for the ones not worth a line. */
function statusNote(p: Record<string, unknown>, said: (text: string) => boolean): { tone: 'info' | 'warn' | 'bad'; text: string } | null {
  const reason = str(p.reason) || str(p.detail);
  // The end of a run does not repeat a reason its error or cancel note gave.
  const why = reason && !(p.final && said(reason)) ? `: ${reason}` : '';
  switch (p.status) {
    case 'queued':
      return { tone: 'info', text: p.followUp ? 'Follow-up queued' : 'Queued' };
    case 'running':
      return { tone: 'info', text: 'Running' };
    case 'worktree':
      return { tone: 'info', text: `Working on branch ${str(p.branch)} (from ${str(p.baseBranch) || 'HEAD'})` };
    case 'retrying':
      return { tone: 'warn', text: `Retrying${why}` };
    case 'limit':
      return { tone: 'warn', text: `Limit reached${why}` };
    case 'committed':
      return { tone: 'info', text: p.committed ? `Committed ${str(p.commitSha).slice(0, 10)} on ${str(p.branch)}` : `Nothing new to commit on ${str(p.branch)}` };
    case 'kept-local':
      return { tone: 'info', text: str(p.detail) || 'The branch stays on the node' };
    case 'pushed':
      return { tone: 'info', text: `Pushed ${str(p.branch)} to ${str(p.remote)}` };
    case 'pull-request':
      return { tone: 'info', text: `Pull request: ${str(p.prUrl)}` };
    case 'push-failed':
    case 'commit-failed':
    case 'sandbox-not-removed':
      return { tone: 'bad', text: `${String(p.status).replace(/-/g, ' ')}${why}` };
  }
  if (p.final) {
    const tone = p.status === 'completed' ? 'info' : p.status === 'cancelled' || p.status === 'stopped' ? 'warn' : 'bad';
    return { tone, text: `${String(p.status)[0].toUpperCase()}${String(p.status).slice(1)}${why}` };
  }
  return null;
}

/** Folds one event in (mutating `t`: the console applies it through a store's `produce`). */
export function apply(t: Transcript, event: TaskEvent): void {
  if (event.seq <= t.last) return;
  t.last = event.seq;
  t.events.push(event);
  const p = event.payload ?? {};
  const entries = t.entries;
  const tail = entries[entries.length - 1];
  const streaming = tail?.kind === 'assistant' && tail.streaming ? tail : null;
  switch (event.type) {
    case 'user.message':
      entries.push({ kind: 'user', seq: event.seq, text: str(p.text) });
      break;
    case 'assistant.delta':
      if (streaming) streaming.text += str(p.text);
      else entries.push({ kind: 'assistant', seq: event.seq, text: str(p.text), streaming: true });
      break;
    case 'assistant.text':
      if (streaming) Object.assign(streaming, { text: str(p.text), streaming: false });
      else entries.push({ kind: 'assistant', seq: event.seq, text: str(p.text), streaming: false });
      break;
    case 'tool.call':
      entries.push({ kind: 'tool', seq: event.seq, id: str(p.id), name: str(p.name), input: p.input, result: null });
      break;
    case 'tool.result': {
      const result = { content: str(p.content), isError: p.isError === true, ms: Number(p.ms) || 0 };
      const call = entries.findLast((e) => e.kind === 'tool' && e.id === p.id && !e.result);
      if (call?.kind === 'tool') call.result = result;
      else entries.push({ kind: 'tool', seq: event.seq, id: str(p.id), name: str(p.name), input: null, result });
      break;
    }
    case 'error':
      entries.push({ kind: 'note', seq: event.seq, tone: 'bad', text: `Error: ${str(p.message)}` });
      break;
    case 'cancelled':
      entries.push({ kind: 'note', seq: event.seq, tone: 'warn', text: `Cancelled: ${str(p.reason)}` });
      break;
    case 'status': {
      // A turn that is retried starts its text again: the broken beginning goes.
      if (p.status === 'retrying' && streaming) entries.pop();
      const note = statusNote(p, (reason) => entries.some((e) => e.kind === 'note' && e.text.endsWith(reason)));
      if (note) entries.push({ kind: 'note', seq: event.seq, ...note });
      break;
    }
  }
}
