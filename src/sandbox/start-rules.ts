/**
 * When the sandbox starts instead of the real server, and on which port. Kept apart from the sandbox
 * itself so that the real start path loads none of it.
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

export const SLACK_VARIABLES = ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET'] as const;

/** The environment as the server would see it: `.env` in `cwd` under the real environment. */
export function effectiveEnv(env: NodeJS.ProcessEnv, cwd: string): Record<string, string | undefined> {
  const file = resolve(cwd, '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) };
}

/** Whether any Slack credential is configured (an empty value counts as unset): then it is never the sandbox. */
export function slackConfigured(env: Record<string, string | undefined>): boolean {
  return SLACK_VARIABLES.some((name) => (env[name]?.trim() ?? '') !== '');
}

/** A bad `--port` or PORT. */
export class SandboxUsageError extends Error {}

function parsePort(raw: string, what: string): number {
  if (!/^\d{1,5}$/.test(raw.trim()) || Number(raw) > 65535) {
    throw new SandboxUsageError(`${what} must be a port number from 0 to 65535, not "${raw}"`);
  }
  return Number(raw);
}

/** `--port N` wins, then PORT, then 3000. */
export function sandboxPort(args: string[], env: Record<string, string | undefined>): number {
  const i = args.findIndex((a) => a === '--port' || a.startsWith('--port='));
  if (i >= 0) {
    const arg = args[i] as string;
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[i + 1];
    if (value === undefined) throw new SandboxUsageError('--port needs a number, e.g. --port 3001');
    return parsePort(value, '--port');
  }
  const fromEnv = env.PORT?.trim();
  return fromEnv ? parsePort(fromEnv, 'PORT') : 3000;
}
