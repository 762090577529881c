/**
 * @module
 * One node's live connection: a WebSocket to the edge's `/api/nodes/:node/live` that
 * subscribes to the topics the app shows and, after a drop, resumes with `since` (the
 * last sequence number seen; events with seq 0 are live-only and do not count). It
 * reconnects with jittered, doubling backoff. While the socket is not open the app still
 * updates: `onResync` is called every `pollMs`, and once after every connect (and after
 * the hub's `reset`, when the events since `since` are gone). An edge without the route
 * (its plain GET answers 404) is retried only every `probeEveryMs`; until then polling is
 * the way.
 *
 * Protocol (edge/src/sync/hub-sync.ts): → `{type:'subscribe', topics, since?}`;
 * ← EventEnvelope | `{type:'reset', seq}` | `{type:'error', message}`.
 *
 * No framework here: the app wraps the status in a signal (state.ts), and the tests
 * drive this module with Node's `ws` against a real server.
 */
import type { EventEnvelope } from '@homeport/shared/control';

export type LiveStatus = 'connecting' | 'live' | 'polling' | 'offline';

export interface LiveHandlers {
  onEvent(event: EventEnvelope): void;
  /** Refetch what the screens show; a rejection means the edge is unreachable. */
  onResync(): Promise<unknown>;
  onStatus(status: LiveStatus): void;
}

type SocketLike = Pick<WebSocket, 'send' | 'close' | 'readyState'> & {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
};

export interface LiveOptions {
  /** ws:// or wss:// URL of the node's live route */
  url: string;
  /** the same route over plain HTTP: 404 there means the edge has no live endpoint */
  probeUrl: string;
  topics: string[];
  pollMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  probeEveryMs?: number;
  /** for tests outside a browser */
  WebSocket?: new (url: string) => SocketLike;
  fetch?: (url: string) => Promise<{ status: number }>;
}

const OPEN = 1;

export class LiveConnection {
  readonly #options: Required<Omit<LiveOptions, 'WebSocket' | 'fetch'>>;
  readonly #handlers: LiveHandlers;
  readonly #WebSocket: new (url: string) => SocketLike;
  readonly #fetch: (url: string) => Promise<{ status: number }>;
  #since = 0;
  #socket: SocketLike | null = null;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #status: LiveStatus | null = null;
  #missing = false;
  #closed = false;

  constructor(options: LiveOptions, handlers: LiveHandlers) {
    this.#options = { pollMs: 2000, backoffMinMs: 250, backoffMaxMs: 10_000, probeEveryMs: 30_000, ...options };
    this.#handlers = handlers;
    this.#WebSocket = options.WebSocket ?? (globalThis.WebSocket as unknown as new (url: string) => SocketLike);
    this.#fetch = options.fetch ?? ((url) => fetch(url, { headers: { accept: 'application/json' } }));
  }

  get status(): LiveStatus | null {
    return this.#status;
  }

  /** The last resumable sequence number seen (what a resume sends). */
  get since(): number {
    return this.#since;
  }

  start(): void {
    this.#startPolling();
    this.#connect();
  }

  /** Try again now (e.g. the browser came back online), skipping the backoff. */
  kick(): void {
    if (this.#closed || this.#socket) return;
    clearTimeout(this.#retryTimer);
    this.#attempt = 0;
    this.#connect();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pollTimer);
    const socket = this.#socket;
    this.#socket = null;
    socket?.close();
  }

  #setStatus(status: LiveStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#handlers.onStatus(status);
  }

  #connect(): void {
    if (this.#closed) return;
    if (!this.#missing) this.#setStatus('connecting');
    let opened = false;
    let socket: SocketLike;
    try {
      socket = new this.#WebSocket(this.#options.url);
    } catch {
      void this.#retry(false);
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      opened = true;
      this.#attempt = 0;
      this.#missing = false;
      this.#stopPolling();
      this.#setStatus('live');
      socket.send(JSON.stringify({ type: 'subscribe', topics: this.#options.topics, ...(this.#since ? { since: this.#since } : {}) }));
      // Live-only changes (seq 0) made while we were away come with one full refetch.
      void this.#resync();
    };
    socket.onmessage = (ev) => this.#receive(ev.data);
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      void this.#retry(opened);
    };
  }

  async #retry(wasOpen: boolean): Promise<void> {
    if (this.#closed) return;
    this.#startPolling();
    if (!wasOpen && !this.#missing) {
      // A socket that never opened: is the route missing, or the edge unreachable?
      try {
        const res = await this.#fetch(this.#options.probeUrl);
        if (res.status === 404) this.#missing = true;
      } catch {
        this.#setStatus('offline');
      }
      if (this.#closed) return;
    }
    if (this.#missing) this.#setStatus('polling');
    else if (this.#status === 'live') this.#setStatus('connecting');
    const base = Math.min(this.#options.backoffMaxMs, this.#options.backoffMinMs * 2 ** this.#attempt++);
    const delay = this.#missing ? this.#options.probeEveryMs : base / 2 + Math.random() * (base / 2);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!message || typeof message !== 'object') return;
    if (message.v === 1 && typeof message.topic === 'string' && typeof message.nodeId === 'string') {
      const event = message as unknown as EventEnvelope;
      if (typeof event.seq === 'number' && event.seq > this.#since) this.#since = event.seq;
      this.#handlers.onEvent(event);
    } else if (message.type === 'reset' && typeof message.seq === 'number') {
      // The events we missed are gone: start from the hub's present and refetch.
      this.#since = message.seq;
      void this.#resync();
    }
  }

  async #resync(): Promise<void> {
    try {
      await this.#handlers.onResync();
      if (this.#status === 'offline') this.#setStatus(this.#missing ? 'polling' : 'connecting');
    } catch {
      if (this.#socket?.readyState !== OPEN) this.#setStatus('offline');
    }
  }

  #startPolling(): void {
    if (this.#pollTimer !== undefined || this.#closed) return;
    this.#pollTimer = setInterval(() => void this.#resync(), this.#options.pollMs);
  }

  #stopPolling(): void {
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
  }
}
