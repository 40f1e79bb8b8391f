#!/usr/bin/env node
// A round-robin HTTP load balancer for trying several Countersign replicas locally:
//   node proxy.mjs <port> <upstream URL>...
// Each request goes to the next replica; a replica that refuses the connection (stopped, killed)
// is skipped and the request goes to the next one. Nothing is retried once a replica has taken
// it (a pipeline's retry with the same webhook-id is the safe way). For production, put any load
// balancer in front (nginx, HAProxy, a cloud one) with a health check on GET /healthz.
import http from 'node:http';

/**
 * Starts the balancer on 127.0.0.1:`port` (0: any free port). Resolves with its URL and `close()`.
 * @param {number} port
 * @param {string[]} upstreams
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export function startProxy(port, upstreams) {
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => forward(req, res, Buffer.concat(chunks), next++, 0));
  });
  // Tries the replicas in turn from `start`, each at most once.
  function forward(req, res, body, start, tried) {
    if (tried >= upstreams.length) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end('{"error":"unavailable","message":"no replica answered"}');
      return;
    }
    const target = new URL(upstreams[(start + tried) % upstreams.length]);
    const out = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host, 'x-forwarded-for': req.socket.remoteAddress },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', (err) => {
      // Refused before anything was sent: another replica may take it.
      if (err.code === 'ECONNREFUSED' && !res.headersSent) return forward(req, res, body, start, tried + 1);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":"bad_gateway"}');
    });
    res.on('close', () => out.destroy());
    out.end(body);
  }
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [port, ...upstreams] = process.argv.slice(2);
  if (!port || upstreams.length === 0) {
    process.stderr.write('usage: node proxy.mjs <port> <upstream URL>...\n');
    process.exit(4);
  }
  const { url } = await startProxy(Number(port), upstreams);
  process.stdout.write(`round-robin over ${upstreams.join(', ')} on ${url}\n`);
}
