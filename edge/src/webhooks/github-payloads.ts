/**
 * @module
 * Test helper (never imported by the Worker; used by the edge tests and test/webhooks):
 * GitHub webhook payloads in the shape GitHub sends them, following the public
 * @octokit/webhooks payload examples for `issue_comment.created` and `issues.labeled`
 * (full user, issue, comment, label and repository objects, API and HTML URLs).
 */

export interface PayloadOptions {
  /** owner/name */
  repo?: string;
  issue?: number;
  title?: string;
  body?: string;
  /** the comment's author, or who added the label (the sender) */
  sender?: string;
  senderId?: number;
  /** GitHub's web and API hosts, e.g. https://github.com and https://api.github.com */
  web?: string;
  api?: string;
}

export function userOf(login: string, id: number, api = 'https://api.github.com', web = 'https://github.com') {
  return {
    login,
    id,
    node_id: `MDQ6VXNlcj${id}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: `${api}/users/${login}`,
    html_url: `${web}/${login}`,
    followers_url: `${api}/users/${login}/followers`,
    following_url: `${api}/users/${login}/following{/other_user}`,
    gists_url: `${api}/users/${login}/gists{/gist_id}`,
    starred_url: `${api}/users/${login}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/users/${login}/subscriptions`,
    organizations_url: `${api}/users/${login}/orgs`,
    repos_url: `${api}/users/${login}/repos`,
    events_url: `${api}/users/${login}/events{/privacy}`,
    received_events_url: `${api}/users/${login}/received_events`,
    type: 'User',
    site_admin: false,
  };
}

function repositoryOf(fullName: string, api: string, web: string) {
  const [owner, name] = fullName.split('/');
  const repoApi = `${api}/repos/${fullName}`;
  return {
    id: 186853002,
    node_id: 'MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=',
    name,
    full_name: fullName,
    private: false,
    owner: userOf(owner!, 21031067, api, web),
    html_url: `${web}/${fullName}`,
    description: null,
    fork: false,
    url: repoApi,
    collaborators_url: `${repoApi}/collaborators{/collaborator}`,
    issue_comment_url: `${repoApi}/issues/comments{/number}`,
    issues_url: `${repoApi}/issues{/number}`,
    pulls_url: `${repoApi}/pulls{/number}`,
    labels_url: `${repoApi}/labels{/name}`,
    created_at: '2026-11-01T15:19:25Z',
    updated_at: '2026-11-01T15:19:27Z',
    pushed_at: '2026-11-20T15:20:13Z',
    git_url: `git://github.com/${fullName}.git`,
    ssh_url: `git@github.com:${fullName}.git`,
    clone_url: `${web}/${fullName}.git`,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: 'TypeScript',
    has_issues: true,
    forks_count: 0,
    archived: false,
    disabled: false,
    open_issues_count: 1,
    license: null,
    forks: 0,
    open_issues: 1,
    watchers: 0,
    default_branch: 'main',
    is_template: false,
  };
}

function issueOf(o: Required<PayloadOptions>, labels: { name: string }[]) {
  const issueApi = `${o.api}/repos/${o.repo}/issues/${o.issue}`;
  return {
    url: issueApi,
    repository_url: `${o.api}/repos/${o.repo}`,
    labels_url: `${issueApi}/labels{/name}`,
    comments_url: `${issueApi}/comments`,
    events_url: `${issueApi}/events`,
    html_url: `${o.web}/${o.repo}/issues/${o.issue}`,
    id: 444500000 + o.issue,
    node_id: 'MDU6SXNzdWU0NDQ1MDAwNDE=',
    number: o.issue,
    title: o.title,
    user: userOf('issue-author', 5550001, o.api, o.web),
    labels: labels.map((l, i) => ({ id: 1362934389 + i, node_id: 'MDU6TGFiZWwxMzYyOTM0Mzg5', url: `${o.api}/repos/${o.repo}/labels/${l.name}`, name: l.name, color: 'd73a4a', default: false, description: null })),
    state: 'open',
    locked: false,
    assignee: null,
    assignees: [],
    milestone: null,
    comments: 0,
    created_at: '2026-11-20T15:20:18Z',
    updated_at: '2026-11-20T15:20:21Z',
    closed_at: null,
    author_association: 'NONE',
    active_lock_reason: null,
    body: o.body,
    reactions: { url: `${issueApi}/reactions`, total_count: 0, '+1': 0, '-1': 0, laugh: 0, hooray: 0, confused: 0, heart: 0, rocket: 0, eyes: 0 },
  };
}

function defaults(options: PayloadOptions): Required<PayloadOptions> {
  return {
    repo: 'octo-org/shop',
    issue: 7,
    title: 'Checkout button does nothing',
    body: 'Clicking "Pay" on /checkout does nothing in Firefox.',
    sender: 'octocat',
    senderId: 583231,
    web: 'https://github.com',
    api: 'https://api.github.com',
    ...options,
  };
}

/** `issue_comment` with action `created`. */
export function issueCommentCreated(comment: string, options: PayloadOptions & { commentId?: number } = {}) {
  const o = defaults(options);
  const commentId = options.commentId ?? 492700400;
  const sender = userOf(o.sender, o.senderId, o.api, o.web);
  return {
    action: 'created',
    issue: issueOf(o, []),
    comment: {
      url: `${o.api}/repos/${o.repo}/issues/comments/${commentId}`,
      html_url: `${o.web}/${o.repo}/issues/${o.issue}#issuecomment-${commentId}`,
      issue_url: `${o.api}/repos/${o.repo}/issues/${o.issue}`,
      id: commentId,
      node_id: 'MDEyOklzc3VlQ29tbWVudDQ5MjcwMDQwMA==',
      user: sender,
      created_at: '2026-11-23T09:20:21Z',
      updated_at: '2026-11-23T09:20:21Z',
      author_association: 'COLLABORATOR',
      body: comment,
    },
    repository: repositoryOf(o.repo, o.api, o.web),
    sender,
  };
}

/** `issues` with action `labeled`. */
export function issuesLabeled(label: string, options: PayloadOptions = {}) {
  const o = defaults(options);
  return {
    action: 'labeled',
    issue: issueOf(o, [{ name: label }]),
    label: { id: 1362934390, node_id: 'MDU6TGFiZWwxMzYyOTM0Mzkw', url: `${o.api}/repos/${o.repo}/labels/${label}`, name: label, color: '0e8a16', default: false, description: 'Ask Homeport to work on it' },
    repository: repositoryOf(o.repo, o.api, o.web),
    sender: userOf(o.sender, o.senderId, o.api, o.web),
  };
}

/** `ping`, sent when a webhook is created. */
export function ping(options: PayloadOptions = {}) {
  const o = defaults(options);
  return {
    zen: 'Design for failure.',
    hook_id: 109948940,
    hook: { type: 'Repository', id: 109948940, name: 'web', active: true, events: ['issue_comment', 'issues'], config: { content_type: 'json', insecure_ssl: '0', url: 'https://homeport.example.com/webhooks/github' } },
    repository: repositoryOf(o.repo, o.api, o.web),
    sender: userOf(o.sender, o.senderId, o.api, o.web),
  };
}
