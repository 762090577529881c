/**
 * @module
 * The bench's dev server: plain node:http on a free port inside the node's scan range
 * (3000-9999), run as its own process. GET /small answers a few hundred bytes;
 * GET /100mb?size=<bytes> streams that many bytes (100 MiB by default) from one
 * reused buffer, honouring the socket's backpressure. Reports {port} over IPC.
 */
import http from 'node:http';
import { MiB, SMALL_BODY, filler } from './payload.ts';

const piece = filler(MiB);

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://dev');
  if (url.pathname === '/small') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': SMALL_BODY.byteLength });
    res.end(SMALL_BODY);
    return;
  }
  if (url.pathname === '/100mb') {
    const size = Number(url.searchParams.get('size') ?? 100 * MiB);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    let left = size;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, piece.byteLength);
        left -= n;
        if (!res.write(n === piece.byteLength ? piece : piece.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => (left = 0));
    pump();
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
});
server.keepAliveTimeout = 60_000;

function listen(attempt = 0) {
  const port = 3000 + Math.floor(Math.random() * 7000);
  server.once('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE' && attempt < 200) listen(attempt + 1);
    else throw error;
  });
  server.listen(port, '127.0.0.1', () => process.send?.({ port }));
}
listen();
process.on('disconnect', () => process.exit(0));
