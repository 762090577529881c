/**
 * @module
 * The LAN door's per-port doors: while the door is open to the LAN, dev port P is also
 * served on its own port (lan-urls.ts `doorPortOf`), so a phone gets one origin per dev
 * server with no DNS. Only ports the scanner sees get a door; it closes when they go.
 * Every door hands its connections to the one LAN door server, which tells them apart
 * by the local port.
 */
import net from 'node:net';
import type { NodeConfig } from './config.ts';
import { doorPortOf } from './lan-urls.ts';

export class LanDoorPorts {
  /** door port → the dev port it serves and its listener */
  readonly #open = new Map<number, { dev: number; server: net.Server }>();
  #closed = false;

  constructor(
    readonly config: Pick<NodeConfig, 'lanHost' | 'lanPort' | 'lanOpen' | 'lanPortOffset'>,
    readonly handoff: (socket: net.Socket) => void,
    readonly log: (message: string) => void = () => {},
  ) {}

  /** The dev port a connection accepted on `localPort` is for, or null (the main door). */
  devPortOf(localPort: number | undefined): number | null {
    return localPort === undefined ? null : (this.#open.get(localPort)?.dev ?? null);
  }

  doorPorts(): number[] {
    return [...this.#open.keys()];
  }

  /** Opens a door for each of `devPorts` that has none and closes the doors of ports gone. */
  async sync(devPorts: number[]): Promise<void> {
    if (this.#closed) return;
    const wanted = new Map<number, number>();
    for (const dev of devPorts) {
      const door = doorPortOf(this.config, dev);
      if (door) wanted.set(door, dev);
    }
    for (const [door, { server }] of this.#open) if (!wanted.has(door)) this.#close(door, server);
    await Promise.all([...wanted].filter(([door]) => !this.#open.has(door)).map(([door, dev]) => this.#listen(door, dev)));
  }

  #listen(door: number, dev: number): Promise<void> {
    const server = net.createServer((socket) => this.handoff(socket));
    this.#open.set(door, { dev, server });
    return new Promise((resolve) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        // Taken by something else: no door for this port until the next change of ports.
        this.#open.delete(door);
        this.log(`LAN door port ${door} for dev port ${dev} could not open: ${error.code ?? error.message}`);
        resolve();
      });
      server.listen(door, this.config.lanHost, () => resolve());
    });
  }

  #close(door: number, server: net.Server) {
    this.#open.delete(door);
    server.close();
  }

  close() {
    this.#closed = true;
    for (const [door, { server }] of this.#open) this.#close(door, server);
  }
}
