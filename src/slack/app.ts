import type { IncomingMessage } from 'node:http';
import { App, HTTPReceiver } from '@slack/bolt';
import type { Config } from '../config.js';
import { sendError } from '../http/respond.js';
import type { Route } from '../http/router.js';
import { boltLogger, type Level, type Logger } from '../log.js';

export const SLACK_ENDPOINT = '/slack/events';
const SLACK_TOLERANCE_SECONDS = 300;

function slackTimestampFresh(req: IncomingMessage, nowMs: number): boolean {
  const raw = req.headers['x-slack-request-timestamp'];
  const ts = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isFinite(ts) && Math.abs(nowMs / 1000 - ts) <= SLACK_TOLERANCE_SECONDS;
}

/**
 * The Bolt app. Over HTTP, Slack's requests reach it through `route` (`POST /slack/events` on the
 * product's own server, src/http/listener.ts): Bolt's receiver verifies the signature; the route
 * first refuses timestamps from the future, which Bolt lets through.
 */
export function createSlackApp(opts: { config: Config; log: Logger; level: Level; now: () => number }): {
  app: App;
  route: Route;
} {
  const { config, log } = opts;
  const logger = boltLogger(log, opts.level);
  if (config.slackSigningSecret === null) {
    throw new Error('SLACK_SIGNING_SECRET is required: Socket Mode (SLACK_APP_TOKEN) is not available yet');
  }
  const receiver = new HTTPReceiver({
    signingSecret: config.slackSigningSecret,
    endpoints: SLACK_ENDPOINT,
    logger,
    processBeforeResponse: false,
    dispatchErrorHandler: ({ response }) => sendError(response, 404, 'not_found'),
  });
  const route: Route = {
    method: 'POST',
    path: SLACK_ENDPOINT,
    handler: (req, res) => {
      if (!slackTimestampFresh(req, opts.now())) {
        req.resume();
        log.warn(
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
  const app = new App({
    receiver,
    token: config.slackBotToken,
    tokenVerificationEnabled: false,
    logger,
    clientOptions: {
      slackApiUrl: config.slackApiUrl,
      // The outbox retries with its own backoff; the client must fail fast and report 429s.
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: 10_000,
    },
  });
  app.error(async (err) => {
    log.error('slack listener failed', { error: err });
  });
  return { app, route };
}
