/**
 * End to end: browser VS Code through the edge, owner only, WebSockets included, with a
 * STAND-IN for code-server (test/fixtures/code-server-stand-in.mjs, configured as
 * homeportd's `code-server` binary): code-server itself cannot be installed on this
 * machine (homenode/src/code/real-code-server.test.ts runs it wherever it is).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { lanAuth } from './helpers/lan.ts';
import { ROOT, makeRepo, nodeApi, request, startTestStack, waitFor, type TestStack } from './helpers/stack.ts';

let stack: TestStack;
const STRANGER = { 'x-test-client-ip': '203.0.113.9' };

beforeAll(async () => {
  stack = await startTestStack({ nodeEnv: { HOMEPORT_CODE_SERVER: join(ROOT, 'test/fixtures/code-server-stand-in.mjs') } });
});

afterAll(async () => {
  await stack?.stop();
});

const dashboardHost = () => `localhost:${stack.edgePort}`;

function standInInfo(html: string) {
  return JSON.parse(/<script id="info" type="application\/json">(.*)<\/script>/.exec(html)![1]);
}

/** Opens a WebSocket to the edge; resolves with the socket, or the refusal's status. */
function connect(path: string, headers: Record<string, string> = {}) {
  const socket = new WebSocket(`ws://127.0.0.1:${stack.edgePort}${path}`, { headers: { host: dashboardHost(), ...headers } });
  const messages: string[] = [];
  socket.on('message', (d) => messages.push(d.toString()));
  const outcome = new Promise<number>((resolve, reject) => {
    socket.once('open', () => resolve(101));
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
    socket.once('error', reject);
  });
  return { socket, messages, outcome };
}

describe('browser VS Code through the edge (stand-in for code-server)', () => {
  it('should open a repo for the owner only, WebSockets included', async () => {
    const repo = makeRepo('vscode-demo');
    await nodeApi(stack.socketPath, '/api/repos', 'POST', { path: repo });
    const opened = await nodeApi<{ url: string; lanUrl: string; folder: string }>(stack.socketPath, '/api/vscode/open', 'POST', { repo: 'vscode-demo' });
    const base = `/api/nodes/${stack.nodeId}/api/code/`;
    expect(opened.url).toBe(`${stack.dashboardUrl}${base}?folder=${encodeURIComponent(repo)}`);

    // the owner (by its key; nobody by address) gets the stand-in's page, the folder in its query
    const path = new URL(opened.url).pathname + new URL(opened.url).search;
    const page = await request(stack, path, { host: dashboardHost(), headers: stack.ownerHeaders });
    expect(page.status).toBe(200);
    expect(standInInfo(page.text)).toMatchObject({ standIn: true, folder: repo, path: `/?folder=${encodeURIComponent(repo)}` });

    // anyone else is turned away by the edge before the node sees anything
    const stranger = await request(stack, path, { host: dashboardHost(), headers: STRANGER });
    expect(stranger.status).toBe(401);
    expect(JSON.parse(stranger.text).error).toMatch(/Sign-in required/);
    expect(stranger.text).not.toContain('code-server stand-in');

    // a WebSocket: relayed through the tunnel to code-server, prefix stripped, both ways
    const owner = connect(`${base}stable-123?reconnectionToken=abc`, stack.ownerHeaders);
    expect(await owner.outcome).toBe(101);
    await waitFor('hello', async () => owner.messages.length >= 1);
    owner.socket.send('ping ✓');
    await waitFor('echo', async () => owner.messages.length >= 2);
    expect(owner.messages).toEqual(['hello /stable-123?reconnectionToken=abc', 'ping ✓']);
    owner.socket.close();

    const refused = connect(`${base}stable-123`, STRANGER);
    expect(await refused.outcome).toBe(401);
    expect(refused.messages).toEqual([]);

    // and on the LAN door, from this machine
    const lan = await fetch(opened.lanUrl.replace(/^http:\/\/[^/]+/, `http://127.0.0.1:${stack.lanPort}`), { headers: lanAuth(stack.dataDir) });
    expect(standInInfo(await lan.text())).toMatchObject({ folder: repo });
  });

  it('should never let a share reach code-server: its port is outside the share range', async () => {
    const status = await nodeApi<{ state: string; upstream: string }>(stack.socketPath, '/api/vscode/status');
    expect(status.state).toBe('running');
    const port = Number(new URL(status.upstream).port);
    const share = await request(stack, '/', { host: `${port}-${stack.nodeId}.${stack.shareHost}`, headers: stack.ownerHeaders });
    expect(share.status).toBe(403);
    expect(share.text).toContain('outside this node');
    expect(share.text).not.toContain('code-server stand-in');
  });
});
