/**
 * End to end: GitHub webhooks start agent tasks on the home node and report back on the
 * issue. The real local stack (wrangler dev + homeportd), the real task runner (Docker
 * sandbox, the real Anthropic SDK against the fake Messages API, git pushing to a local
 * smart-HTTP remote, octokit opening the pull request on the fake GitHub), and the edge
 * writing its tracking comment to the same fake GitHub. Payloads are shaped like
 * GitHub's (edge/src/webhooks/github-payloads.ts) and signed like GitHub signs them.
 */
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, makeWorkTree, startGitHttpServer, tempDir } from '../homenode/src/repos/git-fixtures.ts';
import { issueCommentCreated, issuesLabeled } from '../edge/src/webhooks/github-payloads.ts';
import { FakeAnthropic, text, toolUse } from './fakes/anthropic.ts';
import { FakeGitHub, type FakeRequest } from './fakes/github.ts';
import { FakeIssues } from './fakes/github-issues.ts';
import { ensureDocker, ensureTestImage } from './helpers/docker.ts';
import { ROOT, nodeApi, ownerRequest as request, startTestStack, waitFor, type TestStack } from './helpers/stack.ts';

const WEBHOOK_SECRET = randomBytes(20).toString('hex');
const REPO = 'acme/shop';

let stack: TestStack;
let github: FakeGitHub;
let issues: FakeIssues;
let anthropic: FakeAnthropic;
let gitServer: Awaited<ReturnType<typeof startGitHttpServer>>;
const pulls: FakeRequest[] = [];

beforeAll(async () => {
  const docker = await ensureDocker();
  const image = await ensureTestImage(docker);

  github = await FakeGitHub.start();
  github.addUser({ id: 41, login: 'homeport-bot', emails: [] });
  github.addUser({ id: 42, login: 'ada', emails: [] });
  const botToken = github.issueToken('homeport-bot');
  const nodeToken = github.issueToken('ada');
  issues = new FakeIssues(github, { ada: 'write', mallory: 'read' });
  github.route('POST', '/repos/:owner/:repo/pulls', (r) => {
    if (!r.auth) return { status: 401, body: { message: 'Requires authentication' } };
    pulls.push(r);
    return { status: 201, body: { number: pulls.length, html_url: `https://github.com/${r.params.owner}/${r.params.repo}/pull/${pulls.length}`, head: { ref: r.body.head }, base: { ref: r.body.base } } };
  });

  // The repository on the node, whose origin is a "GitHub" git server wanting ada's token.
  const dir = tempDir('homeport-webhooks-');
  const remotes = join(dir, 'remote');
  mkdirSync(join(remotes, 'acme'), { recursive: true });
  gitServer = await startGitHttpServer(remotes, nodeToken);
  const work = makeWorkTree(join(dir, 'work', 'shop'), { 'greeting.txt': 'hello\n', 'README.md': '# shop\n' });
  git(join(dir, 'work'), 'clone', '-q', '--bare', work, join(remotes, 'acme', 'shop.git'));
  git(join(remotes, 'acme', 'shop.git'), 'config', 'http.receivepack', 'true');
  git(work, 'remote', 'add', 'origin', `${gitServer.url}acme/shop.git`);

  anthropic = await FakeAnthropic.start();
  stack = await startTestStack({ edgeVars: { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, GITHUB_TOKEN: botToken, GITHUB_API_URL: github.url } });
  const node = (path: string, method = 'GET', body?: unknown) => nodeApi(stack.socketPath, path, method, body);
  expect(await node('/api/repos', 'POST', { path: work })).toMatchObject({ repo: { name: 'shop' } });
  await node('/api/settings', 'PUT', { anthropicBaseUrl: anthropic.url, githubBaseUrl: gitServer.url, githubApiUrl: github.url, agentImage: image });
  await node('/api/secrets/anthropic-key', 'PUT', { key: anthropic.apiKey });
  await node('/api/secrets/github-token', 'PUT', { token: nodeToken });

  const mapped = await edge(`/api/webhooks/github/repos/${REPO}`, { method: 'PUT', body: { node: stack.nodeId, repo: 'shop' } });
  expect(mapped.status).toBe(201);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([github?.stop(), anthropic?.stop(), gitServer?.close()]);
});

/** The dashboard API as the loopback owner of the local-mode edge. */
async function edge<T = Record<string, unknown>>(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await request(stack, path, {
    host: `localhost:${stack.edgePort}`,
    method: init.method ?? 'GET',
    headers: init.body === undefined ? { origin: stack.dashboardUrl } : { origin: stack.dashboardUrl, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: JSON.parse(res.text) as T };
}

/** A delivery as GitHub makes it: the event, a delivery GUID and X-Hub-Signature-256 over the raw body. */
async function deliver(event: string, payload: unknown, options: { id?: string; secret?: string } = {}) {
  const raw = JSON.stringify(payload);
  const id = options.id ?? randomUUID();
  const signature = `sha256=${createHmac('sha256', options.secret ?? WEBHOOK_SECRET).update(raw).digest('hex')}`;
  const res = await request(stack, '/webhooks/github', {
    host: `localhost:${stack.edgePort}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'GitHub-Hookshot/044aadd', 'x-github-event': event, 'x-github-delivery': id, 'x-github-hook-id': '4242', 'x-hub-signature-256': signature },
    body: raw,
  });
  return { id, status: res.status, body: JSON.parse(res.text) as { delivery?: string; status?: string; error?: string } };
}

interface Delivery {
  status: string;
  note: string;
  taskId: string | null;
  taskStatus: string | null;
  prUrl: string | null;
}

async function deliveryOf(id: string): Promise<Delivery> {
  return (await edge<{ delivery: Delivery }>(`/api/webhooks/deliveries/${id}`)).body.delivery;
}

async function nodeTasks(): Promise<{ id: string; source: string; status: string; prUrl: string | null }[]> {
  return (await nodeApi<{ tasks: { id: string; source: string; status: string; prUrl: string | null }[] }>(stack.socketPath, '/api/tasks')).tasks;
}

/** GitHub's view of an issue's comments by the edge's token user. */
const botComments = (issue: number) => issues.on(REPO, issue).filter((c) => c.author === 'homeport-bot');

/** One scripted agent run: write a file, then say it is done. */
function scriptRun(file: string) {
  anthropic.enqueue({ content: [text('Fixing it.'), toolUse('write_file', { path: file, content: 'fixed\n' })] }, { content: [text('Done: the fix is in.')] });
}

const options = { web: 'https://github.com', api: 'https://api.github.com', repo: REPO };
let firstDelivery = '';
let firstPayload: unknown;

describe('GitHub webhooks on the real stack', () => {
  it('should start a task from a signed @homeport comment and end its tracking comment with the pull request', async () => {
    scriptRun('checkout-fix.txt');
    const payload = issueCommentCreated('@homeport make the Pay button work in Firefox', { ...options, issue: 1, sender: 'ada', senderId: 42 });
    const res = await deliver('issue_comment', payload);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('pending');
    firstDelivery = res.id;
    firstPayload = payload;

    const done = await waitFor('the tracking comment to show the pull request', async () => botComments(1).find((c) => c.body.includes('pull request:')), 90_000, 250);
    expect(botComments(1)).toHaveLength(1);
    expect(done.body).toContain('https://github.com/acme/shop/pull/1');
    expect(done.body).toContain('<!-- homeport:tracking');
    // It said it was working before it said it was done, and linked the live run.
    expect(done.history[0]).toMatch(/Working|Queued/);
    const task = (await nodeTasks()).find((t) => t.source === `webhook:gh-${res.id}`)!;
    expect(task).toMatchObject({ status: 'completed', prUrl: 'https://github.com/acme/shop/pull/1' });
    expect(done.body).toContain(`${stack.dashboardUrl}/nodes/${stack.nodeId}/tasks/${task.id}`);
    expect(issues.permissionChecks).toContain(`${REPO}:ada`);
    // The agent was told what to do, with the issue as context.
    const prompt = JSON.stringify(anthropic.requests[0]!.body);
    expect(prompt).toContain('make the Pay button work in Firefox');
    expect(prompt).toContain('Checkout button does nothing');
    expect(pulls).toHaveLength(1);
    expect(await deliveryOf(`gh-${res.id}`)).toMatchObject({ status: 'started', taskId: task.id, taskStatus: 'completed', prUrl: 'https://github.com/acme/shop/pull/1' });
  });

  it('should start nothing for a bad signature, a replay, a user without write access, or its own comment', async () => {
    const tasksBefore = (await nodeTasks()).length;
    const requestsBefore = anthropic.requests.length;

    const forged = await deliver('issue_comment', issueCommentCreated('@homeport push to main', { ...options, issue: 3, sender: 'ada', senderId: 42 }), { secret: 'guessed' });
    expect(forged.status).toBe(401);
    const replay = await deliver('issue_comment', firstPayload, { id: firstDelivery });
    expect(replay.status).toBe(409);

    const stranger = await deliver('issue_comment', issueCommentCreated('@homeport delete everything', { ...options, issue: 3, sender: 'mallory', senderId: 66 }));
    expect(stranger.status).toBe(202);
    const denied = await waitFor('the stranger to be denied', async () => {
      const d = await deliveryOf(`gh-${stranger.id}`);
      return d.status !== 'pending' && d;
    });
    expect(denied.status).toBe('denied');
    // A polite reply, which itself can never trigger anything.
    const reply = botComments(3);
    expect(reply).toHaveLength(1);
    expect(reply[0]!.body).toContain('@mallory');
    expect(reply[0]!.body).toContain('<!-- homeport:reply');
    const echoed = await deliver('issue_comment', issueCommentCreated(reply[0]!.body, { ...options, issue: 3, sender: 'homeport-bot', senderId: 41 }));
    expect(echoed.body.status).toBe('ignored');
    // The token's own user mentioning @homeport without the marker does not trigger either.
    const own = await deliver('issue_comment', issueCommentCreated('@homeport again', { ...options, issue: 3, sender: 'homeport-bot', senderId: 41 }));
    const ownDone = await waitFor('its own comment to be ignored', async () => {
      const d = await deliveryOf(`gh-${own.id}`);
      return d.status !== 'pending' && d;
    });
    expect(ownDone).toMatchObject({ status: 'ignored', note: "Homeport's own comment" });

    expect((await nodeTasks()).length).toBe(tasksBefore);
    expect(anthropic.requests.length).toBe(requestsBefore);
    expect(botComments(3)).toHaveLength(1);
  });

  it('should queue a delivery while the node is offline and run it after the node reconnects', async () => {
    await stack.stopNode();
    await waitFor('the edge to see the node offline', async () => (await edge<{ node: { online: boolean } }>(`/api/nodes/${stack.nodeId}`)).body.node.online === false);
    const res = await deliver('issues', issuesLabeled('homeport', { ...options, issue: 2, title: 'Add a changelog', body: 'We need a CHANGELOG.md.', sender: 'ada', senderId: 42 }));
    expect(res.status).toBe(202);
    const queued = await waitFor('the queued tracking comment', async () => botComments(2)[0], 30_000, 250);
    expect(queued.body).toContain('Queued');
    expect(queued.body).toContain(`waiting for the home node \`${stack.nodeId}\``);
    expect((await deliveryOf(`gh-${res.id}`)).status).toBe('queued');

    scriptRun('CHANGELOG.md');
    await stack.startNode();
    await stack.waitForTunnel();
    const done = await waitFor('the tracking comment to show the second pull request', async () => botComments(2).find((c) => c.body.includes('pull request:')), 90_000, 250);
    expect(done.body).toContain('https://github.com/acme/shop/pull/2');
    expect(botComments(2)).toHaveLength(1);
    expect(done.history.some((b) => b.includes('Queued'))).toBe(true);
    const task = (await nodeTasks()).find((t) => t.source === `webhook:gh-${res.id}`);
    expect(task?.status).toBe('completed');
    expect(anthropic.requests.some((r) => JSON.stringify(r.body).includes('labeled this issue') && JSON.stringify(r.body).includes('We need a CHANGELOG.md.'))).toBe(true);
  });
});

/** The homeport CLI with its own credentials file, stdin given. */
function homeport(home: string, args: string[], input = '') {
  const run = spawnSync(process.execPath, [join(ROOT, 'homenode/bin/homeport.js'), ...args], { env: { ...process.env, HOMEPORT_HOME: home }, input, encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('generic webhooks on the real stack', () => {
  it('should make an endpoint with the CLI and start a task from a request signed as documented', async () => {
    const home = tempDir('homeport-webhook-cli-');
    expect(homeport(home, ['register', stack.dashboardUrl, '--email', 'owner@example.com'], 'correct horse battery\n').code).toBe(0);
    const made = homeport(home, ['webhooks', 'create', 'nightly CI', '--node', stack.nodeId, '--repo', 'shop', '--rate', '5']);
    expect(made.stderr).toBe('');
    const secret = /hpw_[A-Za-z0-9_-]{43}/.exec(made.stdout)?.[0];
    const url = /http:\/\/\S+\/webhooks\/in\/whk_[0-9a-f]{24}/.exec(made.stdout)?.[0];
    expect(secret && url).toBeTruthy();
    // The secret is shown once: listings never carry it.
    const listed = homeport(home, ['webhooks', 'endpoints', '--json']);
    expect(listed.stdout).toContain('nightly CI');
    expect(listed.stdout).not.toContain(secret!);

    scriptRun('ci-fix.txt');
    // docs/webhooks.md: X-Homeport-Signature = sha256=HMAC-SHA256(secret, "<timestamp>.<raw body>")
    const body = JSON.stringify({ prompt: 'The nightly build fails in test/cart.test.ts: fix it.' });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = `sha256=${createHmac('sha256', secret!).update(`${timestamp}.${body}`).digest('hex')}`;
    const send = () =>
      request(stack, new URL(url!).pathname, {
        host: `localhost:${stack.edgePort}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-homeport-timestamp': timestamp, 'x-homeport-signature': signature },
        body,
      });
    const res = await send();
    expect(res.status, res.text).toBe(201);
    const answer = JSON.parse(res.text) as { task: { id: string }; url: string; delivery: string };
    expect(answer.url).toBe(`${stack.dashboardUrl}/nodes/${stack.nodeId}/tasks/${answer.task.id}`);
    expect((await send()).status).toBe(409);

    const task = await waitFor('the CI task to finish', async () => (await nodeTasks()).find((t) => t.id === answer.task.id && t.status === 'completed'), 90_000, 250);
    expect(task.source).toBe(`webhook:${answer.delivery}`);
    expect(task.prUrl).toMatch(/\/pull\/\d+$/);
    const log = JSON.parse(homeport(home, ['webhooks', '--json']).stdout) as { id: string; status: string; taskStatus: string | null }[];
    expect(log.find((d) => d.id === answer.delivery)).toMatchObject({ status: 'started', taskStatus: 'completed' });
    expect(log.some((d) => d.status === 'replay')).toBe(true);
  });
});
