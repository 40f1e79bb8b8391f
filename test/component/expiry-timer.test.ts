import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { type Harness, requestBody, seedWorkspace, sqlRows, startHarness } from '../support/harness.js';
import { waitFor } from '../support/slack-user.js';

// The harness sets EXPIRY_CRON to once a year and nothing here calls the sweep: a request that
// expires did so on the deadline timer.

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Long-polls until the request leaves pending (the long poll is woken by the expiry itself). */
function decided(h: Harness, id: string) {
  return waitFor(
    async () => {
      const r = await h.api.request(id, 20);
      return r.body.status !== 'pending' ? r.body : null;
    },
    `${id} to leave pending`,
    25_000,
  );
}

function expiredEvents(h: Harness, id: string) {
  return sqlRows<{ actor: string }>(
    h.server,
    "SELECT actor FROM audit_events WHERE request_id = ? AND type = 'request.expired'",
    id,
  );
}

describe('expiry at the deadline (a timer; the cron is only the safety sweep)', () => {
  it('expires a short request on its own, re-arming for an earlier deadline than the one it waited for', async () => {
    const h = await startHarness();
    cleanup.push(() => h.stop());
    // The timer is set for the hour-long request first; the 10-second one must move it earlier.
    const long = await h.api.create(requestBody({ ttl_seconds: 3600, title: 'Long' }));
    const short = await h.api.create(requestBody({ ttl_seconds: 10, title: 'Short' }));
    expect([long.status, short.status]).toEqual([201, 201]);
    const id = short.body.id as string;

    const r = await decided(h, id);
    expect(r).toMatchObject({ status: 'expired', decided_by: 'system' });
    expect(await expiredEvents(h, id)).toEqual([{ actor: 'system' }]);
    expect((await h.api.request(long.body.id as string)).body.status).toBe('pending');
  }, 40_000);

  it('after a restart: a request made before it expires on the timer armed at start', async () => {
    const slack = await new SlackEmulator().start();
    seedWorkspace(slack);
    cleanup.push(() => slack.stop());
    const dir = mkdtempSync(join(tmpdir(), 'countersign-expiry-restart-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));

    const first = await startHarness({ slack, dir });
    const created = await first.api.create(requestBody({ ttl_seconds: 10 }));
    const id = created.body.id as string;
    await first.stop({ keepSlack: true, keepDir: true });

    const second = await startHarness({ slack, dir });
    cleanup.push(() => second.stop({ keepSlack: true, keepDir: true }));
    const restarted = Date.now();
    const r = await decided(second, id);
    expect(r.status).toBe('expired');
    // Not the sweep that runs during the start (for requests that fell due while it was down).
    expect(Date.parse(r.decided_at as string)).toBeGreaterThanOrEqual(restarted - 1);
    expect(await expiredEvents(second, id)).toEqual([{ actor: 'system' }]);
  }, 40_000);
});
