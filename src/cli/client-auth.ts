import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Countersign, type CountersignOptions } from '../client/index.js';
import { githubActionsTokenProvider, inGitHubActions } from '../client/oidc-token.js';
import { ConnectionError, resolveConnection, settingReader } from './connection.js';

/** How a client-side command proves who it is. */
export type ClientAuth =
  | { kind: 'secret'; secret: string }
  | { kind: 'oidc'; token: string }
  | { kind: 'github'; audience: string };

export interface ClientConnection {
  url: string;
  auth: ClientAuth;
}

/**
 * The server and the credentials for a client-side command, first match wins:
 * 1. an OIDC token: `--oidc-token <token | @file>`, else COUNTERSIGN_OIDC_TOKEN;
 * 2. COUNTERSIGN_SECRET (and whatever else `resolveConnection` knows);
 * 3. inside GitHub Actions with `id-token: write`: ID tokens fetched from GitHub for the audience
 *    `--oidc-audience`, else COUNTERSIGN_OIDC_AUDIENCE, else `countersign`.
 * Throws a ConnectionError naming what is missing.
 */
export function resolveClientConnection(
  env: Record<string, string | undefined>,
  cwd: string,
  flags: { url?: string | undefined; oidcToken?: string | undefined; oidcAudience?: string | undefined },
): ClientConnection {
  const pick = settingReader(env, cwd);
  const url = flags.url?.trim() || pick('COUNTERSIGN_URL');
  const token =
    flags.oidcToken !== undefined ? readToken(flags.oidcToken, cwd) : pick('COUNTERSIGN_OIDC_TOKEN');
  const needUrl = () => {
    if (!url)
      throw new ConnectionError('set COUNTERSIGN_URL (the server base URL) in the environment or in .env');
    return url;
  };
  if (token) return { url: needUrl(), auth: { kind: 'oidc', token } };
  if (!pick('COUNTERSIGN_SECRET') && inGitHubActions(env)) {
    const audience = flags.oidcAudience?.trim() || pick('COUNTERSIGN_OIDC_AUDIENCE') || 'countersign';
    return { url: needUrl(), auth: { kind: 'github', audience } };
  }
  try {
    const c = resolveConnection(env, cwd, flags.url);
    return { url: c.url, auth: { kind: 'secret', secret: c.secret } };
  } catch (err) {
    if (!(err instanceof ConnectionError)) throw err;
    throw new ConnectionError(
      `${err.message}; or authenticate with a CI identity token: --oidc-token (or COUNTERSIGN_OIDC_TOKEN), ` +
        'or run in a GitHub Actions job with "permissions: id-token: write"',
    );
  }
}

/** `@path` reads the token from a file; anything else is the token itself. */
function readToken(value: string, cwd: string): string {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(resolve(cwd, value.slice(1)), 'utf8');
    } catch (err) {
      throw new ConnectionError(
        `--oidc-token: cannot read ${value.slice(1)} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  }
  const token = text.trim();
  if (token === '') throw new ConnectionError(`--oidc-token ${value} is empty`);
  return token;
}

/** A client for `connection`, fetching GitHub ID tokens itself when that is how it authenticates. */
export function clientFor(
  connection: ClientConnection,
  env: Record<string, string | undefined>,
  options: Omit<CountersignOptions, 'url' | 'secret' | 'oidcToken'> = {},
): Countersign {
  const { auth } = connection;
  const credentials =
    auth.kind === 'secret'
      ? { secret: auth.secret }
      : auth.kind === 'oidc'
        ? { oidcToken: auth.token }
        : {
            oidcToken: githubActionsTokenProvider({
              env,
              audience: auth.audience,
              ...(options.fetch ? { fetch: options.fetch } : {}),
            }),
          };
  return new Countersign({ ...options, url: connection.url, ...credentials });
}
