/**
 * @module
 * What the node knows right now: the latest port scan, per-port settings and the
 * share URLs the edge gave it. The API, the tunnel and the LAN door all read it here.
 */
import { EventEmitter } from 'node:events';
import { pages, type ErrorPage, type PortInfo, type WelcomeMessage } from '@homeport/shared';
import type { NodeConfig } from './config.ts';
import type { PortSettingsStore } from './port-settings.ts';
import { lanUrlOf } from './lan-urls.ts';
import { OwnPorts } from './own-ports.ts';
import { connectHostFor, fingerprint } from './scanner.ts';

export interface PortView extends PortInfo {
  keepPrefix: boolean;
  pathForm: boolean;
  /** the URL to give first: the port's own origin (subdomain form) */
  url: string | null;
  subdomainUrl: string | null;
  /** the path form (one origin for all ports; public shares, when the port turns it on) */
  pathUrl: string | null;
  lanUrl: string;
}

export class NodeState extends EventEmitter {
  #ports: PortInfo[] = [];
  #scanned: PortInfo[] = [];
  #fingerprint = '';
  /** Homeport's own listeners seen by the last scan (port → what it is), kept out of #ports */
  #own = new Map<number, string>();
  lastScanAt: number | null = null;
  welcome: WelcomeMessage | null = null;

  constructor(
    readonly config: NodeConfig,
    readonly settings: PortSettingsStore,
    readonly own: OwnPorts = new OwnPorts(config),
  ) {
    super();
  }

  get ports(): PortInfo[] {
    return this.#ports;
  }

  /** The last scan as given, Homeport's own listeners included (to tag it again). */
  get scanned(): PortInfo[] {
    return this.#scanned;
  }

  /** Records a scan, minus Homeport's own listeners; emits 'ports' only when something changed. */
  setPorts(scanned: PortInfo[]) {
    this.lastScanAt = Date.now();
    this.#scanned = scanned;
    this.#own = new Map();
    const ports: PortInfo[] = [];
    for (const p of scanned) {
      const what = this.own.which(p.port, p.pid);
      if (what) this.#own.set(p.port, what);
      else ports.push(p);
    }
    const next = fingerprint(ports);
    this.#ports = ports;
    if (next !== this.#fingerprint) {
      this.#fingerprint = next;
      this.emit('ports', ports);
    }
  }

  inRange(port: number): boolean {
    return port >= this.config.scanLow && port <= this.config.scanHigh;
  }

  /** What Homeport listener `port` is (e.g. "the LAN door"), or null for a port that may be shared. */
  ownPortOf(port: number): string | null {
    return this.own.which(port) ?? this.#own.get(port) ?? null;
  }

  /** Where to connect for a forwarded request, or the page that says why not. Emits 'used' (idle timeouts). */
  resolvePort(port: number): { host: string } | { page: ErrorPage } {
    if (!this.inRange(port)) return { page: pages.outOfRange(port, this.config.scanLow, this.config.scanHigh) };
    const own = this.ownPortOf(port);
    if (own) return { page: pages.ownPort(port, own) };
    this.emit('used', port);
    return { host: connectHostFor(this.#ports.find((p) => p.port === port)?.address) };
  }

  urlsOf(port: number) {
    const subdomainUrl = this.welcome ? this.welcome.subdomainUrlTemplate.replace('{port}', String(port)) : null;
    return {
      url: subdomainUrl,
      subdomainUrl,
      pathUrl: this.welcome ? `${this.welcome.shareBaseUrl}/${port}/` : null,
      lanUrl: lanUrlOf(this.config, port, this.settings.get(port).pathForm),
    };
  }

  /** The page the path form answers for a port whose owner did not turn it on, or null. */
  pathFormRefusal(port: number): ErrorPage | null {
    return this.settings.get(port).pathForm ? null : pages.pathFormOff(port, this.urlsOf(port).url);
  }

  view(port: PortInfo): PortView {
    const { keepPrefix, pathForm } = this.settings.get(port.port);
    return { ...port, keepPrefix, pathForm, ...this.urlsOf(port.port) };
  }
}
