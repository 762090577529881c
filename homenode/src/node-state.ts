/**
 * @module
 * What the node knows right now: the latest port scan, per-port settings and the
 * share URLs the edge gave it. The API, the tunnel and the LAN door all read it here.
 */
import { EventEmitter } from 'node:events';
import { pages, type ErrorPage, type PortInfo, type WelcomeMessage } from '@homeport/shared';
import type { NodeConfig } from './config.ts';
import type { PortSettingsStore } from './port-settings.ts';
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
  #fingerprint = '';
  lastScanAt: number | null = null;
  welcome: WelcomeMessage | null = null;

  constructor(
    readonly config: NodeConfig,
    readonly settings: PortSettingsStore,
  ) {
    super();
  }

  get ports(): PortInfo[] {
    return this.#ports;
  }

  /** Records a scan; emits 'ports' only when something changed. */
  setPorts(ports: PortInfo[]) {
    this.lastScanAt = Date.now();
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

  /** Where to connect for a forwarded request, or the page that says why not. Emits 'used' (idle timeouts). */
  resolvePort(port: number): { host: string } | { page: ErrorPage } {
    if (!this.inRange(port)) return { page: pages.outOfRange(port, this.config.scanLow, this.config.scanHigh) };
    this.emit('used', port);
    return { host: connectHostFor(this.#ports.find((p) => p.port === port)?.address) };
  }

  urlsOf(port: number) {
    const lanHost = this.config.lanHost === '0.0.0.0' ? '127.0.0.1' : this.config.lanHost;
    const subdomainUrl = this.welcome ? this.welcome.subdomainUrlTemplate.replace('{port}', String(port)) : null;
    return {
      url: subdomainUrl,
      subdomainUrl,
      pathUrl: this.welcome ? `${this.welcome.shareBaseUrl}/${port}/` : null,
      lanUrl: `http://${lanHost}:${this.config.lanPort}/${port}/`,
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
