import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BodyBudget } from './limits.js';

export type Method = 'GET' | 'POST';

/**
 * A request with the route's `:name` parameters (decoded), its body limit and the server's body
 * budget (read it with `readBody`).
 */
export type RoutedRequest = IncomingMessage & {
  params: Record<string, string>;
  bodyLimit: number;
  bodyBudget: BodyBudget;
};

export interface Route {
  method: Method;
  /** `/api/v1/requests/:id/cancel`: literal segments and `:name` parameters (one segment each). */
  path: string;
  /**
   * The largest body this route reads, in bytes (default 1 MiB; 0: it takes no body). A request
   * that announces more is answered `413` by the listener before a byte of it is read.
   */
  bodyLimit?: number;
  handler: (req: RoutedRequest, res: ServerResponse) => void;
}

interface Compiled {
  route: Route;
  segments: string[];
}

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  /** The path exists, but not for this method. */
  | { kind: 'method_not_allowed'; allow: Method[] }
  | { kind: 'not_found' };

function split(path: string): string[] {
  return path.split('/').slice(1);
}

/**
 * Matches a normalised path (no query) against routes, segment by segment: no regular expressions,
 * so the work is linear in the path's length whatever a client sends. The first route listed wins.
 */
export class Router {
  private readonly compiled: Compiled[];

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map((route) => ({ route, segments: split(route.path) }));
  }

  match(method: string, path: string): Match {
    const parts = split(path);
    const allow: Method[] = [];
    for (const { route, segments } of this.compiled) {
      const params = matchSegments(segments, parts);
      if (params === null) continue;
      if (route.method === method) return { kind: 'found', route, params };
      allow.push(route.method);
    }
    return allow.length > 0 ? { kind: 'method_not_allowed', allow } : { kind: 'not_found' };
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] as string;
    const got = parts[i] as string;
    if (want.startsWith(':')) {
      if (got === '') return null;
      let value: string;
      try {
        value = decodeURIComponent(got);
      } catch {
        return null;
      }
      params[want.slice(1)] = value;
    } else if (want !== got) {
      return null;
    }
  }
  return params;
}
