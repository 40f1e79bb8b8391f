import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { doctorCommand } from '../../src/cli/doctor.js';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { manifestBotScopes } from '../../src/slack/manifest-scopes.js';
import { checkClock } from '../../src/slack/workspace-checks.js';
import { openDatabase } from '../../src/store/db.js';
import { spawnCaptured } from '../support/child.js';
import { CHANNEL, CI_SECRET, SIGNING_SECRET, seedWorkspace } from '../support/harness.js';

const CLI = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

let slack: SlackEmulator;
let dir: string;
beforeAll(async () => {
  slack = await new SlackEmulator().start();
});
afterAll(() => slack.stop());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-doctor-'));
  slack.users.clear();
  slack.channels.clear();
  slack.invalidTokens.clear();
  seedWorkspace(slack);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function env(over: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    DATABASE_PATH: join(dir, 'data', 'countersign.db'),
    COUNTERSIGN_CLIENTS: `ci=${CI_SECRET}`,
    COUNTERSIGN_DEFAULT_CHANNEL: CHANNEL,
    ...over,
  };
}

async function doctor(over: Record<string, string> = {}): Promise<{ code: number; lines: string[] }> {
  let text = '';
  const stdout = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  const code = await doctorCommand([], { env: env(over), cwd: dir, stdout });
  return { code, lines: text.split('\n').filter((l) => l.trim() !== '') };
}

const failing = (lines: string[]) => lines.filter((l) => l.startsWith('FAIL'));

describe('countersign doctor', () => {
  it('passes every check of a sound configuration, one line each, and exits 0', async () => {
    const { code, lines } = await doctor({ COUNTERSIGN_ADMINS: 'UDAVE' });
    expect(failing(lines)).toEqual([]);
    expect(code).toBe(0);
    for (const name of [
      'configuration',
      'policy',
      'database',
      'signing key',
      'slack token',
      'slack scopes',
      `channel ${CHANNEL}`,
      'user UDAVE',
      'clock',
    ]) {
      expect(
        lines.some((l) => l.startsWith(`ok    ${name}: `)),
        name,
      ).toBe(true);
    }
    expect(lines.at(-1)).toMatch(/^All \d+ checks passed\.$/);
  });

  it('catches the placeholder token of .env.example without asking Slack, and skips what needs a token', async () => {
    const calls = slack.callsOf('auth.test').length;
    const { code, lines } = await doctor({ SLACK_BOT_TOKEN: 'xoxb-your-bot-token' });
    expect(code).toBe(1);
    expect(failing(lines)).toEqual([
      expect.stringMatching(
        /^FAIL {2}slack token: .*— fix: SLACK_BOT_TOKEN is still the example value from \.env\.example: copy the Bot User OAuth Token/,
      ),
    ]);
    expect(lines.filter((l) => l.startsWith('skip'))).toContainEqual(
      expect.stringMatching(/^skip {2}slack scopes: not checked/),
    );
    expect(slack.callsOf('auth.test').length).toBe(calls);
  });

  it('names an invalid token with its fix', async () => {
    slack.invalidTokens.add('xoxb-revoked-or-made-up');
    const { code, lines } = await doctor({ SLACK_BOT_TOKEN: 'xoxb-revoked-or-made-up' });
    expect(code).toBe(1);
    expect(failing(lines)).toEqual([
      expect.stringMatching(
        /^FAIL {2}slack token: SLACK_BOT_TOKEN is refused \(invalid_auth\) — fix: SLACK_BOT_TOKEN is not a valid token/,
      ),
    ]);
  });

  it('names a scope the manifest asks for and the token lacks', async () => {
    slack.grantedScopes = manifestBotScopes().filter((s) => s !== 'users:read.email');
    const { code, lines } = await doctor();
    expect(code).toBe(1);
    expect(failing(lines)).toEqual([
      expect.stringMatching(
        /^FAIL {2}slack scopes: the token lacks users:read\.email .*Reinstall to Workspace/,
      ),
    ]);
  });

  it('names a channel that does not exist, and one the bot is not in, with the role each plays', async () => {
    slack.addChannel({ id: 'C0SECOPS01', name: 'secops', is_member: false });
    const { code, lines } = await doctor({
      COUNTERSIGN_DEFAULT_CHANNEL: 'C0NOSUCH01',
      COUNTERSIGN_AUDIT_CHANNEL: 'C0SECOPS01',
    });
    expect(code).toBe(1);
    expect(failing(lines)).toEqual([
      expect.stringMatching(
        /^FAIL {2}channel C0NOSUCH01: \(COUNTERSIGN_DEFAULT_CHANNEL\) not found — fix: check the ID/,
      ),
      'FAIL  channel C0SECOPS01: the bot is not a member of #secops (COUNTERSIGN_AUDIT_CHANNEL) — fix: invite it: type /invite @Countersign in #secops',
    ]);
  });

  it('names an admin ID and a policy approver group that do not resolve', async () => {
    const policy = join(dir, 'policy.yml');
    writeFileSync(
      policy,
      'version: 1\nrules:\n  - name: prod\n    match: { environment: production }\n    channel: C0APPROVALS\n    approvers: { users: [UBOB], groups: [S0NOSUCH01] }\n',
    );
    const { code, lines } = await doctor({
      COUNTERSIGN_ADMINS: 'U0NOBODY1,UROBOT',
      COUNTERSIGN_POLICY: policy,
    });
    expect(code).toBe(1);
    expect(failing(lines)).toEqual([
      expect.stringMatching(
        /^FAIL {2}user U0NOBODY1: \(COUNTERSIGN_ADMINS\) cannot be resolved \(user_not_found\) — fix: check the ID \(the person's profile → ⋮ → Copy member ID\)/,
      ),
      expect.stringMatching(/^FAIL {2}user UROBOT: Deploy Bot \(COUNTERSIGN_ADMINS\) is a bot/),
      expect.stringMatching(
        /^FAIL {2}user group S0NOSUCH01: \(policy rule "prod"\) cannot be resolved \(no_such_subteam\)/,
      ),
    ]);
    expect(lines).toContainEqual(
      expect.stringMatching(/^ok {4}user UBOB: Bob Builder \(policy rule "prod"\)$/),
    );
  });

  it('names an invalid policy file with the command that lists its problems', async () => {
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, 'version: 1\nrules:\n  - name: broken\n    min_approvals: eleven\n');
    const { code, lines } = await doctor({ COUNTERSIGN_POLICY: policy });
    expect(code).toBe(1);
    expect(failing(lines)).toEqual([
      expect.stringMatching(
        /^FAIL {2}policy: .*policy\.yml is invalid: .*min_approvals.* — fix: fix the file \(npx countersign policy check .*policy\.yml lists each problem/,
      ),
    ]);
  });

  it('names a database that cannot be written, and one with migrations pending', async () => {
    writeFileSync(join(dir, 'not-a-folder'), 'x');
    const unwritable = await doctor({ DATABASE_PATH: join(dir, 'not-a-folder', 'countersign.db') });
    expect(unwritable.code).toBe(1);
    expect(failing(unwritable.lines)).toEqual([
      expect.stringMatching(
        /^FAIL {2}database: .*countersign\.db cannot be created: .*not-a-folder is a file, not a folder/,
      ),
      expect.stringMatching(/^FAIL {2}signing key: cannot generate/),
    ]);

    const path = join(dir, 'old.db');
    const db = openDatabase(path);
    db.sqlite.exec(
      'DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)',
    );
    db.close();
    const old = await doctor({ DATABASE_PATH: path });
    expect(failing(old.lines)).toEqual([
      expect.stringMatching(
        /^FAIL {2}database: .*old\.db is writable but 1 migration\(s\) are pending: \d{4}_[a-z_]+ — fix: run npx countersign migrate/,
      ),
    ]);
  });

  it('checks the app-level token in Socket Mode', async () => {
    const { SocketModeEmulator } = await import('../../src/sandbox/socket-mode.js');
    await SocketModeEmulator.attach(slack);
    slack.invalidTokens.add('xapp-1-revoked');
    const ok = await doctor({ SLACK_SIGNING_SECRET: '', SLACK_APP_TOKEN: 'xapp-1-good' });
    expect(ok.lines).toContainEqual('ok    socket mode: SLACK_APP_TOKEN opens Socket Mode connections');
    expect(ok.lines[0]).toContain('Slack over Socket Mode');
    const bad = await doctor({ SLACK_SIGNING_SECRET: '', SLACK_APP_TOKEN: 'xapp-1-revoked' });
    expect(failing(bad.lines)).toEqual([
      expect.stringMatching(/^FAIL {2}socket mode: SLACK_APP_TOKEN is refused \(invalid_auth\)/),
    ]);
  });

  it('lists every configuration problem, one line each, and stops there', async () => {
    const { code, lines } = await doctor({ LOG_LEVEL: 'verbose', COUNTERSIGN_CLIENTS: 'nope' });
    expect(code).toBe(1);
    expect(failing(lines)).toEqual([
      expect.stringMatching(/^FAIL {2}configuration: COUNTERSIGN_CLIENTS: entry 1 must look like/),
      expect.stringMatching(/^FAIL {2}configuration: LOG_LEVEL: must be debug, info, warn or error/),
    ]);
  });

  it('fails the clock check beyond a minute of skew from Slack', async () => {
    expect((await checkClock(slack.url)).status).toBe('pass');
    const ahead = await checkClock(slack.url, () => Date.now() + 10 * 60_000);
    expect(ahead).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^(599|600|601) s ahead of Slack's clock/),
    });
    expect(ahead.fix).toContain('NTP');
  });

  it('runs as npx countersign doctor, with the exit code', async () => {
    const run = (over: Record<string, string>) =>
      spawnCaptured(process.execPath, [CLI, 'doctor'], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', ...env(over) },
      }).done;
    const good = await run({});
    expect({ code: good.code, out: good.stdout }).toMatchObject({
      code: 0,
      out: expect.stringContaining('checks passed'),
    });
    const bad = await run({ COUNTERSIGN_DEFAULT_CHANNEL: 'C0NOSUCH01' });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('FAIL  channel C0NOSUCH01');
  });
});
