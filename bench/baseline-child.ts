import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { reportStartFailure, serveChild } from './lib/child.js';
import { CI_KEY } from './lib/env.js';

/**
 * The baseline of the intake bench: the least a server can do for the same call. A bare node:http
 * server that reads the body, verifies the same Standard Webhooks signature (timestamp window and
 * HMAC-SHA256, constant-time compare), parses the JSON and inserts one row with a prepared
 * better-sqlite3 statement, on a database with the product's pragmas (WAL, synchronous NORMAL).
 */
const path = process.env.DATABASE_PATH;
if (!path) reportStartFailure(new Error('DATABASE_PATH is not set'));
const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
db.pragma('foreign_keys = ON');
db.pragma('synchronous = NORMAL');
db.exec(`CREATE TABLE IF NOT EXISTS requests (
  id TEXT PRIMARY KEY, client TEXT NOT NULL, webhook_id TEXT NOT NULL, body TEXT NOT NULL,
  status TEXT NOT NULL, created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS requests_client_webhook ON requests (client, webhook_id);`);
const insert = db.prepare(
  "INSERT INTO requests (id, client, webhook_id, body, status, created_at) VALUES (?, 'ci', ?, ?, 'pending', ?)",
);

function verified(req: IncomingMessage, body: Buffer): boolean {
  const id = req.headers['webhook-id'];
  const ts = req.headers['webhook-timestamp'];
  const sig = req.headers['webhook-signature'];
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sig !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const expected = createHmac('sha256', CI_KEY).update(`${id}.${ts}.`).update(body).digest();
  return sig.split(' ').some((part) => {
    const offered = Buffer.from(part.slice(part.indexOf(',') + 1), 'base64');
    return part.startsWith('v1,') && offered.length === expected.length && timingSafeEqual(offered, expected);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/api/v1/requests') return send(res, 404, { error: 'not_found' });
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (!verified(req, body)) return send(res, 401, { error: 'invalid_signature' });
    let value: { title?: unknown };
    try {
      value = JSON.parse(body.toString('utf8')) as { title?: unknown };
    } catch {
      return send(res, 400, { error: 'invalid_request' });
    }
    const id = `req_${randomUUID()}`;
    insert.run(id, req.headers['webhook-id'], body.toString('utf8'), Date.now());
    send(res, 201, { id, status: 'pending', title: value.title });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveChild({
    url: `http://127.0.0.1:${port}`,
    collect: () => {
      const cpu = process.cpuUsage();
      return { rss: process.memoryUsage().rss, cpuUs: cpu.user + cpu.system };
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      db.close();
    },
  });
});
