import { afterEach, describe, expect, it } from 'vitest';
import { FakeGitHub, type FakeRequest } from '../../../test/fakes/github.ts';
import { apiUrlFor, gitHubRepoOf, openPullRequest } from './pull-request.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

describe('GitHub remotes', () => {
  it('should find owner/repo in remotes under the base URL only', () => {
    const gh = 'https://github.com/';
    expect(gitHubRepoOf('https://github.com/acme/shop.git', gh)).toEqual({ owner: 'acme', repo: 'shop' });
    expect(gitHubRepoOf('https://github.com/acme/shop', gh)).toEqual({ owner: 'acme', repo: 'shop' });
    expect(gitHubRepoOf('git@github.com:acme/shop.git', gh)).toEqual({ owner: 'acme', repo: 'shop' });
    expect(gitHubRepoOf('ssh://git@github.com/acme/shop.git', gh)).toEqual({ owner: 'acme', repo: 'shop' });
    expect(gitHubRepoOf('https://gitlab.com/acme/shop.git', gh)).toBeNull();
    expect(gitHubRepoOf('https://github.com.evil.example/acme/shop.git', gh)).toBeNull();
    expect(gitHubRepoOf('git@gitlab.com:acme/shop.git', gh)).toBeNull();
    expect(gitHubRepoOf('https://github.com/acme/shop/tree/main', gh)).toBeNull();
    expect(gitHubRepoOf('/srv/git/shop.git', gh)).toBeNull();
    expect(gitHubRepoOf(null, gh)).toBeNull();
    // GitHub Enterprise under a path.
    expect(gitHubRepoOf('https://ghe.example.com/git/acme/shop.git', 'https://ghe.example.com/git/')).toEqual({ owner: 'acme', repo: 'shop' });
    expect(gitHubRepoOf('https://ghe.example.com/acme/shop.git', 'https://ghe.example.com/git/')).toBeNull();
  });

  it('should pick the REST API that goes with a base URL', () => {
    expect(apiUrlFor('https://github.com/')).toBe('https://api.github.com');
    expect(apiUrlFor('https://ghe.example.com/')).toBe('https://ghe.example.com/api/v3');
  });
});

describe('openPullRequest', () => {
  it('should open a pull request with the token, and find the open one when GitHub says it exists', async () => {
    const github = await FakeGitHub.start();
    cleanup.push(() => github.stop());
    github.addUser({ id: 1, login: 'ada', emails: [] });
    const token = github.issueToken('ada');
    const seen: FakeRequest[] = [];
    github.route('POST', '/repos/:owner/:repo/pulls', (r) => {
      seen.push(r);
      if (seen.length > 1) return { status: 422, body: { message: 'Validation Failed', errors: [{ message: 'A pull request already exists for acme:homeport/t1.' }] } };
      return { status: 201, body: { number: 7, html_url: 'https://github.example/acme/shop/pull/7' } };
    });
    github.route('GET', '/repos/:owner/:repo/pulls', (r) => ({ body: r.url.searchParams.get('head') === 'acme:homeport/t1' ? [{ number: 7, html_url: 'https://github.example/acme/shop/pull/7' }] : [] }));
    const input = { owner: 'acme', repo: 'shop', token, apiUrl: github.url, head: 'homeport/t1', base: 'main', title: 'Fix it', body: 'Made by a task' };
    expect(await openPullRequest(input)).toEqual({ url: 'https://github.example/acme/shop/pull/7', number: 7, existed: false });
    expect(seen[0].auth?.user.login).toBe('ada');
    expect(seen[0].body).toEqual({ head: 'homeport/t1', base: 'main', title: 'Fix it', body: 'Made by a task' });
    expect(await openPullRequest(input)).toEqual({ url: 'https://github.example/acme/shop/pull/7', number: 7, existed: true });
    await expect(openPullRequest({ ...input, token: 'gho_not-a-token' })).rejects.toThrow(/^GitHub answered 401: Bad credentials/);
  });
});
