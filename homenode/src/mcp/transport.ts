/**
 * @module
 * An MCP stdio client transport that owns its server's whole process group. The SDK's
 * StdioClientTransport spawns the server in homeportd's own group and only signals the
 * direct child, so a server that starts helpers (npx → node, uvx → python…) would leave
 * them running. This one spawns the server detached (its own process group), speaks the
 * same newline-delimited JSON-RPC (the SDK's ReadBuffer and serializer), and close()
 * ends the group and any descendant that left it, SIGTERM then SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { signalTree, startTimeOf, waitTreeGone, type GroupLeader } from '../servers/proc-tree.ts';

export interface GroupTransportOptions {
  command: string;
  args: string[];
  /** the complete environment (nothing else is inherited) */
  env: Record<string, string>;
  cwd: string;
  /** SIGTERM, then SIGKILL after this long */
  stopTimeoutMs?: number;
}

/** How the server process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ProcessGroupTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** called once when the server process has exited, whoever ended it */
  onexit?: (exit: ProcessExit) => void;

  #child: ChildProcess | null = null;
  #leader: GroupLeader | null = null;
  #readBuffer = new ReadBuffer();
  #exited: Promise<ProcessExit> | null = null;
  #closed = false;
  #started: Promise<void> | null = null;

  constructor(private readonly options: GroupTransportOptions) {}

  /** the group leader's pid, once started */
  get pid(): number | null {
    return this.#leader?.pid ?? null;
  }

  get leader(): GroupLeader | null {
    return this.#leader;
  }

  /** the server's stderr (its log), once started */
  get stderr(): Readable | null {
    return this.#child?.stderr ?? null;
  }

  /** Spawns the server; calling it again (Client.connect does) returns the same start. */
  start(): Promise<void> {
    this.#started ??= this.#spawn();
    return this.#started;
  }

  #spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.command, this.options.args, {
        cwd: this.options.cwd,
        env: this.options.env,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
      });
      this.#child = child;
      child.once('error', (error) => {
        // ENOENT and EACCES arrive here instead of 'spawn'
        if (!this.#leader) reject(error);
        else this.onerror?.(error);
      });
      child.once('spawn', () => {
        this.#leader = { pid: child.pid!, startTime: startTimeOf(child.pid!) ?? -1 };
        resolve();
      });
      this.#exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
      void this.#exited.then(async (exit) => {
        // The leader is gone; helpers it left in its group would run on unattended.
        if (this.#leader) await signalTree(this.#leader, 'SIGKILL').catch(() => 0);
        this.onexit?.(exit);
        this.#finish();
      });
      child.stdin!.on('error', (error) => this.onerror?.(error));
      child.stdout!.on('error', (error) => this.onerror?.(error));
      child.stdout!.on('data', (chunk: Buffer) => {
        try {
          this.#readBuffer.append(chunk);
        } catch (error) {
          // a line longer than the buffer allows: the stream can no longer be trusted
          this.onerror?.(error as Error);
          void this.close();
          return;
        }
        for (;;) {
          let message: JSONRPCMessage | null;
          try {
            message = this.#readBuffer.readMessage();
          } catch (error) {
            // not JSON-RPC (a server printing to stdout): reported, then skipped
            this.onerror?.(error as Error);
            continue;
          }
          if (message === null) break;
          this.onmessage?.(message);
        }
      });
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.#child?.stdin;
      if (!stdin || this.#closed || stdin.destroyed) return reject(new Error('the MCP server is not running'));
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  /** Ends the server and everything it started; resolves when the whole tree is gone. */
  async close(): Promise<void> {
    const leader = this.#leader;
    const timeout = this.options.stopTimeoutMs ?? 3000;
    if (leader) {
      this.#child?.stdin?.end();
      if (await signalTree(leader, 'SIGTERM')) {
        if (!(await waitTreeGone(leader, timeout))) {
          await signalTree(leader, 'SIGKILL');
          await waitTreeGone(leader, 2000);
        }
      }
      await Promise.race([this.#exited, new Promise((r) => setTimeout(r, 500))]);
    }
    this.#finish();
  }

  #finish() {
    if (this.#closed) return;
    this.#closed = true;
    this.#readBuffer.clear();
    this.onclose?.();
  }
}
