import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { type Harness, PEOPLE, requestBody, startHarness } from '../support/harness.js';
import { cardOf, click, waitFor } from '../support/slack-user.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function fakeSlack(): Promise<SlackEmulator> {
  const slack = await new SlackEmulator().start();
  for (const p of Object.values(PEOPLE)) slack.addUser(p);
  cleanup.push(() => slack.stop());
  return slack;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-restart-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('a restart on the same database', () => {
  it('keeps pending requests pending and still approvable', async () => {
    const slack = await fakeSlack();
    const dir = tempDir();
    let h: Harness = await startHarness({ slack, dir });
    const created = await h.api.create(requestBody());
    const id = created.body.id as string;
    await waitFor(() => cardOf(h, id), 'the card');
    await h.stop({ keepSlack: true, keepDir: true });

    h = await startHarness({ slack, dir });
    cleanup.push(() => h.stop({ keepSlack: true, keepDir: true }));
    expect((await h.api.request(id)).body.status).toBe('pending');
    await click(h, PEOPLE.bob.id, id, 'approve');
    const got = await waitFor(async () => {
      const r = await h.api.request(id);
      return r.body.status === 'approved' ? r : null;
    }, 'approval after restart');
    expect(got.body.votes).toHaveLength(1);
    expect(slack.cards()).toHaveLength(1);
  });

  it('delivers an outbox row that had not been delivered before the restart', async () => {
    const slack = await fakeSlack();
    const dir = tempDir();
    let h: Harness = await startHarness({ slack, dir });
    // Slack is failing while the request arrives: the card cannot be posted yet.
    for (let i = 0; i < 50; i++) slack.failNext('chat.postMessage', 'service_unavailable');
    const created = await h.api.create(requestBody({ title: 'Posted after restart' }));
    const id = created.body.id as string;
    await waitFor(() => slack.callsOf('chat.postMessage').length > 0, 'a first failed attempt');
    await h.stop({ keepSlack: true, keepDir: true });
    expect(slack.cards()).toHaveLength(0);

    slack.clearFailures();
    h = await startHarness({ slack, dir });
    cleanup.push(() => h.stop({ keepSlack: true, keepDir: true }));
    const card = await waitFor(() => cardOf(h, id), 'the card after restart', 10_000);
    expect(card.text).toContain('Posted after restart');
  });
});
