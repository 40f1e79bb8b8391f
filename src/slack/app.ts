import { App } from '@slack/bolt';
import type { Config } from '../config.js';
import type { Route } from '../http/router.js';
import { boltLogger, type Level, type Logger } from '../log.js';
import { slackHttpEndpoint } from './http-endpoint.js';

export { SLACK_ENDPOINT } from './http-endpoint.js';

/**
 * The Bolt app. Over HTTP, Slack's requests reach it only through `route` (`POST /slack/events` on
 * the product's own server), which verifies them first (src/slack/http-endpoint.ts).
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
  const { receiver, route } = slackHttpEndpoint({
    signingSecret: config.slackSigningSecret,
    logger,
    log,
    now: opts.now,
  });
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
