import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { type Harness, requestBody, seedWorkspace, sqlRows, startHarness } from '../support/harness.js';
import { waitFor } from '../support/slack-user.js';
import { dropStoreFor } from '../support/test-store.js';

/**
 * Expiry at the deadline when the replica that took the request is gone (CONTRACT §4: within 2 s
 * of `expires_at`; §9: a killed replica loses nothing). The harness sets EXPIRY_CRON to once a
 * year, so only the other replica's deadline timer can expire the request here. Runs in the
 * `postgres` project only (SQLite is one process).
 */
let slack: SlackEmulator;
let dir: string;
let a: Harness | null = null;
let b: Harness | null = null;

beforeAll(async () => {
  slack = await new SlackEmulator().start();
  seedWorkspace(slack);
  dir = mkdtempSync(join(tmpdir(), 'countersign-expiry-replicas-'));
  // Both running before the request exists: B's timer finds nothing pending at its start.
  [a, b] = await Promise.all([startHarness({ slack, dir }), startHarness({ slack, dir })]);
});
afterAll(async () => {
  await a?.stop({ keepSlack: true, keepDir: true });
  await b?.stop({ keepSlack: true, keepDir: true });
  await slack.stop();
  rmSync(dir, { recursive: true, force: true });
  await dropStoreFor(dir);
});

describe('expiry across replicas', () => {
  it('a request made on a replica that then stops expires on another within seconds of its deadline', async () => {
    if (!a || !b) throw new Error('replicas not started');
    const created = await a.api.create(requestBody({ title: 'Made on A', ttl_seconds: 10 }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const deadline = Date.parse(created.body.expires_at as string);
    await a.stop({ keepSlack: true, keepDir: true });
    a = null;
    const other = b;

    const r = await waitFor(
      async () => {
        const res = await other.api.request(id, 5);
        return res.body.status !== 'pending' ? res.body : null;
      },
      `${id} to expire on the other replica`,
      25_000,
    );
    expect(r.status).toBe('expired');
    const late = Date.parse(r.decided_at as string) - deadline;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(5_000);
    expect(
      await sqlRows(
        other.server,
        "SELECT actor FROM audit_events WHERE request_id = ? AND type = 'request.expired'",
        id,
      ),
    ).toEqual([{ actor: 'system' }]);
  }, 45_000);
});
