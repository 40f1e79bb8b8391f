import type { IncomingMessage } from 'node:http';
import { App, type Receiver as BoltReceiver, HTTPReceiver } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import type { Config } from '../config.js';
import { sendError } from '../http/respond.js';
import type { Route } from '../http/router.js';
import { boltLogger, type Level, type Logger } from '../log.js';
import { socketModeLink } from './socket-mode.js';

export const SLACK_ENDPOINT = '/slack/events';
const SLACK_TOLERANCE_SECONDS = 300;

function slackTimestampFresh(req: IncomingMessage, nowMs: number): boolean {
  const raw = req.headers['x-slack-request-timestamp'];
  const ts = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isFinite(ts) && Math.abs(nowMs / 1000 - ts) <= SLACK_TOLERANCE_SECONDS;
}

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
 * - HTTP: Slack's requests reach it through `route` (`POST /slack/events` on the product's own
 *   server, src/http/listener.ts): Bolt's receiver verifies the signature; the route first refuses
 *   timestamps from the future, which Bolt lets through.
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
    const http = httpReceiver(config.slackSigningSecret, logger);
    receiver = http;
    route = slackRoute(http, opts);
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

function httpReceiver(signingSecret: string, logger: ReturnType<typeof boltLogger>): HTTPReceiver {
  return new HTTPReceiver({
    signingSecret,
    endpoints: SLACK_ENDPOINT,
    logger,
    processBeforeResponse: false,
    dispatchErrorHandler: ({ response }) => sendError(response, 404, 'not_found'),
  });
}

function slackRoute(receiver: HTTPReceiver, opts: SlackAppOptions): Route {
  return {
    method: 'POST',
    path: SLACK_ENDPOINT,
    handler: (req, res) => {
      if (!slackTimestampFresh(req, opts.now())) {
        req.resume();
        opts.log.warn(
          'slack request refused: x-slack-request-timestamp missing or more than 300 s from the server clock',
        );
        res.writeHead(401).end();
        return;
      }
      // Bolt routes on the URL's path; ours is already normalised, so hand it the canonical one.
      req.url = SLACK_ENDPOINT;
      receiver.requestListener(req, res);
    },
  };
}
