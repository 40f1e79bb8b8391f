import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { signedSlackHeaders } from '../../src/sandbox/slack-payloads.js';
import { type EnvelopeType, SocketModeEmulator } from '../../src/sandbox/socket-mode.js';
import { type RunningServer, type ServerOptions, startServer } from '../../src/server.js';
import { manifestBotScopes } from '../../src/slack/manifest-scopes.js';
import { dropStoreFor, storeEnvFor, storeRefFor } from './test-store.js';

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

/**
 * How Slack reaches the server under test: signed POSTs to /slack/events (`http`) or envelopes over
 * Socket Mode (`socket`). The vitest project `socket-mode` sets COUNTERSIGN_TEST_SLACK_MODE=socket
 * and runs the Slack component tests again that way; the tests themselves do not change.
 */
export type SlackMode = 'http' | 'socket';
export const SLACK_MODE: SlackMode = process.env.COUNTERSIGN_TEST_SLACK_MODE === 'socket' ? 'socket' : 'http';
export const APP_TOKEN = 'xapp-1-A0FAKE-test-app-token';

/** Gives a fresh emulator the workspace the tests assume: its people, the approvals channel, the scopes. */
export function seedWorkspace(slack: SlackEmulator): void {
  for (const p of Object.values(PEOPLE)) slack.addUser(p);
  // Everyone is in the approvals channel unless a test says otherwise.
  slack.addChannel({
    id: CHANNEL,
    name: 'approvals',
    is_member: true,
    members: Object.values(PEOPLE).map((p) => p.id),
  });
  slack.grantedScopes = manifestBotScopes();
}

export interface HarnessOptions {
  /** Overrides COUNTERSIGN_TEST_SLACK_MODE for this harness. */
  slackMode?: SlackMode;
  env?: Record<string, string>;
  /** Reuse a data folder (restart tests). */
  dir?: string;
  slack?: SlackEmulator;
  now?: () => number;
  /** Passed to startServer as they are (HTTP limits, a callback resolver, a logger, ...). */
  server?: Partial<ServerOptions>;
}

export interface Harness {
  server: RunningServer;
  slack: SlackEmulator;
  mode: SlackMode;
  /** Socket Mode: the emulated WebSocket side of `slack` (null over HTTP). */
  socket: SocketModeEmulator | null;
  /**
   * Sends what Slack sends for a user's action, the way the current mode carries it: a signed POST
   * to /slack/events, or an envelope over Socket Mode. Resolves with the HTTP status (200 for an
   * envelope) and the ack's body ('' for a bare ack).
   */
  deliver(type: EnvelopeType, body: Record<string, unknown>): Promise<{ status: number; body: string }>;
  dir: string;
  env: Record<string, string>;
  /** The store as `verifyAuditFile` takes it: the SQLite file, or the PostgreSQL URL. */
  storeRef: string;
  api: ApiClient;
  /** Stops the server (and, unless kept, the fake Slack and the temp folder). */
  stop(opts?: { keepSlack?: boolean; keepDir?: boolean }): Promise<void>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'countersign-test-'));
  const slack = opts.slack ?? (await new SlackEmulator().start());
  if (!opts.slack) seedWorkspace(slack);
  const mode = opts.slackMode ?? SLACK_MODE;
  const socket = mode === 'socket' ? await SocketModeEmulator.attach(slack) : null;
  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    ...(mode === 'socket' ? { SLACK_APP_TOKEN: APP_TOKEN } : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
    SLACK_API_URL: slack.url,
    PORT: '0',
    HOST: '127.0.0.1',
    ...(await storeEnvFor(dir)),
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
      ...opts.server,
    });
  } catch (err) {
    if (!opts.dir) {
      rmSync(dir, { recursive: true, force: true });
      await dropStoreFor(dir);
    }
    if (!opts.slack) await slack.stop();
    throw err;
  }
  const api = new ApiClient(server.url, CI_SECRET);
  return {
    server,
    slack,
    mode,
    socket,
    dir,
    env,
    storeRef: storeRefFor(dir),
    api,
    async deliver(type, body) {
      if (socket) {
        const ack = await socket.send(type, body);
        return { status: 200, body: Object.keys(ack.payload).length > 0 ? JSON.stringify(ack.payload) : '' };
      }
      if (type === 'events_api')
        return postSignedToSlack(server.url, JSON.stringify(body), 'application/json');
      const form =
        type === 'interactive'
          ? { payload: JSON.stringify(body) }
          : Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]));
      return sendToSlackEndpoint(server.url, form);
    },
    async stop(stopOpts = {}) {
      await server.stop({ drainMs: 200 });
      if (!stopOpts.keepSlack) await slack.stop();
      if (!stopOpts.keepDir) {
        rmSync(dir, { recursive: true, force: true });
        await dropStoreFor(dir);
      }
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

  /** What a POST signs (CONTRACT §3): the body to create; the target, a line feed and the body otherwise. */
  static signedPayload(target: string, body: string): string {
    return target === '/api/v1/requests' ? body : `${target}\n${body}`;
  }

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
      headers: {
        'content-type': 'application/json',
        ...this.headers(id, ApiClient.signedPayload(path, payload), opts.at),
        ...opts.headers,
      },
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
  const res = await fetch(`${base}/slack/events`, {
    method: 'POST',
    headers: signedSlackHeaders(opts.secret ?? SIGNING_SECRET, body, contentType, opts.timestamp),
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

/** Rows of plain SQL (`?` placeholders) on the server's store, whichever store it is. */
export function sqlRows<T = Record<string, unknown>>(
  server: Pick<RunningServer, 'store'>,
  text: string,
  ...params: unknown[]
): Promise<T[]> {
  return server.store.query<T>(text, params);
}

/** The first column of the first row (undefined when there is none). */
export async function sqlValue<T = unknown>(
  server: Pick<RunningServer, 'store'>,
  text: string,
  ...params: unknown[]
): Promise<T | undefined> {
  const [row] = await server.store.query<Record<string, unknown>>(text, params);
  return row === undefined ? undefined : (Object.values(row)[0] as T);
}

/** The refusals recorded for a request (`vote.refused` events), oldest first. */
export async function auditRefusals(server: Pick<RunningServer, 'store'>, id: string): Promise<string[]> {
  const rows = await sqlRows<{ data: string }>(
    server,
    "SELECT data FROM audit_events WHERE request_id = ? AND type = 'vote.refused' ORDER BY seq",
    id,
  );
  return rows.map((r) => (JSON.parse(r.data) as { refusal: string }).refusal);
}

/** The data of every audit event of `type` (of one request, when given), oldest first. */
export async function auditData(
  server: Pick<RunningServer, 'store'>,
  type: string,
  requestId?: string,
): Promise<Record<string, unknown>[]> {
  const rows =
    requestId === undefined
      ? await sqlRows<{ data: string }>(
          server,
          'SELECT data FROM audit_events WHERE type = ? ORDER BY seq',
          type,
        )
      : await sqlRows<{ data: string }>(
          server,
          'SELECT data FROM audit_events WHERE type = ? AND request_id = ? ORDER BY seq',
          type,
          requestId,
        );
  return rows.map((r) => JSON.parse(r.data) as Record<string, unknown>);
}
