/**
 * @module
 * Issue comments and collaborator permissions on a FakeGitHub (test/fakes/github.ts),
 * in GitHub's REST shapes, for the webhook tests:
 *
 * - `GET  /repos/:owner/:repo/collaborators/:user/permission` → `{permission, role_name, user}`
 *   from `permissions` (others: `read` on this public repo, as GitHub answers);
 * - `POST /repos/:owner/:repo/issues/:number/comments` `{body}` → 201 comment;
 * - `PATCH /repos/:owner/:repo/issues/comments/:id` `{body}` → 200 comment;
 * - `GET  /repos/:owner/:repo/issues/:number/comments` → the issue's comments.
 *
 * Every write needs a valid token (its user is the comment's author); `history` keeps
 * each body a comment ever had, in order.
 */
import type { FakeGitHub, FakeResponse } from './github.ts';

export interface FakeComment {
  id: number;
  repo: string;
  issue: number;
  author: string;
  body: string;
  /** every body it had, first to last */
  history: string[];
  createdAt: string;
  updatedAt: string;
}

const WRITE_ROLES: Record<string, string> = { admin: 'admin', maintain: 'write', write: 'write', triage: 'read', read: 'read', none: 'none' };

function unauthorized(): FakeResponse {
  return { status: 401, body: { message: 'Requires authentication', documentation_url: 'https://docs.github.com/rest' } };
}

export class FakeIssues {
  readonly comments: FakeComment[] = [];
  /** permission checks asked for, as `owner/repo:user` */
  readonly permissionChecks: string[] = [];
  #nextId = 9_000_001;

  constructor(
    private readonly github: FakeGitHub,
    /** login → admin | maintain | write | triage | read */
    readonly permissions: Record<string, string> = {},
  ) {
    const repoOf = (p: Record<string, string>) => `${p.owner}/${p.repo}`;
    github.route('GET', '/repos/:owner/:repo/collaborators/:user/permission', ({ params, auth }) => {
      if (!auth) return unauthorized();
      this.permissionChecks.push(`${repoOf(params)}:${params.user}`);
      const role = this.permissions[params.user.toLowerCase()] ?? 'read';
      return { body: { permission: WRITE_ROLES[role] ?? 'none', role_name: role, user: { login: params.user, type: 'User' } } };
    });
    github.route('POST', '/repos/:owner/:repo/issues/:number/comments', ({ params, auth, body }) => {
      if (!auth) return unauthorized();
      if (typeof body.body !== 'string') return { status: 422, body: { message: 'Validation Failed' } };
      const now = new Date().toISOString();
      const comment: FakeComment = { id: this.#nextId++, repo: repoOf(params), issue: Number(params.number), author: auth.user.login, body: body.body, history: [body.body], createdAt: now, updatedAt: now };
      this.comments.push(comment);
      return { status: 201, body: this.#view(comment) };
    });
    github.route('PATCH', '/repos/:owner/:repo/issues/comments/:id', ({ params, auth, body }) => {
      if (!auth) return unauthorized();
      const comment = this.comments.find((c) => c.id === Number(params.id) && c.repo === repoOf(params));
      if (!comment) return { status: 404, body: { message: 'Not Found' } };
      if (comment.author !== auth.user.login) return { status: 403, body: { message: 'You cannot edit this comment' } };
      if (typeof body.body !== 'string') return { status: 422, body: { message: 'Validation Failed' } };
      comment.body = body.body;
      comment.history.push(body.body);
      comment.updatedAt = new Date().toISOString();
      return { body: this.#view(comment) };
    });
    github.route('GET', '/repos/:owner/:repo/issues/:number/comments', ({ params }) => ({
      body: this.comments.filter((c) => c.repo === repoOf(params) && c.issue === Number(params.number)).map((c) => this.#view(c)),
    }));
  }

  /** The comments on one issue, oldest first. */
  on(repo: string, issue: number): FakeComment[] {
    return this.comments.filter((c) => c.repo.toLowerCase() === repo.toLowerCase() && c.issue === issue);
  }

  #view(c: FakeComment) {
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${this.github.url}/repos/${c.repo}/issues/comments/${c.id}`,
      html_url: `https://github.com/${c.repo}/issues/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${this.github.url}/repos/${c.repo}/issues/${c.issue}`,
      body: c.body,
      user: { login: c.author, type: 'User' },
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      author_association: 'NONE',
    };
  }
}
