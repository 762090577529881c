/**
 * @module
 * Homeport's own listeners: the LAN door and its per-port doors, the node API, a local
 * edge, code-server, MCP servers and anything else homeportd itself listens on. They are
 * never proxied (a share of the LAN door would open every private port; a share of the
 * local edge would hand out its API) and never listed as dev servers, whatever
 * HOMEPORT_IGNORE_PORTS says.
 */
import { readFileSync } from 'node:fs';
import type { NodeConfig } from './config.ts';
import { isOwnHostname } from './lan-hosts.ts';

export interface OwnPortSources {
  /** the LAN door's per-port door ports open right now */
  doorPorts?: () => Iterable<number>;
  /** code-server's port while homeportd runs it */
  codePort?: () => number | null;
  /** process ids of the MCP servers homeportd runs (their process groups count too) */
  mcpPids?: () => number[];
}

/** The process group of `pid` (MCP servers run in their own group, with children). */
function processGroupOf(pid: number): number | null {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces, so split after ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}

/** The port of the edge homeportd connects to when that edge runs on this machine. */
export function localEdgePort(config: Pick<NodeConfig, 'edgeUrl' | 'lanHost'>): number | null {
  if (!config.edgeUrl) return null;
  let url: URL;
  try {
    url = new URL(config.edgeUrl);
  } catch {
    return null;
  }
  if (!isOwnHostname(url.hostname, config.lanHost)) return null;
  return url.port ? Number(url.port) : url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80;
}

export class OwnPorts {
  constructor(
    readonly config: Pick<NodeConfig, 'lanPort' | 'apiPort' | 'edgeUrl' | 'lanHost'>,
    readonly sources: OwnPortSources = {},
    readonly selfPid = process.pid,
  ) {}

  /** What Homeport listener `port` is (e.g. "the LAN door"), or null for anything else. */
  which(port: number, pid: number | null = null): string | null {
    if (port === this.config.lanPort) return 'the LAN door';
    if (port === this.config.apiPort) return "the node API's port";
    if (port === localEdgePort(this.config)) return "the local edge's port";
    if ([...(this.sources.doorPorts?.() ?? [])].includes(port)) return 'a LAN door port';
    if (port === this.sources.codePort?.()) return "code-server's port";
    if (pid === null) return null;
    if (pid === this.selfPid) return 'a port homeportd listens on';
    const mcp = this.sources.mcpPids?.() ?? [];
    if (mcp.length && (mcp.includes(pid) || mcp.includes(processGroupOf(pid) ?? -1))) return 'an MCP server homeportd runs';
    return null;
  }
}
