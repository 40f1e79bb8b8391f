import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import { API_BODY_LIMIT, BodyBudget, type HttpLimits, httpLimits } from './limits.js';
import { sizeText } from './read-body.js';
import { hasBody, refuse } from './respond.js';
import { type Route, type RoutedRequest, Router } from './router.js';

export interface ListenerOptions {
  routes: readonly Route[];
  log: Logger;
  /** Timeouts, the connection cap and the body budget (defaults in limits.ts; tests shorten them). */
  limits?: Partial<HttpLimits>;
}

/** The path of a request target, normalised the way URL parsing does (`/a/./b` is `/a/b`), or null. */
export function normalisedPath(target: string | undefined): string | null {
  if (!target?.startsWith('/')) return null;
  try {
    return new URL(target, 'http://countersign.invalid').pathname;
  } catch {
    return null;
  }
}

/**
 * Node closes a connection after a `Connection: close` answer with `socket.destroySoon()`: end, then
 * destroy as soon as the answer is flushed. Input the client is still sending then meets a closed
 * socket, and the reset it causes can reach the client before it has read the answer. This closes
 * the way RFC 9112 §9.6 asks (a lingering close): end the writing side, keep reading and discarding
 * until the client closes too, for at most `lingerMs`, then destroy.
 */
function closeLingering(socket: Socket, lingerMs: number): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    this.resume();
    const timer = setTimeout(() => this.destroy(), lingerMs);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    this.once('end', () => {
      if (this.writableFinished) this.destroy();
      else this.once('finish', () => this.destroy());
    });
  };
}

/** The route's body limit, or why the request is refused before a byte of its body is read. */
function bodyCheck(route: Route, req: IncomingMessage): { limit: number; refusal: string | null } {
  const limit = route.bodyLimit ?? API_BODY_LIMIT;
  if (limit === 0) return { limit, refusal: hasBody(req) ? 'this call takes no body' : null };
  const declared = Number(req.headers['content-length']);
  const over = Number.isFinite(declared) && declared > limit;
  return { limit, refusal: over ? `the body may be at most ${sizeText(limit)}` : null };
}

const budgets = new WeakMap<Server, BodyBudget>();

/** Bytes of request bodies being received right now on `server` (for metrics and tests). */
export function bodyBytesInFlight(server: Server): number {
  return budgets.get(server)?.inUse ?? 0;
}

/**
 * The one HTTP server of the product: the pipeline API, `/healthz`, Slack's endpoint (HTTP mode)
 * and whatever else the composition root mounts, routed on the normalised path. An unknown path is
 * a JSON 404, a known path with another method a 405, a body announced larger than the route takes
 * a 413: all answered before any of the body is read. Headers, whole requests and idle keep-alive
 * connections are timed out, connections are capped, and bodies being received share one budget.
 */
export function createHttpServer(opts: ListenerOptions): Server {
  const limits = httpLimits(opts.limits);
  const router = new Router(opts.routes);
  const bodyBudget = new BodyBudget(limits.bodyBudgetBytes);
  const server = createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckMs,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const path = normalisedPath(req.url);
      const match = path === null ? ({ kind: 'not_found' } as const) : router.match(req.method ?? '', path);
      if (match.kind !== 'found') {
        if (match.kind === 'method_not_allowed') {
          return refuse(
            req,
            res,
            405,
            'method_not_allowed',
            { message: `use ${match.allow.join(' or ')} for this path` },
            { allow: match.allow.join(', ') },
          );
        }
        return refuse(req, res, 404, 'not_found');
      }
      const body = bodyCheck(match.route, req);
      if (body.refusal !== null) return refuse(req, res, 413, 'payload_too_large', { message: body.refusal });
      const routed = Object.assign(req, {
        params: match.params,
        bodyLimit: body.limit,
        bodyBudget,
      }) as RoutedRequest;
      try {
        match.route.handler(routed, res);
      } catch (err) {
        opts.log.error('http handler failed', { path, error: err });
        refuse(req, res, 500, 'internal_error', { message: 'unexpected server error; it has been logged' });
      }
    },
  );
  budgets.set(server, bodyBudget);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.on('connection', (socket: Socket) => closeLingering(socket, limits.lingerMs));
  let dropped = 0;
  let lastDropLog = 0;
  server.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now - lastDropLog < 60_000) return;
    lastDropLog = now;
    opts.log.warn('connection refused: the server holds its maximum of open connections', {
      maxConnections: limits.maxConnections,
      refusedSoFar: dropped,
    });
  });
  return server;
}
