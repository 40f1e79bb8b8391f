import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenDatabase, openDatabase } from '../../src/store/db.js';
import { ListingRepo } from '../../src/store/listing-repo.js';
import * as schema from '../../src/store/schema.js';

/**
 * The queries behind `/approvals list` and `mine` stay index lookups as the table grows (the
 * migration 0004 indexes): every statement ListingRepo runs is captured and planned with
 * EXPLAIN QUERY PLAN. Speed itself is measured by `npm run bench` (listing section).
 */
let dir: string;
let database: OpenDatabase;
const queries: { sql: string; params: unknown[] }[] = [];
let listing: ListingRepo;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-listing-plan-'));
  database = openDatabase(join(dir, 'countersign.db'));
  const db = drizzle(database.sqlite, {
    schema,
    logger: { logQuery: (sql, params) => queries.push({ sql, params }) },
  });
  listing = new ListingRepo(db);
});

afterAll(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

async function plans(run: () => Promise<unknown>): Promise<string[][]> {
  queries.length = 0;
  await run();
  expect(queries.length).toBeGreaterThan(0);
  return queries.map(({ sql, params }) =>
    (
      database.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(params as unknown[])) as {
        detail: string;
      }[]
    ).map((r) => r.detail),
  );
}

describe('listing queries use an index', () => {
  it('pending page: the pending index in creation order, no sort', async () => {
    for (const plan of await plans(() => listing.pendingPage(20, 10))) {
      expect(plan.join('\n')).toMatch(/USING (COVERING )?INDEX requests_pending_created/);
      expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
    }
  });

  it('pending count and per channel: read from the partial indexes', async () => {
    const count = await plans(() => listing.countPending());
    const byChannel = await plans(() => listing.pendingByChannel());
    for (const plan of [...count, ...byChannel]) {
      expect(plan.join('\n')).toMatch(/USING COVERING INDEX requests_pending_/);
      expect(plan.join('\n')).not.toMatch(/TEMP B-TREE FOR GROUP BY/);
    }
  });

  it("a person's requests: by Slack ID or email, two index lookups, never a scan of the table", async () => {
    const all = [
      ...(await plans(() => listing.requestedBy('U0BOB', 'bob@example.com', 15))),
      ...(await plans(() => listing.requestedBy('U0BOB', null, 15))),
    ];
    for (const plan of all) {
      expect(plan.join('\n')).toMatch(/INDEX requests_requester_slack/);
      expect(plan.some((line) => /^SCAN requests$/.test(line))).toBe(false);
    }
  });
});
