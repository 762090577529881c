/**
 * @module
 * homeportd: scans ports, serves the node API (Unix socket + 127.0.0.1), the LAN door,
 * and keeps the tunnel to the edge. Stops cleanly on SIGINT/SIGTERM.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { TaskManager } from './agents/tasks.ts';
import { createApi, VERSION } from './api.ts';
import { loadConfig, type NodeConfig } from './config.ts';
import { openStore, type Store } from './db/index.ts';
import { dockerClient } from './docker/engine.ts';
import { CodeServer } from './code/code-server.ts';
import { apiWebSocketTarget, lanCodeProxy } from './code/proxy.ts';
import { createLanServer } from './lan.ts';
import { LanDoorPorts } from './lan-door-ports.ts';
import { lanHostForUrls, lanKeyOf } from './lan-urls.ts';
import { McpHub } from './mcp/hub.ts';
import { McpRegistry } from './mcp/registry.ts';
import { NodeSettings } from './node-settings.ts';
import { NodeState } from './node-state.ts';
import { OwnPorts } from './own-ports.ts';
import { PortSettingsStore } from './port-settings.ts';
import { RepoServers } from './repos/servers.ts';
import { RepoService } from './repos/service.ts';
import { PortScanner } from './scanner.ts';
import { secretFile } from './secrets.ts';
import { Supervisor } from './servers/supervisor.ts';
import { SystemStats } from './system/stats.ts';
import { CommandMemory } from './sync/command-ids.ts';
import { OutboxSender } from './sync/outbox-sender.ts';
import { TunnelClient } from './tunnel/client.ts';
import { NodeStreams } from './tunnel/streams.ts';
import { loadCatalog } from './services/catalog-file.ts';
import { ServiceManager } from './services/manager.ts';
import { SecretStore, Vault } from './vault.ts';

/** Where a browser opens code-server: through the edge (owner only) and on the LAN door. */
function codeUrls(config: NodeConfig, state: NodeState) {
  return {
    edge: state.welcome ? `${state.welcome.dashboardUrl}/api/nodes/${config.nodeId}/api/code/` : null,
    lan: `http://${lanHostForUrls(config)}:${config.lanPort}/code/`,
  };
}

export function log(message: string) {
  process.stdout.write(`${new Date().toISOString()} homeportd ${message}\n`);
}

export interface RunningDaemon {
  config: NodeConfig;
  state: NodeState;
  tunnel: TunnelClient | null;
  /** the libSQL state (its outbox feeds the edge's mirror) */
  store: Store;
  repos: RepoService;
  servers: RepoServers;
  /** agent tasks */
  tasks: TaskManager;
  stop(): Promise<void>;
}

/** The durable state: a database from a newer homeportd or an unsafe vault key stops the start here. */
async function openState(config: NodeConfig) {
  const store = await openStore(config.dataDir);
  try {
    const settings = new NodeSettings(store);
    const secrets = new SecretStore(store, Vault.fromDataDir(config.dataDir));
    const repos = new RepoService({ store, secrets, settings, reposDir: config.reposDir, log });
    await repos.init();
    return { store, settings, secrets, repos };
  } catch (error) {
    store.close();
    throw error;
  }
}

function listen(server: Server, ...args: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    (server.listen as (...a: unknown[]) => void)(...args, () => resolve());
  });
}

export async function startDaemon(config: NodeConfig = loadConfig(), configEnv: NodeJS.ProcessEnv = process.env): Promise<RunningDaemon> {
  const { store, settings, secrets, repos } = await openState(config);
  // MCP servers (their tools go to agent tasks) and browser VS Code.
  const mcp = new McpHub({ registry: new McpRegistry(store, secrets), clientVersion: VERSION, log });
  const code = new CodeServer({ dataDir: config.dataDir, env: configEnv, settings, scanRange: { low: config.scanLow, high: config.scanHigh }, cwd: config.reposDir, log });
  await code.init();
  // The LAN door's per-port doors hand their connections to the door (set up below).
  const doorPorts = new LanDoorPorts(config, (socket) => lan.emit('connection', socket), log);
  // Homeport's own listeners (homeportd's, the local edge, code-server, MCP servers) are not dev servers.
  const own = new OwnPorts(config, { doorPorts: () => doorPorts.doorPorts(), codePort: () => code.target()?.port ?? null, mcpPids: () => mcp.pids() });
  const state = new NodeState(config, new PortSettingsStore(config.dataDir), own);
  const scanner = new PortScanner({ low: config.scanLow, high: config.scanHigh, ignorePorts: config.ignorePorts });
  state.setPorts(repos.tagPorts(await scanner.scan()));
  repos.on('change', () => state.setPorts(repos.tagPorts(state.scanned)));
  const supervisor = new Supervisor({ logDir: join(config.dataDir, 'servers') });
  const servers = new RepoServers({ repos, supervisor, settings, ports: () => state.ports, log });
  state.on('used', (port: number) => servers.touchPort(port));

  // Agent tasks: runs a crash cut short are marked interrupted before the API answers.
  const tasks = new TaskManager({ store, repos, settings, secrets, dataDir: config.dataDir, docker: dockerClient(), tools: () => mcp.agentTools(), log });
  await tasks.recover();
  void tasks.removeOrphans().catch((error) => log(`removing orphan sandboxes failed: ${error.message}`));
  // Services from the catalog run as Docker containers; they keep running while homeportd is down.
  const services = new ServiceManager({ owner: config.dataDir, store, secrets, docker: dockerClient(), catalog: loadCatalog(configEnv, log), log });

  const system = new SystemStats({ dataDir: config.dataDir });
  system.start();
  let tunnel: TunnelClient | null = null;
  const api = createApi({ state, tunnel: () => tunnel, reloadTunnel: () => reloadTunnel(), commandMemory: new CommandMemory(config.dataDir), syncStatus: () => outbox.status(), localToken: secretFile(config.dataDir, 'api-token'), system, repos: { repos, settings, secrets, servers, log }, mcp, code: { code, repo: (ref) => repos.find(ref).catch(() => null), baseUrls: () => codeUrls(config, state), log }, agents: { tasks, secrets, log }, services: { services, log } });
  const streams = new NodeStreams({
    send: (frame) => tunnel?.send(frame),
    resolvePort: (port) => state.resolvePort(port),
    keepPrefix: (port) => state.settings.get(port).keepPrefix,
    pathFormRefusal: (port) => state.pathFormRefusal(port),
    api: (request) => Promise.resolve(api.fetch(request, { door: 'tunnel' })),
    apiWebSocket: (url) => apiWebSocketTarget(code, url),
  });
  // The outbox goes to the edge's mirror whenever the tunnel is up, resuming where the edge left off.
  const outbox = new OutboxSender(store, { send: (message) => tunnel?.sendControl(message) ?? false }, log);
  /** (Re)connects with the edge URL and token in `config`; `homeport pair` asks for it after writing new ones. */
  const connectTunnel = () => {
    tunnel?.stop();
    tunnel = null;
    if (!config.edgeUrl || !config.nodeToken) {
      log('no edge configured (pair this node with `homeport pair <edge url> <code>`): serving the LAN door only');
      return;
    }
    const client = new TunnelClient({
      edgeUrl: config.edgeUrl,
      nodeId: config.nodeId,
      token: config.nodeToken,
      agent: `homeportd/${VERSION}`,
      ports: () => state.ports,
      streams,
      pingIntervalMs: config.pingIntervalMs,
      backoffMinMs: config.backoffMinMs,
      backoffMaxMs: config.backoffMaxMs,
      log,
    });
    client.on('state', (now: string) => {
      state.welcome = client.status.welcome;
      if (now !== 'online') outbox.onOffline();
    });
    client.on('control', (message: { t: string; ackedSeq?: unknown; seq?: unknown }) => {
      if (message.t === 'welcome') outbox.onWelcome(Number(message.ackedSeq ?? 0));
      else if (message.t === 'ack') void outbox.onAck(Number(message.seq)).catch((error) => log(`outbox ack failed: ${error.message}`));
    });
    tunnel = client;
    client.start();
  };
  state.on('ports', (ports) => tunnel?.sendControl({ t: 'ports', ports }));
  connectTunnel();
  const reloadTunnel = () => {
    const fresh = loadConfig(configEnv);
    Object.assign(config, { edgeUrl: fresh.edgeUrl, nodeId: fresh.nodeId, nodeToken: fresh.nodeToken });
    connectTunnel();
  };

  // The API's two local doors: the Unix socket (CLI) and 127.0.0.1 (token).
  rmSync(config.socketPath, { force: true });
  const socketDoor = createServer(getRequestListener((req) => api.fetch(req, { door: 'socket' })));
  await listen(socketDoor, config.socketPath);
  const tcpDoor = createServer(getRequestListener((req) => api.fetch(req, { door: 'tcp' })));
  await listen(tcpDoor, config.apiPort, config.apiHost);

  const lan = createLanServer(state, lanKeyOf(config.dataDir), lanCodeProxy(code), doorPorts);
  await listen(lan, config.lanPort, config.lanHost);
  const syncDoorPorts = () => void doorPorts.sync(state.ports.map((p) => p.port));
  state.on('ports', syncDoorPorts);
  syncDoorPorts();

  const scanTimer = setInterval(() => {
    scanner
      .scan()
      .then((ports) => state.setPorts(repos.tagPorts(ports)))
      .catch((error) => log(`scan failed: ${error.message}`));
  }, config.scanIntervalMs);

  await servers.restore();
  void mcp.restore().catch((error) => log(`restoring MCP servers failed: ${error.message}`));
  void services.restore().then(() => services.watch(), (error) => log(`restoring services failed: ${error.message}`));

  writeFileSync(join(config.dataDir, 'homeportd.json'), JSON.stringify({ pid: process.pid, apiPort: config.apiPort, lanPort: config.lanPort, socket: config.socketPath }));
  log(`node "${config.nodeId}" scanning ${config.scanLow}-${config.scanHigh} every ${config.scanIntervalMs} ms; LAN door http://<port>.localhost:${config.lanPort}/${config.lanOpen ? ` and http://${lanHostForUrls(config)}:<port + ${config.lanPortOffset}>/` : ''}`);

  return {
    config,
    state,
    get tunnel() {
      return tunnel;
    },
    store,
    repos,
    servers,
    tasks,
    async stop() {
      clearInterval(scanTimer);
      system.stop();
      tunnel?.stop();
      const close = (s: Server) =>
        new Promise<void>((r) => {
          s.closeAllConnections();
          s.close(() => r());
        });
      doorPorts.close();
      await Promise.all([close(socketDoor), close(tcpDoor), close(lan)]);
      // Running tasks end `interrupted`, their work committed.
      await tasks.close();
      // Servers stop with reason `shutdown`: their desired state stays, to be restored.
      await supervisor.stopAll();
      await Promise.all([mcp.stopAll(), code.close()]);
      services.close();
      await repos.close();
      store.close();
      rmSync(config.socketPath, { force: true });
      rmSync(join(config.dataDir, 'homeportd.json'), { force: true });
    },
  };
}
