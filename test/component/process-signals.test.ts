import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { SocketModeEmulator } from '../../src/sandbox/socket-mode.js';
import { spawnCaptured } from '../support/child.js';
import {
  APP_TOKEN,
  ApiClient,
  CHANNEL,
  CI_SECRET,
  PEOPLE,
  requestBody,
  seedWorkspace,
} from '../support/harness.js';
import { waitFor } from '../support/slack-user.js';

// `npm start` as an operator (or a container runtime) runs it: the server is the process itself,
// prints its PID, and that PID takes SIGHUP (reload the policy) and SIGTERM (stop cleanly).
const ROOT = resolve(import.meta.dirname, '../..');
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const POLICY = (channel: string) =>
  `version: 1\nrules:\n  - name: prod\n    match: { environment: production }\n    channel: ${channel}\n`;

function logLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('npm start', () => {
  it('runs the server as its own process: the printed PID reloads the policy on SIGHUP and stops cleanly on SIGTERM (Socket Mode)', async () => {
    const slack = await new SlackEmulator().start();
    cleanup.push(() => slack.stop());
    seedWorkspace(slack);
    slack.addChannel({ id: 'C0PRODDATA1', name: 'prod-data', is_member: true });
    const socket = await SocketModeEmulator.attach(slack);
    const dir = mkdtempSync(join(tmpdir(), 'countersign-npm-start-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, POLICY(CHANNEL));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const npm = spawnCaptured('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? dir,
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: slack.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_PATH: join(dir, 'countersign.db'),
        COUNTERSIGN_CLIENTS: `ci=${CI_SECRET}`,
        COUNTERSIGN_DEFAULT_CHANNEL: CHANNEL,
        COUNTERSIGN_POLICY: policy,
      },
    });
    cleanup.push(async () => {
      if (npm.child.exitCode === null) npm.child.kill('SIGKILL');
      await npm.done;
    });
    const listening = await waitFor(
      () => logLines(npm.err()).find((l) => String(l.msg).startsWith('countersign listening')),
      'the listening line',
      30_000,
    );
    const pid = listening.pid as number;
    expect(listening.msg).toContain(`(pid ${pid})`);
    expect(pid).not.toBe(npm.child.pid);
    expect(listening).toMatchObject({ slack: 'socket mode', port });
    await socket.connected();

    const api = new ApiClient(`http://127.0.0.1:${port}`, CI_SECRET);
    const first = await api.create(requestBody());
    await waitFor(
      () => slack.cards(CHANNEL).some((c) => JSON.stringify(c.blocks).includes(String(first.body.id))),
      'the first card',
    );

    writeFileSync(policy, POLICY('C0PRODDATA1'));
    process.kill(pid, 'SIGHUP');
    await waitFor(() => logLines(npm.err()).some((l) => l.msg === 'policy reloaded'), 'the reload');
    const second = await api.create(requestBody());
    await waitFor(
      () => slack.cards('C0PRODDATA1').some((c) => JSON.stringify(c.blocks).includes(String(second.body.id))),
      'the card in the new channel',
    );

    const ack = await socket.send('interactive', {
      type: 'block_actions',
      user: { id: PEOPLE.bob.id, team_id: 'T0FAKE' },
      team: { id: 'T0FAKE', domain: 'fake' },
      api_app_id: 'A0FAKE',
      trigger_id: '1.abc',
      container: { type: 'message', channel_id: 'C0PRODDATA1' },
      channel: { id: 'C0PRODDATA1', name: 'prod-data' },
      actions: [
        {
          action_id: 'approve',
          block_id: `actions:${second.body.id}`,
          value: second.body.id,
          type: 'button',
          action_ts: '1',
        },
      ],
    });
    expect(ack.payload).toEqual({});
    await waitFor(
      async () => (await api.request(String(second.body.id))).body.status === 'approved',
      'the approval over Socket Mode',
    );

    process.kill(pid, 'SIGTERM');
    const { code, stderr } = await npm.done;
    expect(code).toBe(0);
    expect(logLines(stderr).map((l) => l.msg)).toEqual(
      expect.arrayContaining(['shutting down', 'countersign stopped']),
    );
    expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);

  it('stops with the fix when the bot token is refused', async () => {
    const slack = await new SlackEmulator().start();
    cleanup.push(() => slack.stop());
    slack.invalidTokens.add('xoxb-made-up');
    const dir = mkdtempSync(join(tmpdir(), 'countersign-npm-start-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const started = spawnCaptured(process.execPath, [join(ROOT, 'dist/src/main.js')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        SLACK_BOT_TOKEN: 'xoxb-made-up',
        SLACK_SIGNING_SECRET: 'signing-secret-0123',
        SLACK_API_URL: slack.url,
        PORT: '0',
        DATABASE_PATH: join(dir, 'countersign.db'),
        COUNTERSIGN_CLIENTS: `ci=${CI_SECRET}`,
        COUNTERSIGN_DEFAULT_CHANNEL: CHANNEL,
      },
    });
    const { code, stderr } = await started.done;
    expect(code).toBe(1);
    expect(stderr).toContain(
      'Countersign cannot start: SLACK_BOT_TOKEN is not a valid token (invalid_auth): copy the Bot User OAuth Token',
    );
  });

  it('writes nothing outside the database folder (so the rest can be read-only)', async () => {
    const slack = await new SlackEmulator().start();
    cleanup.push(() => slack.stop());
    seedWorkspace(slack);
    const cwd = mkdtempSync(join(tmpdir(), 'countersign-cwd-'));
    const data = mkdtempSync(join(tmpdir(), 'countersign-data-'));
    cleanup.push(() => rmSync(cwd, { recursive: true, force: true }));
    cleanup.push(() => rmSync(data, { recursive: true, force: true }));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const server = spawnCaptured(process.execPath, [join(ROOT, 'dist/src/main.js')], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_SIGNING_SECRET: 'signing-secret-0123',
        SLACK_API_URL: slack.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_PATH: join(data, 'countersign.db'),
        COUNTERSIGN_CLIENTS: `ci=${CI_SECRET}`,
        COUNTERSIGN_DEFAULT_CHANNEL: CHANNEL,
      },
    });
    cleanup.push(async () => {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      await server.done;
    });
    const listening = await waitFor(
      () => logLines(server.err()).find((l) => String(l.msg).startsWith('countersign listening')),
      'the listening line',
      30_000,
    );
    const created = await new ApiClient(`http://127.0.0.1:${port}`, CI_SECRET).create(requestBody());
    await waitFor(
      () => slack.cards(CHANNEL).some((c) => JSON.stringify(c.blocks).includes(String(created.body.id))),
      'the card',
    );
    process.kill(listening.pid as number, 'SIGTERM');
    expect((await server.done).code).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(data).filter((f) => !/^countersign\.db(-wal|-shm)?$/.test(f))).toEqual([
      'audit-signing-key.pem',
    ]);
  }, 60_000);
});
