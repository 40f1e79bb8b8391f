import { type Logger as BoltLogger, SocketModeReceiver } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import type { Logger } from '../log.js';

/** Errors of `apps.connections.open` that retrying cannot fix: the app-level token is wrong. */
const TOKEN_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'not_allowed_token_type',
  'token_revoked',
  'account_inactive',
  'team_disabled',
  'user_removed_from_team',
]);

export class SocketModeTokenError extends Error {}

export interface SocketModeLinkOptions {
  appToken: string;
  /** The Web API client options (slackApiUrl, fetch, timeout) used for `apps.connections.open`. */
  clientOptions: WebClientOptions;
  logger: BoltLogger;
  log: Logger;
  /** Ping/pong timeout of the WebSocket; the first reconnect after a failure waits about this long. */
  clientPingTimeoutMs?: number;
  /** Longest wait between reconnection attempts (default 30 s). */
  maxBackoffMs?: number;
  /** Told on every change of the connection: true once `hello` arrived, false when it is lost. */
  onState?: (connected: boolean) => void;
}

export interface SocketModeLink {
  receiver: SocketModeReceiver;
  /** Connects (first `hello`); rejects with SocketModeTokenError when SLACK_APP_TOKEN is refused. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

function platformError(err: unknown): string | undefined {
  return (err as { data?: { error?: string } } | undefined)?.data?.error;
}

export function tokenErrorMessage(code: string): string {
  return (
    `SLACK_APP_TOKEN was refused by Slack (${code}): create an app-level token with the ` +
    'connections:write scope (app settings → Basic Information → App-Level Tokens), put it in ' +
    'SLACK_APP_TOKEN, and turn on Socket Mode (app settings → Socket Mode)'
  );
}

/**
 * Slack over Socket Mode through Bolt's SocketModeReceiver, kept connected: Slack's `disconnect`
 * messages, dropped connections and failed `apps.connections.open` calls all lead to a new
 * connection, at once after a clean disconnect and with a growing, jittered delay (up to 30 s)
 * while attempts keep failing. The pipeline API is not involved: it stays on our HTTP server.
 */
export function socketModeLink(opts: SocketModeLinkOptions): SocketModeLink {
  const receiver = new SocketModeReceiver({
    appToken: opts.appToken,
    logger: opts.logger,
    // Reconnection is ours (below): the client's own gives up on network errors for good.
    autoReconnectEnabled: false,
    ...(opts.clientPingTimeoutMs !== undefined ? { clientPingTimeout: opts.clientPingTimeoutMs } : {}),
    installerOptions: { clientOptions: { ...opts.clientOptions, retryConfig: { retries: 0 } } },
  });
  const client = receiver.client;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  let state: 'idle' | 'connecting' | 'connected' | 'waiting' | 'stopped' = 'idle';
  let failures = 0;
  let timer: NodeJS.Timeout | null = null;

  const schedule = (delayMs: number) => {
    if (state === 'stopped') return;
    state = 'waiting';
    timer = setTimeout(() => {
      timer = null;
      void connect().catch(() => {});
    }, delayMs);
  };
  const backoff = () => {
    const base = Math.min(maxBackoff, 1000 * 2 ** Math.min(failures, 10));
    return Math.round(base / 2 + (Math.random() * base) / 2);
  };

  async function connect(): Promise<void> {
    if (state === 'stopped' || state === 'connecting' || state === 'connected') return;
    state = 'connecting';
    try {
      await client.start();
    } catch (err) {
      if ((state as string) === 'stopped') return;
      failures += 1;
      const code = platformError(err);
      const delay = code && TOKEN_ERRORS.has(code) ? maxBackoff : backoff();
      if (code && TOKEN_ERRORS.has(code)) opts.log.error(tokenErrorMessage(code), { retryInMs: delay });
      else
        opts.log.warn('slack socket mode: connection failed; retrying', {
          error: code ?? (err instanceof Error ? err.message : 'the connection closed before hello'),
          attempt: failures,
          retryInMs: delay,
        });
      schedule(delay);
      if (code && TOKEN_ERRORS.has(code)) throw new SocketModeTokenError(tokenErrorMessage(code));
      throw err;
    }
    if ((state as string) === 'stopped') return;
    state = 'connected';
    if (failures > 0) opts.log.info('slack socket mode: reconnected', { after: failures });
    failures = 0;
    opts.onState?.(true);
  }

  // A lost connection (Slack's `disconnect` message, a network loss, a missed pong) ends here.
  client.on('disconnected', () => {
    if (state !== 'connected') return;
    opts.onState?.(false);
    opts.log.info('slack socket mode: disconnected; reconnecting');
    schedule(0);
  });

  return {
    receiver,
    async start() {
      try {
        await connect();
      } catch (err) {
        if (err instanceof SocketModeTokenError) {
          // The server does not start with a refused token; stop retrying.
          state = 'stopped';
          if (timer) clearTimeout(timer);
          throw err;
        }
        // Slack unreachable for now: keep trying in the background, the API serves meanwhile.
      }
      if (state === 'connected') opts.log.info('slack socket mode: connected');
    },
    async stop() {
      const was = state;
      state = 'stopped';
      if (timer) clearTimeout(timer);
      timer = null;
      if (was === 'idle') return;
      // The close handshake normally takes a round trip; do not let a dead network hold shutdown.
      await Promise.race([client.disconnect(), new Promise((r) => setTimeout(r, 2000).unref())]);
      if (was === 'connected') opts.onState?.(false);
    },
  };
}
