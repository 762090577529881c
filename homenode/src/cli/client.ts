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
