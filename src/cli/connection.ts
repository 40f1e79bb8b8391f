import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { connectionPath, sandboxConnection } from '../sandbox/connection-file.js';

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
 * unset); `urlOverride` (a `--url` flag) wins for the URL. When neither the environment nor `.env`
 * has either, a sandbox running from `cwd` is used (`data/sandbox/connection.json`, only while its
 * process is alive). Throws a ConnectionError naming what is missing.
 */
export function resolveConnection(
  env: Record<string, string | undefined>,
  cwd: string,
  urlOverride?: string,
): Connection {
  const pick = settingReader(env, cwd);
  const url = urlOverride?.trim() || pick('COUNTERSIGN_URL');
  const secret = pick('COUNTERSIGN_SECRET');
  let sandboxNote = ' (or start the sandbox in this folder: npx countersign sandbox)';
  if (!pick('COUNTERSIGN_URL') && !secret) {
    const sandbox = sandboxConnection(cwd);
    if (sandbox.kind === 'running') {
      return { url: urlOverride?.trim() || sandbox.connection.url, secret: sandbox.connection.secret };
    }
    if (sandbox.kind === 'stale') {
      sandboxNote = `; ${connectionPath(cwd)} names a sandbox (process ${sandbox.pid}) that is no longer running: start it again with npx countersign sandbox`;
    }
  }
  const missing = [
    !url && 'COUNTERSIGN_URL (the server base URL)',
    !secret && 'COUNTERSIGN_SECRET (whsec_...)',
  ].filter((m): m is string => typeof m === 'string');
  if (missing.length > 0)
    throw new ConnectionError(`set ${missing.join(' and ')} in the environment or in .env${sandboxNote}`);
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
