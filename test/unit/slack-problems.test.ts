import { describe, expect, it } from 'vitest';
import { slackDelay } from '../../src/outbox/backoff.js';
import { deliveryError, permanentSlackError } from '../../src/outbox/slack-problems.js';

/** What @slack/web-api throws for `{ok: false, error}`. */
const platform = (error: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`An API error occurred: ${error}`), {
    code: 'slack_webapi_platform_error',
    data: { ok: false, error, ...extra },
  });

describe('Slack errors a person must fix', () => {
  it('are told apart from errors that retrying fixes', () => {
    for (const code of [
      'not_in_channel',
      'channel_not_found',
      'is_archived',
      'invalid_auth',
      'account_inactive',
      'missing_scope',
      'token_revoked',
    ]) {
      expect(permanentSlackError(platform(code))?.code).toBe(code);
    }
    expect(permanentSlackError(platform('internal_error'))).toBeNull();
    expect(permanentSlackError(platform('ratelimited'))).toBeNull();
    expect(
      permanentSlackError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
    ).toBeNull();
    expect(
      permanentSlackError({ code: 'slack_webapi_http_error', data: { error: 'not_in_channel' } }),
    ).toBeNull();
  });

  it('say what to fix, naming the channel and the missing scope', () => {
    expect(deliveryError({ code: 'not_in_channel', needed: null }, '#deploys')).toEqual({
      code: 'not_in_channel',
      message: 'the bot is not a member of #deploys: type /invite @Countersign in #deploys',
    });
    const scope = permanentSlackError(platform('missing_scope', { needed: 'chat:write' }));
    expect(scope).toEqual({ code: 'missing_scope', needed: 'chat:write' });
    expect(deliveryError(scope as never, '#deploys').message).toMatch(
      /^the bot token lacks the scope chat:write: /,
    );
    expect(deliveryError({ code: 'invalid_auth', needed: null }, '#x').message).toMatch(
      /SLACK_BOT_TOKEN and restart/,
    );
  });

  it('are tried again at most 5 minutes apart, whatever the jitter', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      expect(slackDelay(attempt, () => 0.999)).toBeLessThanOrEqual(300_000);
    }
    expect(slackDelay(0, () => 0.5)).toBe(1000);
    expect(slackDelay(30, () => 0)).toBe(240_000);
  });
});
