import { and, asc, count, eq, gt, inArray, isNull, lte, min, notInArray, or, sql } from 'drizzle-orm';
import { serialLane } from './outbox-repo.js';
import type { OutboxRow } from './outbox-rows.js';
import type { PgDb } from './pg-db.js';
import { insertOutboxRows } from './pg-statements.js';
import { outbox, outboxLanes } from './schema-pg.js';
import type { ClaimWant, NewOutboxItem, OutboxStore } from './store.js';

const open = and(isNull(outbox.doneAt), isNull(outbox.gaveUpAt));
/** No earlier row of the same request in the same lane is still open (rows of a request run in order). */
const noEarlierOpen = sql.raw(
  'NOT EXISTS (SELECT 1 FROM outbox e WHERE e.request_id = outbox.request_id AND e.lane = outbox.lane AND e.id < outbox.id AND e.done_at IS NULL AND e.gave_up_at IS NULL)',
);
const unclaimed = (now: number) => or(isNull(outbox.claimedUntil), lte(outbox.claimedUntil, now));

/**
 * The outbox on PostgreSQL, shared by every replica. A claim is a committed lease (`claimed_by`,
 * `claimed_until`): rows are picked `FOR UPDATE SKIP LOCKED`, so replicas claiming at the same
 * moment take different rows, and a replica that dies leaves rows whose lease simply runs out.
 * A Slack lane runs one row at a time across replicas: its claim happens under a transaction
 * advisory lock on the lane, after checking no live claim holds a row of it. A 429 pauses a lane
 * for all in `outbox_lanes`.
 */
export class PgOutbox implements OutboxStore {
  constructor(
    private readonly db: PgDb,
    /** Runs `fn` in a transaction (claims need one; the store gives it). */
    private readonly inTx: <T>(fn: (db: PgDb) => Promise<T>) => Promise<T>,
  ) {}

  async enqueue(items: NewOutboxItem[], now: number): Promise<void> {
    if (items.length === 0) return;
    await insertOutboxRows(this.db, items, now);
  }

  claim(
    owner: string,
    now: number,
    want: ClaimWant,
    lease: { at: number; ms: number },
  ): Promise<OutboxRow[]> {
    return this.inTx(async (db) => {
      const paused = (
        await db
          .select({ lane: outboxLanes.lane })
          .from(outboxLanes)
          .where(gt(outboxLanes.pausedUntil, lease.at))
      ).map((r) => r.lane);
      const skip = new Set([...paused, ...(want.skipLanes ?? [])]);
      const ids: number[] = [];
      let serialTaken = 0;
      let parallelTaken = 0;
      for (let after = await nextLane(db, '', now); after !== null; after = await nextLane(db, after, now)) {
        if (serialTaken >= want.serial && parallelTaken >= want.parallel) break;
        const lane = after;
        if (skip.has(lane)) continue;
        const serial = serialLane(lane);
        if (serial ? serialTaken >= want.serial : parallelTaken >= want.parallel) continue;
        if (serial) {
          const [got] = await db
            .execute<{ ok: boolean }>(
              sql`SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.lane.' || ${lane})) AS ok`,
            )
            .then((r) => r.rows);
          if (!got?.ok) continue;
          // Held by a live claim or paused, asked in ONE statement (one snapshot): a replica that
          // got a 429 releases its claim and writes the pause in one commit, so this sees either
          // its claim or its pause, never the gap between. The pause list read at the top of the
          // claim is older than this lock and cannot answer it.
          const [held] = await db
            .execute<{ held: boolean }>(
              sql`SELECT EXISTS (SELECT 1 FROM ${outbox} WHERE ${and(open, eq(outbox.lane, lane), gt(outbox.claimedUntil, lease.at))})
                  OR EXISTS (SELECT 1 FROM ${outboxLanes} WHERE ${and(eq(outboxLanes.lane, lane), gt(outboxLanes.pausedUntil, lease.at))}) AS held`,
            )
            .then((r) => r.rows);
          if (held?.held) continue;
        }
        const rows = await db
          .select({ id: outbox.id })
          .from(outbox)
          .where(
            and(open, eq(outbox.lane, lane), lte(outbox.nextAt, now), unclaimed(lease.at), noEarlierOpen),
          )
          .orderBy(asc(outbox.id))
          .limit(serial ? 1 : want.parallel - parallelTaken)
          .for('update', { skipLocked: true });
        ids.push(...rows.map((r) => r.id));
        if (serial) serialTaken += rows.length;
        else parallelTaken += rows.length;
      }
      if (ids.length === 0) return [];
      const claimed = await db
        .update(outbox)
        .set({ claimedBy: owner, claimedUntil: lease.at + lease.ms })
        .where(inArray(outbox.id, ids))
        .returning();
      return (claimed as OutboxRow[]).sort((a, b) => a.id - b.id);
    });
  }

  async extend(owner: string, ids: number[], until: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .update(outbox)
      .set({ claimedUntil: until })
      .where(and(inArray(outbox.id, ids), eq(outbox.claimedBy, owner)));
  }

  async release(owner: string, ids?: number[]): Promise<void> {
    if (ids?.length === 0) return;
    await this.db
      .update(outbox)
      .set({ claimedBy: null, claimedUntil: null })
      .where(and(open, eq(outbox.claimedBy, owner), ids ? inArray(outbox.id, ids) : undefined));
  }

  async pauseLane(lane: string, until: number): Promise<void> {
    await this.db
      .insert(outboxLanes)
      .values({ lane, pausedUntil: until })
      .onConflictDoUpdate({
        target: outboxLanes.lane,
        set: { pausedUntil: sql`greatest(${outboxLanes.pausedUntil}, excluded.paused_until)` },
      });
  }

  async markDone(ids: number[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .update(outbox)
      .set({ doneAt: now, lastError: null, claimedBy: null, claimedUntil: null })
      .where(inArray(outbox.id, ids));
  }

  async retryLater(id: number, nextAt: number, error: string, countAttempt = true): Promise<void> {
    await this.db
      .update(outbox)
      .set({
        nextAt,
        lastError: error.slice(0, 1000),
        attempts: countAttempt ? sql`${outbox.attempts} + 1` : outbox.attempts,
        claimedBy: null,
        claimedUntil: null,
      })
      .where(eq(outbox.id, id));
  }

  async giveUp(id: number, now: number, error: string): Promise<void> {
    await this.db
      .update(outbox)
      .set({
        gaveUpAt: now,
        lastError: error.slice(0, 1000),
        attempts: sql`${outbox.attempts} + 1`,
        claimedBy: null,
        claimedUntil: null,
      })
      .where(eq(outbox.id, id));
  }

  async openIds(requestId: string, kind: string): Promise<number[]> {
    const rows = await this.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(and(open, eq(outbox.requestId, requestId), eq(outbox.kind, kind)));
    return rows.map((r) => r.id);
  }

  async anyDue(now: number, wall: number): Promise<boolean> {
    const paused = this.db
      .select({ lane: outboxLanes.lane })
      .from(outboxLanes)
      .where(gt(outboxLanes.pausedUntil, wall));
    const rows = await this.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(and(open, lte(outbox.nextAt, now), notInArray(outbox.lane, paused)))
      .limit(1);
    return rows.length > 0;
  }

  async openCount(): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(outbox).where(open);
    return Number(row?.n ?? 0);
  }

  async openSummary(): Promise<{ rows: number; oldestCreatedAt: number | null }> {
    const [row] = await this.db
      .select({ rows: count(), oldest: min(outbox.createdAt) })
      .from(outbox)
      .where(open);
    return { rows: Number(row?.rows ?? 0), oldestCreatedAt: row?.oldest == null ? null : Number(row.oldest) };
  }
}

/** The first lane after `after` with due open rows (one index seek on `outbox_open_lane` per lane). */
async function nextLane(db: PgDb, after: string, now: number): Promise<string | null> {
  const [row] = await db
    .select({ lane: outbox.lane })
    .from(outbox)
    .where(and(open, gt(outbox.lane, after), lte(outbox.nextAt, now)))
    .orderBy(asc(outbox.lane))
    .limit(1);
  return row?.lane ?? null;
}
