import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { spawnCaptured } from '../support/child.js';
import { CI_SECRET, PEOPLE, requestBody, seedWorkspace, startHarness } from '../support/harness.js';
import { cardOf, slashCommand, waitFor } from '../support/slack-user.js';

// Runs the real, built CLI (`npm test` builds first; locally run `npm run build` before vitest).
const CLI = resolve(import.meta.dirname, '../../dist/src/cli/main.js');
const DEPLOYS = 'C0DEPLOYS1';

const cleanup: (() => Promise<void> | void)[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('a channel the bot is not in: delivery_error, the CLI exits 4, delivery resumes once invited', () => {
  it('shows the fix on the request, wakes long polls, and clears it when the card posts', async () => {
    const slack = await new SlackEmulator().start();
    seedWorkspace(slack);
    // The bot was never invited to #deploys; people are in it.
    slack.addChannel({ id: DEPLOYS, name: 'deploys', is_member: false, members: [PEOPLE.bob.id] });
    const lines: string[] = [];
    const h = await startHarness({
      slack,
      env: { COUNTERSIGN_DEFAULT_CHANNEL: DEPLOYS },
      server: { log: createLogger('error', (l) => lines.push(l)) },
    });
    cleanup.push(() => h.stop());
    const cwd = mkdtempSync(join(tmpdir(), 'countersign-delivery-error-'));
    cleanup.push(() => rmSync(cwd, { recursive: true, force: true }));

    // A long poll that is already waiting is answered when the error appears, not at its end (60 s,
    // past this test's timeout): Slack's 429 holds the first post back until the poll is waiting.
    slack.failNext('chat.postMessage', 'ratelimited', { status: 429, retryAfter: 2 });
    const asked = Date.now();
    const created = await h.api.create(requestBody({ title: 'Rotate the deploy key' }));
    const first = created.body.id as string;
    const polled = await h.api.request(first, 60);
    // CONTRACT §8: the request carries the error within 10 s (here after Slack's 2 s Retry-After).
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(polled.body).toMatchObject({
      status: 'pending',
      slack_url: null,
      delivery_error: {
        code: 'not_in_channel',
        message: 'the bot is not a member of #deploys: type /invite @Countersign in #deploys',
      },
    });

    // The real CLI prints the fix and exits 4.
    const run = spawnCaptured(
      process.execPath,
      [
        CLI,
        'request',
        '--action',
        'deploy.production',
        '--title',
        'Deploy web v2.4.0',
        '--requester-slack-id',
        PEOPLE.alice.id,
        '--wait',
      ],
      {
        cwd,
        env: { PATH: process.env.PATH ?? '', COUNTERSIGN_URL: h.server.url, COUNTERSIGN_SECRET: CI_SECRET },
        stdin: 'pipe',
      },
    );
    children.push(run.child);
    const { code, stdout, stderr } = await run.done;
    expect(code).toBe(4);
    expect(stderr).toContain('type /invite @Countersign in #deploys (not_in_channel)');
    expect(stderr).toContain('Delivery resumes by itself once this is fixed.');
    const second = stdout.trim();
    expect(second).toMatch(/^req_/);

    // The logs say it as an error with the fix, and /approvals shows it.
    const errors = lines.map((l) => JSON.parse(l) as { level: string; msg: string; code?: string });
    expect(
      errors.some((e) => e.code === 'not_in_channel' && /invite @Countersign in #deploys/.test(e.msg)),
    ).toBe(true);
    const shown = await slashCommand(h, PEOPLE.bob.id, `show ${first}`);
    expect(shown.text).toContain('Slack refuses the card: the bot is not a member of #deploys');

    // Invited: both cards go out by themselves and the error is cleared.
    const channel = slack.channels.get(DEPLOYS);
    if (!channel) throw new Error('no #deploys');
    channel.is_member = true;
    for (const id of [first, second]) {
      await waitFor(() => cardOf(h, id), `the card of ${id} after the invite`, 20_000);
      // The card is in Slack a moment before the server has stored its ts and link: the request
      // catches up by itself, with nothing else needed.
      const now = await waitFor(async () => {
        const r = await h.api.request(id);
        return r.body.slack_url ? r : null;
      }, `the link of ${id} stored after its card posted`);
      expect(now.body.delivery_error).toBeNull();
      expect(now.body.slack_url).toEqual(expect.any(String));
    }
  }, 60_000);
});
