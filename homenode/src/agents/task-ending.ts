/**
 * @module
 * The end of a task's run, on the host: commit everything in the worktree (whatever the
 * outcome), measure the diff against the task's base, and for a repo whose `origin` is
 * on GitHub, with a token set, push the branch and open its pull request (once per
 * task; later runs push to it). Each step is reported as a `status` event; a step that
 * fails becomes an event too, and the work stays where it is.
 */
import type { schema } from '../db/index.ts';
import type { Settings } from '../node-settings.ts';
import type { GitAuth } from '../repos/git.ts';
import type { RepoRow } from '../repos/service.ts';
import { apiUrlFor, gitHubRepoOf, openPullRequest } from './pull-request.ts';
import type { Redactor } from './task-events.ts';
import { commitAll, diffStat, pushBranch, type Worktree } from './worktree.ts';

type TaskRow = typeof schema.tasks.$inferSelect;

export interface EndingContext {
  tree: Worktree;
  /** the task's row as it is now */
  row: TaskRow;
  /** appends a task event, changing the row in the same transaction */
  event(type: string, payload: unknown, patch?: Partial<TaskRow>): Promise<unknown>;
}

export interface PublishContext extends EndingContext {
  repo: RepoRow;
  settings: Settings;
  auth: GitAuth | null;
  prompt: string;
  status: string;
  reason: string | null;
  redact: Redactor;
}

/** The prompt's first non-empty line, cut to `max` characters. */
export function firstLine(text: string, max = 72): string {
  const line = text.split('\n').find((l) => l.trim())?.trim() ?? 'Agent task';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Subject: the prompt's first line; body: the whole prompt (when longer) and how the run ended. */
export function commitMessage(taskId: string, prompt: string, status: string, reason: string | null): string {
  const whole = prompt.length > 72 || prompt.includes('\n') ? `${prompt}\n\n` : '';
  return `${firstLine(prompt)}\n\n${whole}Homeport task ${taskId}: ${status}${reason ? ` (${reason})` : ''}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Commits the worktree and records the diff stat; returns the row's changes ({} when it failed). */
export async function commitWork({ tree, row, event }: EndingContext, message: string): Promise<Partial<TaskRow>> {
  try {
    const commit = await commitAll(tree, message);
    const stat = row.baseSha ? await diffStat(tree, row.baseSha, commit.sha) : null;
    const patch = { commitSha: commit.sha, diffStat: stat ? JSON.stringify(stat) : null };
    await event('status', { status: 'committed', branch: tree.branch, commitSha: commit.sha, committed: commit.committed, diffStat: stat, ...(commit.warning ? { warning: commit.warning } : {}) }, patch);
    return patch;
  } catch (error) {
    await event('status', { status: 'commit-failed', detail: `${messageOf(error)}; the work is still in ${tree.path}` });
    return {};
  }
}

/** Pushes the branch and opens (once) its pull request, for a GitHub remote with a token. */
export async function publishWork(ctx: PublishContext): Promise<Partial<TaskRow>> {
  const { tree, row, event, repo, settings, auth } = ctx;
  if (!row.commitSha || row.commitSha === row.baseSha) return {};
  const gh = gitHubRepoOf(repo.remoteUrl, settings.githubBaseUrl);
  if (!gh || !auth) {
    const detail = !gh ? 'the repo has no GitHub remote: the branch stays on this machine' : 'no GitHub token is set (`homeport github-token`): the branch stays on this machine';
    await event('status', { status: 'kept-local', branch: tree.branch, detail });
    return {};
  }
  try {
    await pushBranch(tree, auth);
    await event('status', { status: 'pushed', branch: tree.branch, remote: `${gh.owner}/${gh.repo}` });
    if (row.prUrl) return {};
    const pr = await openPullRequest({
      ...gh,
      token: auth.token,
      apiUrl: settings.githubApiUrl ?? apiUrlFor(settings.githubBaseUrl),
      head: tree.branch,
      base: row.baseBranch ?? repo.defaultBranch ?? 'main',
      title: firstLine(ctx.prompt, 100),
      body: ctx.redact(
        `${ctx.prompt}\n\n---\nMade by Homeport agent task \`${row.id}\` (${row.model}): ${ctx.status}${ctx.reason ? ` (${ctx.reason})` : ''}. ` +
          'Follow-up prompts to the task push more commits to this branch.',
      ),
    });
    await event('status', { status: 'pull-request', prUrl: pr.url, number: pr.number, existed: pr.existed }, { prUrl: pr.url });
    return { prUrl: pr.url };
  } catch (error) {
    await event('status', { status: 'push-failed', detail: `${messageOf(error)}; the commit is on ${tree.branch} here` });
    return {};
  }
}
