/**
 * @module
 * The GitHub side of a task's end: which remotes are on GitHub (the node's
 * `githubBaseUrl`, so GitHub Enterprise too), and the pull request for a pushed task
 * branch, opened with octokit against the REST API (`githubApiUrl`, or the one that
 * goes with the base URL). The token goes in octokit's Authorization header only.
 */
import { Octokit } from '@octokit/rest';

export interface GitHubRepoRef {
  owner: string;
  repo: string;
}

/** `owner/repo` of a remote under `baseUrl` (https, or ssh/scp-like to the same host); null otherwise. */
export function gitHubRepoOf(remoteUrl: string | null, baseUrl: string): GitHubRepoRef | null {
  if (!remoteUrl) return null;
  const base = new URL(baseUrl);
  const basePath = base.pathname.endsWith('/') ? base.pathname : base.pathname + '/';
  let path: string | null = null;
  const scp = /^[\w.-]+@([\w.-]+):(?!\/\/)(.+)$/.exec(remoteUrl);
  if (scp) {
    if (scp[1] === base.hostname) path = scp[2];
  } else {
    let url: URL;
    try {
      url = new URL(remoteUrl);
    } catch {
      return null;
    }
    if ((url.protocol === 'https:' || url.protocol === 'http:') && url.origin === base.origin && url.pathname.startsWith(basePath)) path = url.pathname.slice(basePath.length);
    else if (url.protocol === 'ssh:' && url.hostname === base.hostname) path = url.pathname.slice(1);
  }
  const m = path ? /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(path) : null;
  return m ? { owner: m[1], repo: m[2] } : null;
}

/** The REST API root for a GitHub base URL: api.github.com for github.com, `<base>/api/v3` for Enterprise. */
export function apiUrlFor(baseUrl: string): string {
  const base = new URL(baseUrl);
  if (base.hostname === 'github.com') return 'https://api.github.com';
  return new URL('api/v3', base.href.endsWith('/') ? base.href : base.href + '/').href;
}

export interface PullRequestInput extends GitHubRepoRef {
  token: string;
  apiUrl: string;
  head: string;
  base: string;
  title: string;
  body: string;
}

/** Opens the pull request; an open one for the same branch is found and returned instead. */
export async function openPullRequest(input: PullRequestInput): Promise<{ url: string; number: number; existed: boolean }> {
  const octokit = new Octokit({ auth: input.token, baseUrl: input.apiUrl.replace(/\/$/, ''), userAgent: 'homeportd' });
  try {
    const { data } = await octokit.rest.pulls.create({ owner: input.owner, repo: input.repo, head: input.head, base: input.base, title: input.title, body: input.body });
    return { url: data.html_url, number: data.number, existed: false };
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 422) {
      const { data } = await octokit.rest.pulls.list({ owner: input.owner, repo: input.repo, head: `${input.owner}:${input.head}`, state: 'open' }).catch(() => ({ data: [] }));
      if (data[0]) return { url: data[0].html_url, number: data[0].number, existed: true };
    }
    const message = (error as Error).message?.split('\n')[0] ?? 'unknown error';
    throw new Error(status ? `GitHub answered ${status}: ${message}` : `GitHub could not be reached: ${message}`);
  }
}
