/** @module Talks to the local homeportd over its Unix socket. */
import http from 'node:http';
import { join } from 'node:path';
import { dataDirOf } from '../config.ts';

export class DaemonUnavailable extends Error {}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function socketPathOf(env = process.env): string {
  return join(dataDirOf(env), 'homeportd.sock');
}

export function call<T>(method: string, path: string, body?: unknown, socketPath = socketPathOf()): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { socketPath, method, path, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text);
          } catch {
            return reject(new ApiError(res.statusCode ?? 500, `homeportd answered ${res.statusCode} with no JSON`));
          }
          if ((res.statusCode ?? 500) >= 400) reject(new ApiError(res.statusCode!, String(json.error ?? 'request failed')));
          else resolve(json as T);
        });
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED')
        reject(new DaemonUnavailable(`homeportd is not running (no socket at ${socketPath}). Start it with \`npm start\`.`));
      else reject(error);
    });
    req.end(payload);
  });
}

export interface ServerSentEvent {
  event: string;
  id: string | null;
  data: string;
}

/**
 * GETs a Server-Sent Events route of homeportd and calls `onEvent` for each event until
 * the stream ends or `onEvent` returns true. A 4xx/5xx answer rejects with ApiError.
 */
export function streamEvents(path: string, onEvent: (event: ServerSentEvent) => boolean | void, socketPath = socketPathOf()): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method: 'GET', path, headers: { accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      if ((res.statusCode ?? 500) >= 400) {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let message = `homeportd answered ${res.statusCode}`;
          try {
            message = String(JSON.parse(text).error ?? message);
          } catch {
            // not JSON
          }
          reject(new ApiError(res.statusCode!, message));
        });
        return;
      }
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: ServerSentEvent = { event: 'message', id: null, data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            else if (line.startsWith('event:')) event.event = line.slice(6).trim();
            else if (line.startsWith('id:')) event.id = line.slice(3).trim();
          }
          if (!data.length) continue; // a keep-alive comment
          event.data = data.join('\n');
          if (onEvent(event) === true) {
            req.destroy();
            return resolve();
          }
        }
      });
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED')
        reject(new DaemonUnavailable(`homeportd is not running (no socket at ${socketPath}). Start it with \`npm start\`.`));
      else reject(error);
    });
    req.end();
  });
}
