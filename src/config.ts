import cron from 'node-cron';
import { z } from 'zod';
import { loadSigningKey } from './audit/keys.js';
import { ConfigError } from './config-error.js';
import { formatAllowEntry, parseAllowEntry } from './egress/callback-url.js';

/** One pipeline or agent allowed to call the API. A name may appear twice during key rotation. */
export interface ClientSecret {
  name: string;
  /** The raw HMAC key: the base64 part of `whsec_...`, decoded. */
  key: Buffer;
}

/** A CI identity-token issuer accepted as a caller (CONTRACT §11). */
export interface OidcIssuer {
  name: string;
  /** Compared exactly with a token's `iss`. */
  url: string;
}

export interface Config {
  slackBotToken: string;
  /** Verifies `/slack/events` over HTTP; null in Socket Mode, where it is not needed. */
  slackSigningSecret: string | null;
  /** App-level token (`xapp-...`): Socket Mode instead of `/slack/events` over HTTP. */
  slackAppToken: string | null;
  slackApiUrl: string;
  port: number;
  host: string;
  databasePath: string;
  /** `postgres://...`: PostgreSQL instead of SQLite (then `databasePath` is ignored). */
  databaseUrl: string | null;
  clients: ClientSecret[];
  defaultChannel: string | null;
  admins: string[];
  callbackAllow: string[];
  policyPath: string | null;
  expiryCron: string;
  auditSigningKey: string | null;
  auditChannel: string | null;
  oidcIssuers: OidcIssuer[];
  oidcAudience: string;
  /** The server's own base URL (links, attestation issuer); no trailing slash. */
  publicUrl: string | null;
  metricsToken: string | null;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

const CHANNEL_ID = /^[CGD][A-Z0-9]{2,30}$/;

/** Decodes a Standard Webhooks secret (`whsec_` + base64). Returns null when it is not one. */
export function decodeWebhookSecret(secret: string): Buffer | null {
  if (!secret.startsWith('whsec_')) return null;
  const b64 = secret.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  const key = Buffer.from(b64, 'base64');
  return key.length >= 16 ? key : null;
}

const clientsSchema = z.string().transform((value, ctx) => {
  const clients: ClientSecret[] = [];
  for (const [i, raw] of value.split(',').entries()) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq).trim() : '';
    const key = eq > 0 ? decodeWebhookSecret(entry.slice(eq + 1).trim()) : null;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name) || key === null) {
      ctx.addIssue({
        code: 'custom',
        message: `entry ${i + 1} must look like name=whsec_<base64 key of at least 16 bytes> (name: letters, digits, . _ -)`,
      });
      continue;
    }
    clients.push({ name, key });
  }
  if (clients.length === 0 && ctx.issues.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'needs at least one name=whsec_... entry' });
  }
  return clients;
});

const list = (pattern: RegExp, what: string) =>
  z.string().transform((value, ctx) => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    for (const item of items) {
      if (!pattern.test(item)) ctx.addIssue({ code: 'custom', message: `"${item}" is not ${what}` });
    }
    return items;
  });

/** URL prefixes for `callback_url`, normalised the way callback URLs are (src/egress/callback-url.ts). */
const callbackAllowSchema = z.string().transform((value, ctx) => {
  const entries: string[] = [];
  for (const raw of value.split(',')) {
    if (raw.trim() === '') continue;
    const parsed = parseAllowEntry(raw);
    if (parsed.ok) entries.push(formatAllowEntry(parsed.value));
    else ctx.addIssue({ code: 'custom', message: parsed.message });
  }
  return entries;
});

/** Loopback hosts, on which an `http://` issuer is allowed (local issuers, tests). */
const LOOPBACK_HOST = /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/;

const oidcSchema = z.string().transform((value, ctx) => {
  const issuers: OidcIssuer[] = [];
  for (const [i, raw] of value.split(',').entries()) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq).trim() : '';
    const url = eq > 0 ? entry.slice(eq + 1).trim() : '';
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    const secure =
      parsed !== null &&
      (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && LOOPBACK_HOST.test(parsed.hostname)));
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name) || !secure) {
      ctx.addIssue({
        code: 'custom',
        message: `entry ${i + 1} must look like name=https://issuer.example (http:// only on a loopback address)`,
      });
      continue;
    }
    issuers.push({ name, url });
  }
  return issuers;
});

const envSchema = z.object({
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'must be a bot token starting with xoxb-'),
  SLACK_SIGNING_SECRET: z
    .string()
    .min(8, 'must be the app signing secret from the Slack app settings')
    .optional(),
  SLACK_APP_TOKEN: z
    .string()
    .startsWith('xapp-', 'must be an app-level token starting with xapp-')
    .optional(),
  SLACK_API_URL: z
    .url('must be a URL such as https://slack.com/api/')
    .default('https://slack.com/api/')
    .transform((u) => (u.endsWith('/') ? u : `${u}/`)),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_PATH: z.string().default('./data/countersign.db'),
  DATABASE_URL: z
    .string()
    .regex(
      /^postgres(ql)?:\/\/\S+$/,
      'must be a PostgreSQL URL such as postgres://user:password@host:5432/db',
    )
    .optional(),
  COUNTERSIGN_CLIENTS: clientsSchema,
  COUNTERSIGN_DEFAULT_CHANNEL: z
    .string()
    .regex(CHANNEL_ID, 'must be a Slack channel ID such as C0123456789')
    .optional(),
  COUNTERSIGN_ADMINS: list(/^[UWS][A-Z0-9]{2,30}$/, 'a Slack user ID (U...) or user group ID (S...)').default(
    [],
  ),
  COUNTERSIGN_CALLBACK_ALLOW: callbackAllowSchema.default(['https://']),
  COUNTERSIGN_POLICY: z.string().optional(),
  EXPIRY_CRON: z
    .string()
    .default('* * * * *')
    .refine(
      (expr) => cron.validate(expr),
      'must be a node-cron expression of 5 or 6 fields, e.g. "* * * * *"',
    ),
  AUDIT_SIGNING_KEY: z
    .string()
    .optional()
    .superRefine((setting, ctx) => {
      const problem = setting === undefined ? null : signingKeyProblem(setting);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  COUNTERSIGN_AUDIT_CHANNEL: z
    .string()
    .regex(CHANNEL_ID, 'must be a Slack channel ID such as C0123456789')
    .optional(),
  COUNTERSIGN_OIDC: oidcSchema.default([]),
  COUNTERSIGN_OIDC_AUDIENCE: z.string().max(200).default('countersign'),
  COUNTERSIGN_PUBLIC_URL: z
    .url("must be the server's base URL, such as https://countersign.example.com")
    .optional()
    .transform((u) => u?.replace(/\/+$/, '')),
  COUNTERSIGN_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error'], 'must be debug, info, warn or error').default('info'),
});

/** Every variable the server's configuration reads (README's table and .env.example explain each). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

/** Why AUDIT_SIGNING_KEY (PEM text or a path) cannot sign, or null when it can. */
function signingKeyProblem(setting: string): string | null {
  try {
    loadSigningKey(setting, ':memory:');
    return null;
  } catch (err) {
    const why = (err as Error).message.replace(/^AUDIT_SIGNING_KEY:?\s*(\(AUDIT_SIGNING_KEY\)\s*)?/, '');
    return `${why} (give an Ed25519 private key as PEM text or the path of a PEM file; make one with: openssl genpkey -algorithm ed25519)`;
  }
}

export { ConfigError };

/**
 * Parses the environment once. Empty strings count as unset. Throws a ConfigError naming every
 * problem. `requireDefaultChannel` is false when a policy file names a channel for every request.
 */
export function loadConfig(env: NodeJS.ProcessEnv, opts: { requireDefaultChannel?: boolean } = {}): Config {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && v.trim() !== '') cleaned[k] = v.trim();
  }
  const parsed = envSchema.safeParse(cleaned);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '(environment)');
      const missing = issue.code === 'invalid_type' && cleaned[name] === undefined;
      problems.push(`${name}: ${missing ? 'is required but not set' : issue.message}`);
    }
  }
  const requireChannel = opts.requireDefaultChannel ?? cleaned.COUNTERSIGN_POLICY === undefined;
  if (cleaned.SLACK_APP_TOKEN === undefined && cleaned.SLACK_SIGNING_SECRET === undefined) {
    problems.push(
      'SLACK_SIGNING_SECRET: is required over HTTP (or set SLACK_APP_TOKEN to use Socket Mode, which needs no signing secret)',
    );
  }
  if (requireChannel && cleaned.COUNTERSIGN_DEFAULT_CHANNEL === undefined) {
    problems.push(
      'COUNTERSIGN_DEFAULT_CHANNEL: is required (the Slack channel ID where cards are posted) unless a policy file names a channel for every request',
    );
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    slackBotToken: e.SLACK_BOT_TOKEN,
    slackSigningSecret: e.SLACK_SIGNING_SECRET ?? null,
    slackAppToken: e.SLACK_APP_TOKEN ?? null,
    slackApiUrl: e.SLACK_API_URL,
    port: e.PORT,
    host: e.HOST,
    databasePath: e.DATABASE_PATH,
    databaseUrl: e.DATABASE_URL ?? null,
    clients: e.COUNTERSIGN_CLIENTS,
    defaultChannel: e.COUNTERSIGN_DEFAULT_CHANNEL ?? null,
    admins: e.COUNTERSIGN_ADMINS,
    callbackAllow: e.COUNTERSIGN_CALLBACK_ALLOW,
    policyPath: e.COUNTERSIGN_POLICY ?? null,
    expiryCron: e.EXPIRY_CRON,
    auditSigningKey: e.AUDIT_SIGNING_KEY ?? null,
    auditChannel: e.COUNTERSIGN_AUDIT_CHANNEL ?? null,
    oidcIssuers: e.COUNTERSIGN_OIDC,
    oidcAudience: e.COUNTERSIGN_OIDC_AUDIENCE,
    publicUrl: e.COUNTERSIGN_PUBLIC_URL ?? null,
    metricsToken: e.COUNTERSIGN_METRICS_TOKEN ?? null,
    logLevel: e.LOG_LEVEL,
  };
}
