/**
 * @module
 * What a GitHub delivery asks for, decided from its event name and payload alone (pure):
 * an issue comment that mentions `@homeport` (the text after it is the instruction) or
 * an issue labeled `homeport` is a trigger; everything else is ignored with a reason.
 * Comments Homeport writes carry a hidden marker and never trigger.
 */

export const MENTION = '@homeport';
export const TRIGGER_LABEL = 'homeport';
/** Starts every comment Homeport writes (hidden in GitHub's rendering). */
export const MARKER = '<!-- homeport:';

/** The events a repository's webhook should send (docs/webhooks.md). */
export const TRIGGER_EVENTS = ['issue_comment', 'issues'] as const;

const MAX_INSTRUCTION = 8000;
const MAX_ISSUE_BODY = 20_000;

export interface IssueRef {
  number: number;
  title: string;
  body: string;
  url: string;
  isPullRequest: boolean;
}

export interface Trigger {
  kind: 'trigger';
  via: 'comment' | 'label';
  /** owner/name as GitHub spells it */
  repo: string;
  action: string;
  /** who asked: the comment's author, or who added the label */
  sender: string;
  issue: IssueRef;
  /** the text after @homeport (empty for a bare mention or a label) */
  instruction: string;
}

export interface Ignored {
  kind: 'ignore';
  note: string;
  /** 200 for ping, 202 for the rest */
  httpStatus: 200 | 202;
  repo: string | null;
  action: string | null;
  sender: string | null;
}

export interface Malformed {
  kind: 'invalid';
  note: string;
}

export type Classified = Trigger | Ignored | Malformed;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function loginOf(user: unknown): string | null {
  return isObject(user) ? str(user.login) : null;
}

/** The instruction after a mention of @homeport outside quoted lines, or null when there is none. */
export function instructionOf(body: string): string | null {
  const unquoted = body
    .split(/\r?\n/)
    .filter((line) => !line.trimStart().startsWith('>'))
    .join('\n');
  // A mention is "@homeport" not inside a word, an email address or another handle (@homeport-bot).
  const match = /(^|[^\w@./-])@homeport(?![\w-])/i.exec(unquoted);
  if (!match) return null;
  return unquoted
    .slice(match.index + match[0].length)
    .replace(/^[\s,:;.!-]+/, '')
    .trim()
    .slice(0, MAX_INSTRUCTION);
}

function issueOf(issue: Json): IssueRef | null {
  const number = issue.number;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) return null;
  return {
    number,
    title: str(issue.title) ?? '',
    body: str(issue.body) ?? '',
    url: str(issue.html_url) ?? '',
    isPullRequest: isObject(issue.pull_request),
  };
}

export function classify(event: string, payload: unknown): Classified {
  if (!isObject(payload)) return { kind: 'invalid', note: 'the payload must be a JSON object' };
  const repository = isObject(payload.repository) ? payload.repository : null;
  const repo = repository ? str(repository.full_name) : null;
  const action = str(payload.action);
  const sender = loginOf(payload.sender);
  const ignore = (note: string, httpStatus: 200 | 202 = 202): Ignored => ({ kind: 'ignore', note, httpStatus, repo, action, sender });
  if (event === 'ping') return ignore('pong: the webhook reaches Homeport', 200);
  if (!(TRIGGER_EVENTS as readonly string[]).includes(event)) return ignore(`the "${event}" event is not used: Homeport listens to issue_comment and issues`);
  if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo)) return { kind: 'invalid', note: 'repository.full_name is missing or not owner/name' };
  if (!isObject(payload.issue)) return { kind: 'invalid', note: 'the issue is missing' };
  const issue = issueOf(payload.issue);
  if (!issue) return { kind: 'invalid', note: 'issue.number is missing' };

  if (event === 'issue_comment') {
    if (action !== 'created') return ignore(`issue_comment "${action}" is not a trigger (only new comments are)`);
    const comment = isObject(payload.comment) ? payload.comment : null;
    const body = comment ? str(comment.body) : null;
    const author = comment ? loginOf(comment.user) : null;
    if (body === null || !author) return { kind: 'invalid', note: 'the comment (body and user) is missing' };
    if (body.includes(MARKER)) return ignore("Homeport's own comment");
    const instruction = instructionOf(body);
    if (instruction === null) return ignore(`the comment does not mention ${MENTION}`);
    return { kind: 'trigger', via: 'comment', repo, action, sender: author, issue, instruction };
  }

  // issues
  if (action !== 'labeled') return ignore(`issues "${action}" is not a trigger (only labeling with "${TRIGGER_LABEL}" is)`);
  const label = isObject(payload.label) ? str(payload.label.name) : null;
  if (label?.toLowerCase() !== TRIGGER_LABEL) return ignore(`the label "${label ?? ''}" is not "${TRIGGER_LABEL}"`);
  if (!sender) return { kind: 'invalid', note: 'the sender is missing' };
  return { kind: 'trigger', via: 'label', repo, action, sender, issue, instruction: '' };
}

/** The task's prompt: the request, with the issue's title and body as context. */
export function promptOf(trigger: Trigger): string {
  const { issue } = trigger;
  const what = issue.isPullRequest ? 'pull request' : 'issue';
  const body = issue.body.length > MAX_ISSUE_BODY ? `${issue.body.slice(0, MAX_ISSUE_BODY)}\n[… cut: the ${what} text is longer]` : issue.body;
  const request =
    trigger.via === 'label'
      ? `@${trigger.sender} labeled this ${what} "${TRIGGER_LABEL}": resolve it.`
      : trigger.instruction
        ? `@${trigger.sender} asked (in a comment on this ${what}):\n${trigger.instruction}`
        : `@${trigger.sender} mentioned ${MENTION} on this ${what} without further words: resolve it.`;
  return [
    `GitHub ${what} ${trigger.repo}#${issue.number}: ${issue.title}`,
    issue.url,
    '',
    `The ${what} says:`,
    body.trim() || '(no description)',
    '',
    request,
  ].join('\n');
}
