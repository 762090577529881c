/**
 * @module
 * An upload the server refuses before it has read it all, spoken as raw HTTP/1.1 so
 * nothing hides what the server does: the body goes out in 64 KiB pieces (chunked, or
 * under a Content-Length) until the answer arrives. Resolves with the answer's status
 * and body; a connection the server resets after answering is fine.
 */
import net from 'node:net';

export interface UploadOptions {
  method?: string;
  /** the Host header */
  host: string;
  headers?: Record<string, string>;
  bytes: number;
  /** send Transfer-Encoding: chunked instead of a Content-Length */
  chunked?: boolean;
  /** stop sending after this many bytes and wait for the answer */
  stallAfter?: number;
}

export interface UploadAnswer {
  status: number;
  text: string;
  /** body bytes written before the answer came */
  sent: number;
}

export function uploadUntilAnswered(port: number, path: string, options: UploadOptions): Promise<UploadAnswer> {
  return new Promise((resolve, reject) => {
    const total = Math.round(options.stallAfter ?? options.bytes);
    const framing = options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(total) };
    const headers = { host: options.host, ...framing, ...options.headers };
    const head = `${options.method ?? 'POST'} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    const piece = Buffer.alloc(64 * 1024, 'a');
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let sent = 0;
    let settled = false;

    /** The whole answer once it is in (or, when `final`, what came of it). */
    const answer = (final: boolean): UploadAnswer | null => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return null;
      const lines = received.subarray(0, end).toString('latin1').toLowerCase().split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const length = lines.find((l) => l.startsWith('content-length:'));
      const chunked = lines.some((l) => l.startsWith('transfer-encoding:') && l.includes('chunked'));
      let body = received.subarray(end + 4);
      if (chunked) {
        const parts: Buffer[] = [];
        for (;;) {
          const line = body.indexOf('\r\n');
          const size = line < 0 ? NaN : parseInt(body.subarray(0, line).toString('latin1'), 16);
          if (Number.isNaN(size) || body.length < line + 2 + size + 2) {
            if (!final) return null;
            break;
          }
          if (size === 0) break;
          parts.push(body.subarray(line + 2, line + 2 + size));
          body = body.subarray(line + 2 + size + 2);
        }
        body = Buffer.concat(parts);
      } else if (length && body.length < Number(length.split(':')[1]) && !final) return null;
      return { status, text: body.toString('utf8'), sent };
    };
    const settle = (final: boolean) => {
      if (settled) return;
      const got = answer(final);
      if (!got && !final) return;
      settled = true;
      socket.destroy();
      if (got) resolve(got);
      else reject(new Error(`the connection ended with no answer after ${sent} body bytes`));
    };
    const write = () => {
      while (!settled && sent < total) {
        const next = piece.subarray(0, Math.min(piece.length, total - sent));
        sent += next.length;
        const framed = options.chunked ? Buffer.concat([Buffer.from(`${next.length.toString(16)}\r\n`), next, Buffer.from('\r\n')]) : next;
        if (!socket.write(framed)) return void socket.once('drain', write);
      }
      if (!settled && options.chunked && options.stallAfter === undefined) socket.write('0\r\n\r\n');
    };
    socket.on('data', (data) => {
      received = Buffer.concat([received, data]);
      settle(false);
    });
    // A reset after the answer is the server refusing the rest; before it, the test fails.
    socket.on('error', () => settle(true));
    socket.on('close', () => settle(true));
    socket.on('connect', () => {
      socket.write(head);
      write();
    });
  });
}
