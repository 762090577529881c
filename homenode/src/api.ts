/**
 * @module
 * The node's API: one Hono app, two doors. The local door (Unix socket for the CLI,
 * 127.0.0.1 with a token) and the tunnel door (requests the edge forwards after
 * checking the owner) call the same routes.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { createMiddleware } from 'hono/factory';
import { isValidPort } from '@homeport/shared';
import { jsonBody } from '@homeport/shared/json-body';
import { portSettingsBody } from '@homeport/shared/schemas/node-api';
import { MAX_SHARE_BODY_BYTES, shareSetBody } from '@homeport/shared/schemas/shares';
import { answerError } from './api-errors.ts';
import { agentsApi, type AgentsApiDeps } from './agents/api.ts';
import { lanHostForUrls } from './lan-urls.ts';
import type { NodeState } from './node-state.ts';
import { codeApi, type CodeApiDeps } from './code/api.ts';
import { mcpApi } from './mcp/api.ts';
import type { McpHub } from './mcp/hub.ts';
import { reposApi, type ReposApiDeps } from './repos/api.ts';
import { gitInvocation } from './repos/git.ts';
import { CommandMemory, commandOnce } from './sync/command-ids.ts';
import { repoWorkApi } from './repo-work-api.ts';
import { servicesApi, type ServicesApiDeps } from './services/api.ts';
import { systemApi } from './system/api.ts';
import type { SystemStats } from './system/stats.ts';
import { RpcError, type TunnelClient } from './tunnel/client.ts';

export type Door = 'socket' | 'tcp' | 'tunnel';
export interface ApiEnv {
  Bindings: { door: Door; authorization?: string };
}

export const VERSION = '0.1.0';

export interface ApiDeps {
  state: NodeState;
  tunnel: () => TunnelClient | null;
  /** re-reads the edge URL and node token (after `homeport pair`) and reconnects */
  reloadTunnel?: () => void;
  /** how far the edge's mirror has come (outbox rows acked, rows pending) */
  syncStatus?: () => Promise<{ ackedSeq: number; pending: number }>;
  /** answers to commands the edge queued, by id */
  commandMemory?: CommandMemory;
  /** the secret the 127.0.0.1 door requires as a bearer token */
  localToken: string;
  /** CPU, memory, disk and network samples for GET /api/system */
  system?: SystemStats;
  /** repos, dev servers, settings and secrets (the libSQL state); absent in tests of other routes */
  repos?: ReposApiDeps;
  /** agent tasks and the Anthropic key (/api/tasks/…) */
  agents?: AgentsApiDeps;
  /** the MCP hub (/api/mcp/…) */
  mcp?: McpHub;
  /** browser VS Code (/api/vscode/…, code-server itself under /api/code/) */
  code?: CodeApiDeps;
  /** services from the catalog, as Docker containers (/api/services/…) */
  services?: ServicesApiDeps;
}

/** The Unix socket and the tunnel are trusted doors; the TCP door needs the local token. */
function doorGuard(localToken: string) {
  return createMiddleware<ApiEnv>(async function doorGuard(c, next) {
    if (c.env.door === 'tcp' && c.req.header('authorization') !== `Bearer ${localToken}`)
      throw new HTTPException(401, { message: 'this door needs the local API token (.homeport/api-token)' });
    await next();
  });
}

function portParam(raw: string): number {
  const port = Number(raw);
  if (!isValidPort(port)) throw new HTTPException(400, { message: `"${raw}" is not a port` });
  return port;
}

export function createApi(deps: ApiDeps) {
  const { state } = deps;
  const app = new Hono<ApiEnv>();
  app.onError((error, c) => answerError(error, c));
  app.use('*', doorGuard(deps.localToken));
  // Queued commands from the edge run once, even when delivered again after a drop.
  if (deps.commandMemory) app.use('*', commandOnce(deps.commandMemory));

  app.get('/api/status', async (c) => {
    const tunnel = deps.tunnel();
    return c.json({
      sync: deps.syncStatus ? await deps.syncStatus() : null,
      node: { id: state.config.nodeId, version: VERSION, pid: process.pid },
      tunnel: tunnel ? tunnel.status : { state: 'disabled', edgeUrl: null },
      scan: { low: state.config.scanLow, high: state.config.scanHigh, intervalMs: state.config.scanIntervalMs, lastScanAt: state.lastScanAt, ports: state.ports.length },
      lan: { url: `http://${lanHostForUrls(state.config)}:${state.config.lanPort}/` },
      /** the subdomain form, with {port} to fill in: the URLs to give first */
      shareUrlTemplate: state.welcome?.subdomainUrlTemplate ?? null,
      /** the path form's base (opt-in per port) */
      shareBaseUrl: state.welcome?.shareBaseUrl ?? null,
      dashboardUrl: state.welcome?.dashboardUrl ?? null,
    });
  });

  app.get('/api/ports', (c) => c.json({ ports: state.ports.map((p) => state.view(p)) }));

  app.get('/api/ports/:port', (c) => {
    const port = portParam(c.req.param('port'));
    const found = state.ports.find((p) => p.port === port);
    if (!found) throw new HTTPException(404, { message: `nothing listens on port ${port}` });
    return c.json(state.view(found));
  });

  app.get('/api/ports/:port/url', (c) => {
    const port = portParam(c.req.param('port'));
    if (!state.inRange(port)) throw new HTTPException(400, { message: `port ${port} is outside the share range ${state.config.scanLow}-${state.config.scanHigh}` });
    return c.json({ port, listening: state.ports.some((p) => p.port === port), pathForm: state.settings.get(port).pathForm, ...state.urlsOf(port) });
  });

  app.patch('/api/ports/:port/settings', jsonBody(portSettingsBody), async (c) => {
    const port = portParam(c.req.param('port'));
    return c.json({ port, ...state.settings.set(port, c.req.valid('json')) });
  });

  // Shares live at the edge (the node's hub); these routes ask it through the tunnel.
  const edge = async <T>(method: Parameters<TunnelClient['rpc']>[0], params: Record<string, unknown>): Promise<T> => {
    const tunnel = deps.tunnel();
    if (!tunnel) throw new HTTPException(409, { message: 'this node has no edge configured, so it cannot share ports' });
    try {
      return await tunnel.rpc<T>(method, params);
    } catch (error) {
      if (error instanceof RpcError) throw new HTTPException(error.status as 400, { message: error.message });
      throw error;
    }
  };

  app.get('/api/shares', async (c) => c.json(await edge('share.list', {})));

  app.put('/api/shares/:port', jsonBody(shareSetBody, { maxBytes: MAX_SHARE_BODY_BYTES }), async (c) => {
    const port = portParam(c.req.param('port'));
    const own = state.ownPortOf(port);
    if (own) throw new HTTPException(400, { message: `port ${port} is ${own}, one of Homeport's own listeners: it is never shared` });
    return c.json(await edge('share.set', { ...c.req.valid('json'), port }));
  });

  app.delete('/api/shares/:port', async (c) => c.json(await edge('share.remove', { port: portParam(c.req.param('port')) })));

  app.get('/api/shares/:port/log', async (c) =>
    c.json(await edge('share.log', { port: portParam(c.req.param('port')), before: c.req.query('before') ?? null, limit: c.req.query('limit') ?? null })),
  );

  app.route('/', systemApi(() => deps.system ?? null));
  if (deps.repos) {
    app.route('/', reposApi(deps.repos));
    const { repos } = deps.repos;
    // Files and git inside registered repos; the GitHub token reaches fetch/pull/push only.
    app.route(
      '/',
      repoWorkApi(async (ref) => {
        const repo = await repos.find(ref).catch(() => null);
        if (!repo) return null;
        const auth = await repos.gitAuth();
        const gitEnv = auth ? Object.fromEntries(Object.entries(gitInvocation([], auth, {}).env).filter(([k]) => /^GIT_CONFIG_(COUNT|KEY_0|VALUE_0)$/.test(k))) : undefined;
        return { root: repo.path, gitEnv: gitEnv as Record<string, string> | undefined };
      }),
    );
  }

  if (deps.mcp) app.route('/', mcpApi(deps.mcp));
  if (deps.code) app.route('/', codeApi(deps.code));
  if (deps.services) app.route('/', servicesApi(deps.services));

  if (deps.agents) app.route('/', agentsApi(deps.agents));

  app.post('/api/tunnel/reconnect', (c) => {
    const tunnel = deps.tunnel();
    if (!tunnel) throw new HTTPException(409, { message: 'this node has no edge configured' });
    tunnel.drop();
    return c.json({ ok: true });
  });

  // Only the machine's own doors: the edge has no business re-pairing the node.
  app.post('/api/tunnel/reload', (c) => {
    if (c.env.door === 'tunnel') throw new HTTPException(403, { message: 'not through the tunnel' });
    if (!deps.reloadTunnel) throw new HTTPException(409, { message: 'this homeportd cannot reload its tunnel' });
    deps.reloadTunnel();
    const tunnel = deps.tunnel();
    return c.json({ tunnel: tunnel ? tunnel.status : { state: 'disabled', edgeUrl: null } });
  });

  app.all('*', (c) => c.json({ error: 'no such route' }, 404));
  return app;
}
