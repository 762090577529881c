/**
 * @module
 * The few GitHub REST calls the webhooks need, with the edge's own token (the Worker
 * secret GITHUB_TOKEN, never logged): the token's user, a sender's permission on a repo,
 * and creating and updating issue comments. GITHUB_API_URL points it at GitHub
 * Enterprise or the tests' fake.
 */

/** A failed GitHub call; `retry` when it may work later (network, 5xx, rate limits). */
export class GitHubError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/** Permissions that may start tasks (GitHub's `permission` field; `role_name` says maintain for maintainers). */
const WRITERS = new Set(['admin', 'maintain', 'write']);

export class GitHubApi {
  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
  ) {}

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.apiUrl + path, {
        method,
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${this.token}`,
          'x-github-api-version': '2022-11-28',
          'user-agent': 'homeport-edge',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      throw new GitHubError(0, `GitHub could not be reached: ${error instanceof Error ? error.message : 'network error'}`, true);
    }
    const data = (await res.json().catch(() => null)) as (T & { message?: string }) | null;
    if (!res.ok) {
      const limited = res.status === 429 || (res.status === 403 && res.headers.get('x-ratelimit-remaining') === '0');
      throw new GitHubError(res.status, `GitHub answered ${res.status}${data?.message ? `: ${data.message}` : ''}`, limited || res.status >= 500);
    }
    return data as T;
  }

  /** The token's own login (its comments never trigger). */
  async login(): Promise<string> {
    return (await this.#call<{ login: string }>('GET', '/user')).login;
  }

  /** Whether `user` has write access (or more) to `repo` (owner/name). */
  async canWrite(repo: string, user: string): Promise<boolean> {
    try {
      const answer = await this.#call<{ permission?: string; role_name?: string }>('GET', `/repos/${repo}/collaborators/${encodeURIComponent(user)}/permission`);
      return WRITERS.has(answer.permission ?? '') || WRITERS.has(answer.role_name ?? '');
    } catch (error) {
      // 404: not a collaborator (or the user does not exist).
      if (error instanceof GitHubError && error.status === 404) return false;
      throw error;
    }
  }

  async createComment(repo: string, issue: number, body: string): Promise<{ id: number; html_url: string }> {
    return this.#call('POST', `/repos/${repo}/issues/${issue}/comments`, { body });
  }

  async updateComment(repo: string, commentId: number, body: string): Promise<void> {
    await this.#call('PATCH', `/repos/${repo}/issues/comments/${commentId}`, { body });
  }
}
