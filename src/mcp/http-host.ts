import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

/** Largest JSON-RPC body accepted on POST /mcp. */
const MAX_BODY = 4 * 1024 * 1024;
/** Connections at once at most (each session holds one or two). */
const MAX_CONNECTIONS = 256;
/** Open sessions at most; past this the least recently used one is closed (its client re-initializes). */
const MAX_SESSIONS = 100;

export interface HttpHostOptions {
  host: string;
  port: number;
  /** Every request must carry `Authorization: Bearer <token>`. */
  token: string;
  /** A fresh MCP server for each session. */
  newServer: () => McpServer;
  log: (line: string) => void;
}

export interface HttpHost {
  /** The endpoint, e.g. `http://127.0.0.1:8808/mcp`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function jsonError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

function bearerMatches(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** On a loopback listener, only loopback Host and Origin values are accepted (DNS rebinding). */
function loopbackHeadersOk(req: IncomingMessage): boolean {
  const hostname = (value: string) => {
    try {
      return new URL(value.includes('://') ? value : `http://${value}`).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return '';
    }
  };
  const host = req.headers.host;
  if (host === undefined || !LOOPBACK.has(hostname(host))) return false;
  const origin = req.headers.origin;
  return origin === undefined || origin === 'null' || LOOPBACK.has(hostname(origin));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error(`the body exceeds ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Serves MCP over Streamable HTTP at `/mcp`: one stateful session (server + transport) per client
 * that initializes, every request checked for the bearer token first.
 */
export async function serveHttp(opts: HttpHostOptions): Promise<HttpHost> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const loopbackOnly = LOOPBACK.has(opts.host);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/mcp') return jsonError(res, 404, 'not found: the MCP endpoint is /mcp');
    if (loopbackOnly && !loopbackHeadersOk(req)) {
      return jsonError(res, 403, 'forbidden: Host and Origin must be a loopback address');
    }
    if (!bearerMatches(req, opts.token)) {
      req.resume();
      return jsonError(res, 401, 'unauthorized: send Authorization: Bearer <token> (COUNTERSIGN_MCP_TOKEN)', {
        'www-authenticate': 'Bearer realm="countersign-mcp"',
      });
    }
    const sessionHeader = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader;
    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = await readJson(req);
      } catch (err) {
        return jsonError(res, 400, `bad request: ${(err as Error).message}`);
      }
    }
    if (sessionId !== undefined) {
      const transport = sessions.get(sessionId);
      if (!transport) return jsonError(res, 404, 'session not found: initialize a new session');
      sessions.delete(sessionId);
      sessions.set(sessionId, transport);
      return transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      return jsonError(
        res,
        400,
        'bad request: no Mcp-Session-Id header, and this is not an initialize request',
      );
    }
    if (sessions.size >= MAX_SESSIONS) {
      const [oldest, stale] = sessions.entries().next().value as [string, StreamableHTTPServerTransport];
      sessions.delete(oldest);
      opts.log(`closing the least recently used of ${MAX_SESSIONS} sessions`);
      await stale.close().catch(() => {});
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
      },
    });
    const server = opts.newServer();
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
      server.close().catch(() => {});
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.log(`HTTP request failed: ${(err as Error).message}`);
      if (!res.headersSent) jsonError(res, 500, 'internal error');
      else res.end();
    });
  });
  // The same bounds as the product's own server (src/http/limits.ts): a slow or idle client cannot
  // hold a connection or a half-sent request for ever. These bound receiving the request only; a
  // session's event stream (the response) may stay open.
  http.headersTimeout = 10_000;
  http.requestTimeout = 30_000;
  http.keepAliveTimeout = 65_000;
  http.maxConnections = MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shownHost}:${port}/mcp`,
    port,
    async close() {
      for (const transport of [...sessions.values()]) await transport.close().catch(() => {});
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
