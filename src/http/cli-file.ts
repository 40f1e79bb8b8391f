import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../store/package-root.js';
import { sendError } from './respond.js';
import type { Route } from './router.js';

export const CLI_FILE_PATH = '/cli/countersign.mjs';

/**
 * `GET /cli/countersign.mjs`: the client CLI of this very server as one file (dist/countersign.mjs,
 * built by `npm run build`), so a pipeline installs it from the server it talks to —
 * `curl -fsSL "$COUNTERSIGN_URL/cli/countersign.mjs" -o countersign.mjs` — and may pin it by the
 * SHA-256 in `x-content-sha256`. No secret in it; no authentication.
 */
export function cliFileRoute(file = join(packageRoot(), 'dist', 'countersign.mjs')): Route {
  let cached: { body: Buffer; sha256: string } | null = null;
  return {
    method: 'GET',
    path: CLI_FILE_PATH,
    bodyLimit: 0,
    handler: (req, res) => {
      req.resume();
      if (!cached && existsSync(file)) {
        const body = readFileSync(file);
        cached = { body, sha256: createHash('sha256').update(body).digest('hex') };
      }
      if (!cached) {
        return sendError(res, 404, 'not_found', {
          message: 'this server was built without the CLI bundle: run npm run build where it is installed',
        });
      }
      const etag = `"sha256-${cached.sha256}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/javascript; charset=utf-8',
        'content-length': cached.body.length,
        'content-disposition': 'attachment; filename="countersign.mjs"',
        'x-content-sha256': cached.sha256,
        etag,
      });
      res.end(cached.body);
    },
  };
}
