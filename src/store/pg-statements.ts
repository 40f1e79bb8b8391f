import { and, desc, eq } from 'drizzle-orm';
import type { PgDb } from './pg-db.js';
import { AUDIT_EVENT_COLUMNS, columnsOf, p, placeholders } from './placeholders.js';
import type { NewRequestRow } from './request-rows.js';
import { auditEvents, outbox, requests } from './schema-pg.js';

/**
 * Unnamed: each runs as an unnamed statement, so no named statement is left on a server connection
 * (a pooler that hands connections around between transactions never meets one it did not
 * prepare). What is saved is the building: drizzle turning a query into SQL text cost a third of
 * a replica's CPU under intake (bench/profiles/intake-pg-before.txt).
 */
const UNNAMED = '';

interface Runnable {
  execute(values?: Record<string, unknown>): Promise<unknown>;
}

function build(db: PgDb) {
  return {
    requestById: db
      .select()
      .from(requests)
      .where(eq(requests.id, p('id')))
      .prepare(UNNAMED),
    requestByIdForUpdate: db
      .select()
      .from(requests)
      .where(eq(requests.id, p('id')))
      .for('update')
      .prepare(UNNAMED),
    requestByWebhookId: db
      .select()
      .from(requests)
      .where(and(eq(requests.client, p('client')), eq(requests.webhookId, p('webhookId'))))
      .prepare(UNNAMED),
    auditHead: db
      .select({ seq: auditEvents.seq, hash: auditEvents.hash })
      .from(auditEvents)
      .orderBy(desc(auditEvents.seq))
      .limit(1)
      .prepare(UNNAMED),
    auditInsert: db
      .insert(auditEvents)
      .values(placeholders(AUDIT_EVENT_COLUMNS) as unknown as typeof auditEvents.$inferInsert)
      .prepare(UNNAMED),
    /** Request inserts, one per set of columns written (a handful of call sites). */
    requestInserts: new Map<string, Runnable>(),
    /** Outbox inserts, one per number of rows (one to a few per change). */
    outboxInserts: new Map<number, Runnable>(),
  };
}

export type PgStatements = ReturnType<typeof build>;

const cache = new WeakMap<PgDb, PgStatements>();

/**
 * The statements of the hot paths (intake, votes, delivery) for one drizzle handle, built on first
 * use and kept as long as the handle: the pool's, or one pooled connection's (the store keeps one
 * handle per connection, so a transaction reuses what earlier ones on it built).
 */
export function statementsFor(db: PgDb): PgStatements {
  let s = cache.get(db);
  if (!s) {
    s = build(db);
    cache.set(db, s);
  }
  return s;
}

/** Inserts a request row with the statement for its set of columns; the row as stored comes back. */
export async function insertRequest(db: PgDb, row: NewRequestRow): Promise<unknown> {
  const s = statementsFor(db);
  const columns = columnsOf(row);
  const key = columns.join(',');
  let stmt = s.requestInserts.get(key);
  if (!stmt) {
    stmt = db
      .insert(requests)
      .values(placeholders(columns) as unknown as typeof requests.$inferInsert)
      .returning()
      .prepare(UNNAMED);
    s.requestInserts.set(key, stmt);
  }
  const [stored] = (await stmt.execute(row as Record<string, unknown>)) as unknown[];
  if (!stored) throw new Error('the insert of a request returned no row');
  return stored;
}

/** Inserts outbox rows (all due at `now`) with the statement for their number. */
export async function insertOutboxRows(
  db: PgDb,
  items: { kind: string; requestId: string | null; lane: string; payload: unknown }[],
  now: number,
): Promise<void> {
  const s = statementsFor(db);
  let stmt = s.outboxInserts.get(items.length);
  if (!stmt) {
    stmt = db
      .insert(outbox)
      .values(
        items.map((_, i) => ({
          kind: p(`kind${i}`),
          requestId: p(`requestId${i}`),
          lane: p(`lane${i}`),
          payload: p(`payload${i}`),
          nextAt: p('now'),
          createdAt: p('now'),
        })) as unknown as (typeof outbox.$inferInsert)[],
      )
      .prepare(UNNAMED);
    s.outboxInserts.set(items.length, stmt);
  }
  const values: Record<string, unknown> = { now };
  items.forEach((item, i) => {
    values[`kind${i}`] = item.kind;
    values[`requestId${i}`] = item.requestId;
    values[`lane${i}`] = item.lane;
    values[`payload${i}`] = item.payload;
  });
  await stmt.execute(values);
}
