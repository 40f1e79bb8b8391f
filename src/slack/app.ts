import { App, type Receiver as BoltReceiver } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import type { Config } from '../config.js';
import type { Route } from '../http/router.js';
import { boltLogger, type Level, type Logger } from '../log.js';
import { slackHttpEndpoint } from './http-endpoint.js';
import { socketModeLink } from './socket-mode.js';

export { SLACK_ENDPOINT } from './http-endpoint.js';

export interface SlackAppOptions {
  config: Config;
  log: Logger;
  level: Level;
  now: () => number;
  /** The fetch every Web API call goes through (metrics wrap it); default: the global fetch. */
  fetch?: typeof fetch;
  /** Socket Mode: told when the connection is up (true) or lost (false). */
  onSocketState?: (connected: boolean) => void;
  /** Socket Mode: the WebSocket ping/pong timeout (tests shorten it; default 5 s). */
  socketPingTimeoutMs?: number;
}

export interface SlackApp {
  app: App;
  /** `POST /slack/events` over HTTP; null in Socket Mode, where Slack's traffic arrives on the WebSocket. */
  route: Route | null;
  /** Socket Mode: connects to Slack (rejects when SLACK_APP_TOKEN is refused). Over HTTP: nothing to do. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The Bolt app, in one of two modes with the same listeners.
 * - HTTP: Slack's requests reach it only through `route` (`POST /slack/events` on the product's own
 *   server), which verifies them first (src/slack/http-endpoint.ts).
 * - Socket Mode (SLACK_APP_TOKEN set): Bolt's SocketModeReceiver holds a WebSocket to Slack
 *   (`apps.connections.open` under SLACK_API_URL); no public URL, no signing secret, and no HTTP
 *   server of the receiver's own: the pipeline API keeps our server and PORT.
 */
export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const { config, log } = opts;
  const logger = boltLogger(log, opts.level);
  const clientOptions: WebClientOptions = {
    slackApiUrl: config.slackApiUrl,
    // The outbox retries with its own backoff; the client must fail fast and report 429s.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  };
  let receiver: BoltReceiver;
  let route: Route | null = null;
  let start = async () => {};
  let stop = async () => {};
  if (config.slackAppToken !== null) {
    const link = socketModeLink({
      appToken: config.slackAppToken,
      clientOptions,
      logger,
      log,
      ...(opts.socketPingTimeoutMs !== undefined ? { clientPingTimeoutMs: opts.socketPingTimeoutMs } : {}),
      ...(opts.onSocketState ? { onState: opts.onSocketState } : {}),
    });
    receiver = link.receiver;
    start = () => link.start();
    stop = () => link.stop();
  } else if (config.slackSigningSecret !== null) {
    const http = slackHttpEndpoint({ signingSecret: config.slackSigningSecret, logger, log, now: opts.now });
    receiver = http.receiver;
    route = http.route;
  } else {
    throw new Error('set SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)');
  }
  const app = new App({
    receiver,
    token: config.slackBotToken,
    tokenVerificationEnabled: false,
    logger,
    clientOptions,
  });
  app.error(async (err) => {
    log.error('slack listener failed', { error: err });
  });
  return { app, route, start, stop };
}
