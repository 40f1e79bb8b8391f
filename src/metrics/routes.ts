import { timingSafeEqual } from 'node:crypto';
import { sendError } from '../http/respond.js';
import type { Route } from '../http/router.js';
import type { Metrics } from './metrics.js';

/** The same routes, each call timed by route pattern, method and status (`aborted`: client gone). */
export function instrumentRoutes(routes: Route[], metrics: Metrics): Route[] {
  return routes.map((route) => ({
    ...route,
    handler: (req, res) => {
      const end = metrics.http.startTimer({ route: route.path, method: route.method });
      res.once('close', () => end({ status: res.writableFinished ? String(res.statusCode) : 'aborted' }));
      route.handler(req, res);
    },
  }));
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `GET /metrics` in Prometheus text; with a token set, only for `Authorization: Bearer <token>`. */
export function metricsRoute(metrics: Metrics, token: string | null): Route {
  return {
    method: 'GET',
    path: '/metrics',
    bodyLimit: 0,
    handler: (req, res) => {
      req.resume();
      if (token !== null) {
        const auth = req.headers.authorization ?? '';
        const given = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : '';
        if (!sameToken(given, token)) {
          return sendError(
            res,
            401,
            'unauthorized',
            { message: 'send Authorization: Bearer <COUNTERSIGN_METRICS_TOKEN>' },
            { 'www-authenticate': 'Bearer realm="metrics"' },
          );
        }
      }
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
          res.end(text);
        },
        (err: unknown) =>
          sendError(res, 500, 'metrics_failed', {
            message: `collecting metrics failed: ${(err as Error).message}`,
          }),
      );
    },
  };
}
