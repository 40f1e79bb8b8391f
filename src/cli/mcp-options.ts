import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { Countersign, CountersignError, type Requester, type Risk } from '../client/index.js';
import { createRequestSchema } from '../client/request-schema.js';
import { ConnectionError, resolveConnection } from './connection.js';

/** What `countersign mcp` and `mcp-proxy` share: the connection, the requester, the waits. */

export class McpUsageError extends Error {}

export const RISKS: readonly Risk[] = ['low', 'medium', 'high', 'critical'];

/** Environment variables the two commands read (besides COUNTERSIGN_URL / COUNTERSIGN_SECRET). */
export const ENV_REQUESTER = 'COUNTERSIGN_REQUESTER_EMAIL';
export const ENV_MCP_TOKEN = 'COUNTERSIGN_MCP_TOKEN';

export const COMMON_OPTIONS_HELP = `  --requester-email <email>  the human the agent acts for: the requester of every request, who
                             therefore cannot approve them (default: $${ENV_REQUESTER})
  --ttl <seconds>            how long reviewers have to decide a gated call, 10-2592000
                             (default 900; policy may cap it)
  --risk <level>             the risk shown on those cards: low | medium | high | critical (default medium)
  --poll-seconds <n>         while a call waits for its decision, report progress to the client
                             every n seconds, 1-55 (default 20)`;

export const ENV_HELP = `Environment (also read from ./.env when present; the environment wins):
  COUNTERSIGN_URL              the server's base URL
  COUNTERSIGN_SECRET           this client's whsec_... secret (one entry of COUNTERSIGN_CLIENTS)
  ${ENV_REQUESTER}  the default for --requester-email`;

/** A variable from the environment, else from ./.env (empty counts as unset). */
export function setting(
  env: Record<string, string | undefined>,
  cwd: string,
  name: string,
): string | undefined {
  const fromEnv = env[name]?.trim();
  if (fromEnv) return fromEnv;
  const file = resolve(cwd, '.env');
  if (!existsSync(file)) return undefined;
  return parseEnv(readFileSync(file, 'utf8'))[name]?.trim() || undefined;
}

export function intOption(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new McpUsageError(`--${name} must be a whole number from ${min} to ${max}, not "${value}"`);
  }
  return Number(value);
}

export function riskOption(value: string | undefined): Risk {
  if (value === undefined) return 'medium';
  if (!(RISKS as readonly string[]).includes(value)) {
    throw new McpUsageError(`--risk must be one of ${RISKS.join(', ')}, not "${value}"`);
  }
  return value as Risk;
}

/** The requester from --requester-email or the environment, checked like the API checks it; null when neither is set. */
export function requesterOption(
  flag: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
): Requester | null {
  const email = flag?.trim() || setting(env, cwd, ENV_REQUESTER);
  if (!email) return null;
  const parsed = createRequestSchema.shape.requester.safeParse({ email });
  if (!parsed.success) {
    throw new McpUsageError(
      `the requester email "${email}" is not valid: ${parsed.error.issues[0]?.message}`,
    );
  }
  return { email };
}

/** The typed client for the server and secret that resolveConnection finds. */
export function countersignFrom(env: Record<string, string | undefined>, cwd: string): Countersign {
  try {
    const { url, secret } = resolveConnection(env, cwd);
    return new Countersign({ url, secret });
  } catch (err) {
    if (err instanceof ConnectionError) throw new McpUsageError(err.message);
    if (err instanceof CountersignError)
      throw new McpUsageError(`COUNTERSIGN_URL / COUNTERSIGN_SECRET: ${err.message}`);
    throw err;
  }
}

/** Resolves on SIGINT, SIGTERM, or (stdio) the end of stdin or a broken stdout: the MCP client went away. */
export function untilStopped(watchStdin: boolean): Promise<string> {
  return new Promise((done) => {
    const stop = (why: string) => () => done(why);
    process.once('SIGINT', stop('SIGINT'));
    process.once('SIGTERM', stop('SIGTERM'));
    if (watchStdin) {
      process.stdin.once('end', stop('the client closed stdin'));
      process.stdin.once('close', stop('the client closed stdin'));
      process.stdout.once('error', stop('the client stopped reading'));
    }
  });
}

/** Resolves once everything written to stdout so far has been handed to the OS. */
export function flushStdout(): Promise<void> {
  return new Promise((resolve) => process.stdout.write('', () => resolve()));
}
