import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { spawnCaptured } from '../support/child.js';
import { ApiClient, CHANNEL, CI_SECRET, requestBody, SIGNING_SECRET } from '../support/harness.js';
import { waitFor } from '../support/slack-user.js';

const MAIN = join(import.meta.dirname, '../../dist/src/main.js');
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function run(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  // cwd: a temp folder, so no stray .env from the developer's checkout is loaded.
  const started = spawnCaptured(process.execPath, [MAIN], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  const exited = started.done.then((r) => r.code);
  cleanup.push(async () => {
    if (started.child.exitCode === null) started.child.kill('SIGKILL');
    await exited;
  });
  return { child: started.child, output: () => started.out() + started.err(), exited };
}

describe('the server process (npm start)', () => {
  it('serves /healthz, /api/v1 and /slack/events on one port and exits 0 on SIGTERM', async () => {
    const slack = await new SlackEmulator().start();
    cleanup.push(() => slack.stop());
    const dir = mkdtempSync(join(tmpdir(), 'countersign-proc-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const p = run({
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_PATH: join(dir, 'db', 'countersign.db'),
      COUNTERSIGN_CLIENTS: `ci=${CI_SECRET}`,
      COUNTERSIGN_DEFAULT_CHANNEL: CHANNEL,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () =>
        (await fetch(`${base}/healthz`).then(
          (r) => r.status,
          () => 0,
        )) === 200,
      'the server to accept work',
      15_000,
    );
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ok: true });

    const created = await new ApiClient(base, CI_SECRET).create(requestBody());
    expect(created.status).toBe(201);

    const body = JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 't' });
    const ts = Math.floor(Date.now() / 1000);
    const sig = `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    const slackRes = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': sig,
      },
      body,
    });
    expect(slackRes.status).toBe(200);
    expect(await slackRes.text()).toContain('abc123');
    const future = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': String(ts + 301),
        'x-slack-signature': sig,
      },
      body,
    });
    expect(future.status).toBe(401);

    await waitFor(() => slack.cards().length === 1, 'the card');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.output()).toContain('countersign stopped');
  }, 30_000);

  it('refuses to start with one message naming every bad variable', async () => {
    const p = run({ SLACK_BOT_TOKEN: 'xoxp-wrong', PORT: 'x' });
    expect(await p.exited).toBe(1);
    const out = p.output();
    for (const name of [
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'PORT',
      'COUNTERSIGN_CLIENTS',
      'COUNTERSIGN_DEFAULT_CHANNEL',
    ]) {
      expect(out).toContain(name);
    }
    expect(out).toContain('.env.example');
  });
});
