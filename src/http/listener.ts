import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { sendError } from './respond.js';
import { type Route, type RoutedRequest, Router } from './router.js';

export interface ListenerOptions {
  routes: readonly Route[];
  log: Logger;
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
 * The one HTTP server of the product: the pipeline API, `/healthz`, Slack's endpoint (HTTP mode)
 * and whatever else the composition root mounts, routed on the normalised path. An unknown path is
 * a JSON 404, a known path with another method a 405.
 */
export function createHttpServer(opts: ListenerOptions): Server {
  const router = new Router(opts.routes);
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = normalisedPath(req.url);
    const match = path === null ? ({ kind: 'not_found' } as const) : router.match(req.method ?? '', path);
    if (match.kind !== 'found') {
      req.resume();
      if (match.kind === 'method_not_allowed') {
        return sendError(
          res,
          405,
          'method_not_allowed',
          {
            message: `use ${match.allow.join(' or ')} for this path`,
          },
          { allow: match.allow.join(', ') },
        );
      }
      return sendError(res, 404, 'not_found');
    }
    const routed = Object.assign(req, { params: match.params }) as RoutedRequest;
    try {
      match.route.handler(routed, res);
    } catch (err) {
      opts.log.error('http handler failed', { path, error: err });
      sendError(res, 500, 'internal_error', { message: 'unexpected server error; it has been logged' });
    }
  });
}
