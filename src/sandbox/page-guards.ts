/**
 * What the sandbox page's routes accept: only this machine's own host names (a rebinding DNS name
 * can neither read nor click), and actions only as JSON from the page itself, validated, by a
 * person of the workspace.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { readBodyOrRefuse } from '../http/read-body.js';
import { refuse, sendError } from '../http/respond.js';
import type { RoutedRequest } from '../http/router.js';

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function pageGuards(port: number, isPerson: (id: string) => boolean) {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origins = new Set([...hosts].map((h) => `http://${h}`));

  /** Only this machine's own names reach the sandbox (a rebinding DNS name cannot read or click). */
  const hostAllowed = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (hosts.has(header(req, 'host') ?? '')) return true;
    refuse(req, res, 421, 'wrong_host', {
      message: `open the sandbox at http://127.0.0.1:${port}/sandbox`,
    });
    return false;
  };

  const readJson = async <T>(
    req: RoutedRequest,
    res: ServerResponse,
    schema: z.ZodType<T>,
  ): Promise<T | null> => {
    if (!hostAllowed(req, res)) return null;
    const origin = header(req, 'origin');
    if (origin !== undefined && !origins.has(origin)) {
      refuse(req, res, 403, 'cross_origin', { message: 'the sandbox only takes actions from its own page' });
      return null;
    }
    if (header(req, 'content-type')?.split(';')[0]?.trim() !== 'application/json') {
      refuse(req, res, 415, 'unsupported_media_type', { message: 'send JSON' });
      return null;
    }
    const raw = await readBodyOrRefuse(req, res);
    if (raw === null) return null;
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      sendError(res, 400, 'invalid_json');
      return null;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      sendError(res, 400, 'invalid_request', {
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
      return null;
    }
    const as = (parsed.data as { as?: string }).as;
    if (as !== undefined && !isPerson(as)) {
      sendError(res, 400, 'unknown_person', { message: `${as} is not in the sandbox workspace` });
      return null;
    }
    return parsed.data;
  };

  return { hostAllowed, readJson };
}
