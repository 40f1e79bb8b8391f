import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { manifestBotScopes } from '../../src/slack/manifest-scopes.js';
import { seedWorkspace, startHarness } from '../support/harness.js';
import { waitFor } from '../support/slack-user.js';

describe('failing loudly at start', () => {
  it('logs, as errors naming the fix, a channel that does not exist, one without the bot, and a missing scope', async () => {
    const slack = await new SlackEmulator().start();
    seedWorkspace(slack);
    slack.addChannel({ id: 'C0AUDIT001', name: 'audit', is_member: false });
    slack.grantedScopes = manifestBotScopes().filter((s) => s !== 'files:write');
    const lines: string[] = [];
    const h = await startHarness({
      slack,
      server: { log: createLogger('info', (l) => lines.push(l)) },
      env: { COUNTERSIGN_DEFAULT_CHANNEL: 'C0NOSUCH01', COUNTERSIGN_AUDIT_CHANNEL: 'C0AUDIT001' },
    });
    try {
      const errors = () =>
        lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'error');
      await waitFor(() => errors().length >= 3, 'three errors');
      expect(errors().map((e) => e.msg)).toEqual([
        expect.stringMatching(
          /^slack: slack scopes: the token lacks files:write .* — fix: this scope is needed: add it under OAuth & Permissions/,
        ),
        expect.stringMatching(
          /^slack: channel C0NOSUCH01: \(COUNTERSIGN_DEFAULT_CHANNEL\) not found — fix: check the ID/,
        ),
        'slack: channel C0AUDIT001: the bot is not a member of #audit (COUNTERSIGN_AUDIT_CHANNEL) — fix: invite it: type /invite @Countersign in #audit',
      ]);
      // It serves meanwhile: the problems are named, not fatal.
      expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
    } finally {
      await h.stop();
    }
  });

  it('refuses to start with a bot token Slack refuses, naming the fix, before opening anything', async () => {
    const slack = await new SlackEmulator().start();
    seedWorkspace(slack);
    slack.invalidTokens.add('xoxb-test-token');
    try {
      await expect(startHarness({ slack })).rejects.toThrow(
        /^SLACK_BOT_TOKEN is not a valid token \(invalid_auth\): copy the Bot User OAuth Token \(xoxb-\.\.\.\) from the app settings → OAuth & Permissions into SLACK_BOT_TOKEN$/,
      );
      await expect(startHarness({ slack, env: { SLACK_BOT_TOKEN: 'xoxb-your-bot-token' } })).rejects.toThrow(
        /still the example value from \.env\.example/,
      );
    } finally {
      await slack.stop();
    }
  });
});
