import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

/** Where the client side of the CLI (`request`, `mcp`, `mcp-proxy`, ...) finds the server and its secret. */
export interface Connection {
  /** The server's base URL (COUNTERSIGN_URL). */
  url: string;
  /** This client's `whsec_...` secret (COUNTERSIGN_SECRET). */
  secret: string;
}

/** The connection settings are missing; the message names each one and where to set it. */
export class ConnectionError extends Error {}

/**
 * COUNTERSIGN_URL / COUNTERSIGN_SECRET from the environment, else from `<cwd>/.env` (empty counts as
 * unset); `urlOverride` (a `--url` flag) wins for the URL. Throws a ConnectionError naming what is
 * missing.
 */
export function resolveConnection(
  env: Record<string, string | undefined>,
  cwd: string,
  urlOverride?: string,
): Connection {
  const pick = settingReader(env, cwd);
  const url = urlOverride?.trim() || pick('COUNTERSIGN_URL');
  const secret = pick('COUNTERSIGN_SECRET');
  const missing = [
    !url && 'COUNTERSIGN_URL (the server base URL)',
    !secret && 'COUNTERSIGN_SECRET (whsec_...)',
  ].filter((m): m is string => typeof m === 'string');
  if (missing.length > 0)
    throw new ConnectionError(`set ${missing.join(' and ')} in the environment or in .env`);
  return { url, secret };
}

/** Reads a setting from the environment, else from `<cwd>/.env`; '' when unset (empty counts as unset). */
export function settingReader(
  env: Record<string, string | undefined>,
  cwd: string,
): (name: string) => string {
  const envFile = resolve(cwd, '.env');
  const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {};
  return (k: string) => env[k]?.trim() || fromFile[k]?.trim() || '';
}
