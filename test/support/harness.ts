import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { type RunningServer, startServer } from '../../src/server.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const CI_SECRET = `whsec_${Buffer.from('ci-secret-key-0123456789abcdef').toString('base64')}`;
export const AGENT_SECRET = `whsec_${Buffer.from('agent-secret-key-0123456789abc').toString('base64')}`;
export const CHANNEL = 'C0APPROVALS';

/** The people of the fake workspace. */
export const PEOPLE = {
  alice: { id: 'UALICE', name: 'Alice Asker', email: 'alice@example.com' },
  bob: { id: 'UBOB', name: 'Bob Builder', email: 'bob@example.com' },
  carol: { id: 'UCAROL', name: 'Carol Checker', email: 'carol@example.com' },
  dave: { id: 'UDAVE', name: 'Dave Dba', email: 'dave@example.com' },
  /** A second account with Alice's email (e.g. another workspace of the same org). */
  aliceAlt: { id: 'UALICE2', name: 'Alice (other account)', email: 'ALICE@example.com' },
  bot: { id: 'UROBOT', name: 'Deploy Bot', is_bot: true },
  appUser: { id: 'UAPPUSER', name: 'Some App', is_app_user: true },
  guest: { id: 'UGUEST', name: 'Gus Guest', email: 'gus@partner.example', is_restricted: true },
  singleGuest: { id: 'UGUEST1', name: 'Sam Single', email: 'sam@partner.example', is_ultra_restricted: true },
  gone: { id: 'UGONE', name: 'Gone Person', email: 'gone@example.com', deleted: true },
  /** A member of another workspace who shares the approvals channel (Slack Connect). */
  partner: { id: 'UPARTNER', name: 'Pat Partner', email: 'pat@partner.example', team_id: 'T0OTHER' },
} as const;

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Reuse a data folder (restart tests). */
  dir?: string;
  slack?: SlackEmulator;
  now?: () => number;
}

export interface Harness {
  server: RunningServer;
  slack: SlackEmulator;
  dir: string;
  env: Record<string, string>;
  api: ApiClient;
  /** Stops the server (and, unless kept, the fake Slack and the temp folder). */
  stop(opts?: { keepSlack?: boolean; keepDir?: boolean }): Promise<void>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'countersign-test-'));
  const slack = opts.slack ?? (await new SlackEmulator().start());
  if (!opts.slack) {
    for (const p of Object.values(PEOPLE)) slack.addUser(p);
    // Everyone is in the approvals channel unless a test says otherwise.
    slack.addChannel(
      CHANNEL,
      Object.values(PEOPLE).map((p) => p.id),
    );
  }
  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_PATH: join(dir, 'countersign.db'),
    COUNTERSIGN_CLIENTS: `ci=${CI_SECRET},agent=${AGENT_SECRET}`,
    COUNTERSIGN_DEFAULT_CHANNEL: CHANNEL,
    COUNTERSIGN_CALLBACK_ALLOW: 'http://127.0.0.1',
    EXPIRY_CRON: '0 0 1 1 *',
    ...opts.env,
  };
  const config = loadConfig(env);
  let server: RunningServer;
  try {
    server = await startServer(config, {
      log: createLogger('error', () => {}),
      outboxPollMs: 50,
      callbackTimeoutMs: 2000,
      ...(opts.now ? { now: opts.now } : {}),
    });
  } catch (err) {
    if (!opts.slack) await slack.stop();
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const api = new ApiClient(server.url, CI_SECRET);
  return {
    server,
    slack,
    dir,
    env,
    api,
    async stop(stopOpts = {}) {
      await server.stop({ drainMs: 200 });
      if (!stopOpts.keepSlack) await slack.stop();
      if (!stopOpts.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** Calls the pipeline API exactly as a pipeline would: signed with the standardwebhooks package. */
export class ApiClient {
  constructor(
    readonly base: string,
    readonly secret: string,
  ) {}

  withSecret(secret: string): ApiClient {
    return new ApiClient(this.base, secret);
  }

  headers(id: string, payload: string, at = new Date()): Record<string, string> {
    const signature = new Webhook(this.secret).sign(id, at, payload);
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    };
  }

  async post(
    path: string,
    body: unknown,
    opts: { id?: string; at?: Date; headers?: Record<string, string>; raw?: string } = {},
  ): Promise<ApiResponse> {
    const payload = opts.raw ?? JSON.stringify(body);
    const id = opts.id ?? `msg_${randomBytes(8).toString('hex')}`;
    const res = await fetch(`${this.base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.headers(id, payload, opts.at), ...opts.headers },
      body: payload,
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  }

  create(
    body: unknown,
    opts: { id?: string; at?: Date; headers?: Record<string, string>; raw?: string } = {},
  ) {
    return this.post('/api/v1/requests', body, opts);
  }

  async get(target: string, opts: { id?: string; at?: Date } = {}): Promise<ApiResponse> {
    const id = opts.id ?? `msg_${randomBytes(8).toString('hex')}`;
    const res = await fetch(`${this.base}${target}`, { headers: this.headers(id, target, opts.at) });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  }

  request(id: string, wait?: number) {
    return this.get(`/api/v1/requests/${id}${wait ? `?wait=${wait}` : ''}`);
  }

  cancel(id: string, reason?: string) {
    return this.post(`/api/v1/requests/${id}/cancel`, reason === undefined ? undefined : { reason }, {
      ...(reason === undefined ? { raw: '' } : {}),
    });
  }
}

/** A typical request body; override any field. */
export function requestBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: 'db.export',
    title: 'Export the customers table to the analytics bucket',
    requester: { slack_user_id: PEOPLE.alice.id, name: 'Alice Asker' },
    risk: 'high',
    environment: 'production',
    resource: 'postgres://prod/customers',
    ...over,
  };
}

/** Posts a Slack-signed body (v0 scheme) to /slack/events, the way Slack does. */
export async function postSignedToSlack(
  base: string,
  body: string,
  contentType: 'application/x-www-form-urlencoded' | 'application/json',
  opts: { timestamp?: number; secret?: string } = {},
): Promise<{ status: number; body: string }> {
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const sig = `v0=${createHmac('sha256', opts.secret ?? SIGNING_SECRET)
    .update(`v0:${ts}:${body}`)
    .digest('hex')}`;
  const res = await fetch(`${base}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': sig,
    },
    body,
  });
  return { status: res.status, body: await res.text() };
}

/** Sends a Slack-signed form payload (interactivity, slash commands) to /slack/events. */
export function sendToSlackEndpoint(
  base: string,
  form: Record<string, string>,
  opts: { timestamp?: number; secret?: string } = {},
): Promise<{ status: number; body: string }> {
  return postSignedToSlack(
    base,
    new URLSearchParams(form).toString(),
    'application/x-www-form-urlencoded',
    opts,
  );
}
