import { decodeWebhookSecret } from '../../src/config.js';
import { CHANNEL, CI_SECRET, PEOPLE, SIGNING_SECRET } from '../../test/support/harness.js';

export { CHANNEL, PEOPLE, SIGNING_SECRET };

/** The HMAC key of the `ci` client, decoded from its `whsec_` secret. */
export const CI_KEY: Buffer = (() => {
  const key = decodeWebhookSecret(CI_SECRET);
  if (!key) throw new Error('CI_SECRET is not a whsec_ secret');
  return key;
})();

/** The environment of a Countersign server for the benches: local fake Slack, temp database, no cron tick. */
export function serverEnv(databasePath: string, slackUrl: string): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: 'xoxb-bench-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slackUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_PATH: databasePath,
    COUNTERSIGN_CLIENTS: `ci=${CI_SECRET}`,
    COUNTERSIGN_DEFAULT_CHANNEL: CHANNEL,
    COUNTERSIGN_CALLBACK_ALLOW: 'http://127.0.0.1',
    // The sweep is measured on its own; during the load benches it never ticks.
    EXPIRY_CRON: '0 0 1 1 *',
  };
}
