import type { JSONWebKeySet } from 'jose';
import { jwksDocument, type PublishedKey } from '../identity/jwks-document.js';
import type { Logger } from '../log.js';
import { sendError, sendJson } from './respond.js';
import type { Route } from './router.js';

export const JWKS_PATH = '/.well-known/jwks.json';
/** The document is rebuilt at most this often: keys change only when a server starts with another. */
const CACHE_MS = 60_000;

/**
 * `GET /.well-known/jwks.json` (CONTRACT §12, no auth): the public audit keys that may have signed
 * an attestation still valid (the current key and recently retired ones), for executors to verify
 * approvals offline.
 */
export function jwksRoute(deps: { keys: () => PublishedKey[]; now: () => number; log: Logger }): Route {
  let cached: { doc: JSONWebKeySet; at: number } | null = null;
  return {
    method: 'GET',
    path: JWKS_PATH,
    bodyLimit: 0,
    handler: (req, res) => {
      req.resume();
      const now = deps.now();
      const fresh = cached !== null && now - cached.at < CACHE_MS ? cached.doc : null;
      const doc = fresh ?? jwksDocument(deps.keys(), now);
      Promise.resolve(doc)
        .then((body) => {
          if (fresh === null) cached = { doc: body, at: now };
          sendJson(res, 200, body, { 'cache-control': 'public, max-age=60' });
        })
        .catch((err: unknown) => {
          deps.log.error('jwks document failed', { error: err });
          sendError(res, 500, 'internal_error', {
            message: 'the key set could not be built; it has been logged',
          });
        });
    },
  };
}
