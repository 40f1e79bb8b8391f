import { and, asc, eq, gt, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { outbox } from './schema.js';

export type OutboxRow = typeof outbox.$inferSelect;

export interface NewOutboxItem {
  kind: string;
  requestId: string | null;
  lane: string;
  payload: unknown;
}

const open = and(isNull(outbox.doneAt), isNull(outbox.gaveUpAt));
const p = (name: string) => sql.placeholder(name);

/**
 * The statements the worker runs on every pass, prepared once. Delivered rows stay in the table, so
 * nothing here may scan it: each query is answered from a partial index over the open rows.
 */
function statements(db: Db) {
  return {
    insert: db
      .insert(outbox)
      .values({
        kind: p('kind'),
        requestId: p('requestId'),
        lane: p('lane'),
        payload: p('payload'),
        nextAt: p('now'),
        createdAt: p('now'),
      })
      .prepare(),
    /**
     * The first lane after `after` that has open rows: one seek on the partial index
     * `outbox_open_lane`, so listing the lanes costs a seek per lane however many rows wait.
     */
    nextLane: db
      .select({ lane: outbox.lane })
      .from(outbox)
      .where(and(open, gt(outbox.lane, p('after'))))
      .orderBy(asc(outbox.lane))
      .limit(1)
      .prepare(),
    dueInLane: db
      .select()
      .from(outbox)
      .where(and(open, eq(outbox.lane, p('lane')), lte(outbox.nextAt, p('now'))))
      .orderBy(asc(outbox.id))
      .limit(p('limit'))
      .prepare(),
    earlierOpen: db
      .select({ id: outbox.id })
      .from(outbox)
      .where(
        and(open, eq(outbox.requestId, p('requestId')), eq(outbox.lane, p('lane')), lt(outbox.id, p('id'))),
      )
      .limit(1)
      .prepare(),
    markDone: db
      .update(outbox)
      .set({ doneAt: sql`${p('now')}`, lastError: null })
      .where(eq(outbox.id, p('id')))
      .prepare(),
  };
}

/** Repository for the outbox table. Enqueue inside the transaction of the change it announces. */
export class OutboxRepo {
  private readonly q: ReturnType<typeof statements>;

  constructor(private readonly db: Db) {
    this.q = statements(db);
  }

  enqueue(items: NewOutboxItem[], now: number): void {
    for (const i of items) this.q.insert.run({ ...i, now });
  }

  /**
   * Due rows, in id order within each lane (at most `limit` per lane), skipping lanes that are
   * blocked (busy or rate limited) right now: a blocked lane costs nothing however long its queue.
   */
  due(now: number, limit: number, blockedLanes: string[]): OutboxRow[] {
    const blocked = new Set(blockedLanes);
    const rows: OutboxRow[] = [];
    for (let lane = this.q.nextLane.get({ after: '' })?.lane; lane !== undefined; ) {
      if (!blocked.has(lane)) rows.push(...this.q.dueInLane.all({ lane, now, limit }));
      lane = this.q.nextLane.get({ after: lane })?.lane;
    }
    return rows.sort((a, b) => a.id - b.id);
  }

  /** Whether an earlier row for the same request and lane is still undelivered (order must hold). */
  hasEarlierOpen(row: OutboxRow): boolean {
    if (row.requestId === null) return false;
    return this.q.earlierOpen.get({ requestId: row.requestId, lane: row.lane, id: row.id }) !== undefined;
  }

  markDone(id: number, now: number): void {
    this.q.markDone.run({ id, now });
  }

  /** Open rows of one kind for one request. */
  openIds(requestId: string, kind: string): number[] {
    return this.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(and(open, eq(outbox.requestId, requestId), eq(outbox.kind, kind)))
      .all()
      .map((r) => r.id);
  }

  retryLater(id: number, nextAt: number, error: string, countAttempt = true): void {
    this.db
      .update(outbox)
      .set({
        nextAt,
        lastError: error.slice(0, 1000),
        attempts: countAttempt ? sql`${outbox.attempts} + 1` : outbox.attempts,
      })
      .where(eq(outbox.id, id))
      .run();
  }

  giveUp(id: number, now: number, error: string): void {
    this.db
      .update(outbox)
      .set({ gaveUpAt: now, lastError: error.slice(0, 1000), attempts: sql`${outbox.attempts} + 1` })
      .where(eq(outbox.id, id))
      .run();
  }

  openCount(): number {
    const row = this.db.select({ n: sql<number>`count(*)` }).from(outbox).where(open).get();
    return row?.n ?? 0;
  }
}
