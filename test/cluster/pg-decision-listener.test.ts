import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { waitFor } from '../support/slack-user.js';
import { dropStoreFor, storeEnvFor, TEST_DATABASE_URL } from '../support/test-store.js';

/**
 * The connection that LISTENs for other replicas' decisions can drop; what is announced meanwhile
 * is never heard. The store must say so (waiters then re-read their requests), poll every second
 * until it listens again, and listen again by itself.
 */
const dir = mkdtempSync(join(tmpdir(), 'countersign-pg-listen-'));
// A name of its own on this store's connections, so that only its listener is cut below.
const app = `cs_listen_${randomBytes(4).toString('hex')}`;
let store: Store;
let admin: pg.Client;

beforeAll(async () => {
  const url = new URL((await storeEnvFor(dir)).DATABASE_URL as string);
  url.searchParams.set('application_name', app);
  store = await openStore({ databaseUrl: url.toString(), databasePath: '' });
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end().catch(() => {});
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
  await dropStoreFor(dir);
});

const listenerPids = async () =>
  (
    await admin.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
      [app],
    )
  ).rows.map((r) => r.pid);

describe('the decisions listener on PostgreSQL', () => {
  it('reports missed announcements when its connection drops, polls meanwhile, and listens again', async () => {
    let missed = 0;
    store.onDecisionsMissed(() => {
      missed++;
    });
    const heard: string[] = [];
    store.onDecision((id) => heard.push(id));
    await waitFor(
      async () => store.decisionPollMs() === 5000 && (await listenerPids()).length === 1,
      'listening',
    );

    const [pid] = await listenerPids();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await waitFor(() => missed === 1, 'the store to report missed announcements');
    expect(store.decisionPollMs()).toBe(1000);

    // It listens again (first retry after 1 s) on a new connection, and hears announcements again.
    await waitFor(async () => store.decisionPollMs() === 5000, 'listening again');
    const [again] = await listenerPids();
    expect(again).toBeDefined();
    expect(again).not.toBe(pid);
    await store.announceDecision('req_heard_after_reconnect');
    await waitFor(() => heard.includes('req_heard_after_reconnect'), 'the announcement');
    expect(missed).toBe(1);
  });
});
