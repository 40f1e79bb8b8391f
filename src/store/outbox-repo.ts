import { and, asc, eq, isNull, lt, lte, notInArray, sql } from 'drizzle-orm';
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

/** Repository for the outbox table. Enqueue inside the transaction of the change it announces. */
export class OutboxRepo {
  constructor(private readonly db: Db) {}

  enqueue(items: NewOutboxItem[], now: number): void {
    if (items.length === 0) return;
    this.db
      .insert(outbox)
      .values(items.map((i) => ({ ...i, nextAt: now, createdAt: now })))
      .run();
  }

  /** Due rows in id order, skipping lanes that are blocked (rate limited) right now. */
  due(now: number, limit: number, blockedLanes: string[]): OutboxRow[] {
    const conditions = [open, lte(outbox.nextAt, now)];
    if (blockedLanes.length > 0) conditions.push(notInArray(outbox.lane, blockedLanes));
    return this.db
      .select()
      .from(outbox)
      .where(and(...conditions))
      .orderBy(asc(outbox.id))
      .limit(limit)
      .all();
  }

  /** Whether an earlier row for the same request and lane is still undelivered (order must hold). */
  hasEarlierOpen(row: OutboxRow): boolean {
    if (row.requestId === null) return false;
    const found = this.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(and(open, eq(outbox.requestId, row.requestId), eq(outbox.lane, row.lane), lt(outbox.id, row.id)))
      .limit(1)
      .get();
    return found !== undefined;
  }

  markDone(id: number, now: number): void {
    this.db.update(outbox).set({ doneAt: now, lastError: null }).where(eq(outbox.id, id)).run();
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

  /** When the next open row becomes due (for the worker's timer), or null when the outbox is empty. */
  nextDueAt(): number | null {
    const row = this.db
      .select({ at: sql<number>`min(${outbox.nextAt})` })
      .from(outbox)
      .where(open)
      .get();
    return row?.at ?? null;
  }

  openCount(): number {
    const row = this.db.select({ n: sql<number>`count(*)` }).from(outbox).where(open).get();
    return row?.n ?? 0;
  }

  get(id: number): OutboxRow | null {
    return this.db.select().from(outbox).where(eq(outbox.id, id)).get() ?? null;
  }
}
