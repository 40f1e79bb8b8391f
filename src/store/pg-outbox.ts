import {
  and,
  asc,
  count,
  eq,
  gt,
  inArray,
  isNotNull,
  isNull,
  lte,
  min,
  notInArray,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
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
 * for all in `outbox_lanes`. Only the holder of a claim retries or gives up its row (`claimed_by`):
 * a replica whose lease ran out while it worked cannot undo the claim of the one that took over.
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
      for (
        let lane = await nextLane(db, '', now, skip);
        lane !== null;
        lane = await nextLane(db, lane, now, skip)
      ) {
        if (serialTaken >= want.serial && parallelTaken >= want.parallel) break;
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
          // claim is older than this lock and cannot answer it. A live claim on a row that is no
          // longer open counts too: its holder still runs it (another replica, whose lease had run
          // out, marked it done meanwhile).
          const [held] = await db
            .execute<{ held: boolean }>(
              sql`SELECT EXISTS (SELECT 1 FROM ${outbox} WHERE ${and(eq(outbox.lane, lane), gt(outbox.claimedUntil, lease.at))})
                  OR EXISTS (SELECT 1 FROM ${outboxLanes} WHERE ${and(eq(outboxLanes.lane, lane), gt(outboxLanes.pausedUntil, lease.at))}) AS held`,
            )
            .then((r) => r.rows);
          if (held?.held) continue;
        }
        const rows = serial
          ? await serialHead(db, lane, now, lease.at)
          : await parallelDue(db, lane, now, lease.at, want.parallel - parallelTaken);
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
    // Every claim of `owner`, on open rows or not (see markDone): a few rows in `outbox_claimed`.
    await this.db
      .update(outbox)
      .set({ claimedBy: null, claimedUntil: null })
      .where(
        and(
          isNotNull(outbox.claimedUntil),
          eq(outbox.claimedBy, owner),
          ids ? inArray(outbox.id, ids) : undefined,
        ),
      );
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

  async markDone(owner: string, ids: number[], now: number): Promise<void> {
    if (ids.length === 0) return;
    // Done whoever holds the row: the work was done. Only `owner`'s claim is dropped; another
    // replica's (it took the row over when our lease ran out) stays until it settles, so its lane
    // stays busy while it still runs the row.
    const mine = sql`${outbox.claimedBy} = ${owner}`;
    await this.db
      .update(outbox)
      .set({
        doneAt: now,
        lastError: null,
        claimedBy: sql`CASE WHEN ${mine} THEN NULL ELSE ${outbox.claimedBy} END`,
        claimedUntil: sql`CASE WHEN ${mine} THEN NULL ELSE ${outbox.claimedUntil} END`,
      })
      .where(inArray(outbox.id, ids));
  }

  async retryLater(
    owner: string,
    id: number,
    nextAt: number,
    error: string,
    countAttempt = true,
  ): Promise<boolean> {
    const set = await this.db
      .update(outbox)
      .set({
        nextAt,
        lastError: error.slice(0, 1000),
        attempts: countAttempt ? sql`${outbox.attempts} + 1` : outbox.attempts,
        claimedBy: null,
        claimedUntil: null,
      })
      .where(and(eq(outbox.id, id), eq(outbox.claimedBy, owner), open))
      .returning({ id: outbox.id });
    return set.length > 0 || (await this.dropClaim(owner, id));
  }

  async giveUp(owner: string, id: number, now: number, error: string): Promise<boolean> {
    const set = await this.db
      .update(outbox)
      .set({
        gaveUpAt: now,
        lastError: error.slice(0, 1000),
        attempts: sql`${outbox.attempts} + 1`,
        claimedBy: null,
        claimedUntil: null,
      })
      .where(and(eq(outbox.id, id), eq(outbox.claimedBy, owner), open))
      .returning({ id: outbox.id });
    return set.length > 0 || (await this.dropClaim(owner, id));
  }

  /** `owner`'s claim on a row another replica already settled: dropped, nothing else changed. */
  private async dropClaim(owner: string, id: number): Promise<false> {
    await this.db
      .update(outbox)
      .set({ claimedBy: null, claimedUntil: null })
      .where(and(eq(outbox.id, id), eq(outbox.claimedBy, owner)));
    return false;
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

/**
 * The first lane after `after`, not in `skip`, with a due open row. The lanes with open rows are
 * listed by a skip scan of `outbox_open_lane_due` (one seek per lane, however many rows it holds)
 * and each is asked for a due row with one more seek (`next_at` follows `lane` in that index), so
 * rows that are not due yet are never read.
 */
async function nextLane(db: PgDb, after: string, now: number, skip: Set<string>): Promise<string | null> {
  const skipped =
    skip.size === 0
      ? sql``
      : sql`AND lanes.lane NOT IN (${sql.join(
          [...skip].map((l) => sql`${l}`),
          sql`, `,
        )})`;
  const { rows } = await db.execute<{ lane: string }>(sql`
    WITH RECURSIVE lanes(lane) AS (
      (SELECT lane FROM outbox WHERE done_at IS NULL AND gave_up_at IS NULL AND lane > ${after} ORDER BY lane LIMIT 1)
      UNION ALL
      SELECT (SELECT o.lane FROM outbox o WHERE o.done_at IS NULL AND o.gave_up_at IS NULL AND o.lane > lanes.lane
              ORDER BY o.lane LIMIT 1)
      FROM lanes WHERE lanes.lane IS NOT NULL
    )
    SELECT lane FROM lanes WHERE lanes.lane IS NOT NULL ${skipped}
      AND EXISTS (SELECT 1 FROM outbox d WHERE d.done_at IS NULL AND d.gave_up_at IS NULL AND d.lane = lanes.lane
                  AND d.next_at <= ${now})
    LIMIT 1`);
  return rows[0]?.lane ?? null;
}

/**
 * The row a Slack lane runs next: its due row with the lowest id that no earlier open row of its
 * request holds back (a row refused by a 429 goes first again once the pause is over). The ids of
 * the lane's due rows come from `outbox_open_lane_due` (an entry per due row, none for rows not
 * due); rows are read from the lowest id on, until one qualifies. A Slack lane runs a row at a
 * time, at Slack's pace, so this runs about once per row.
 */
function serialHead(db: PgDb, lane: string, now: number, at: number): Promise<{ id: number }[]> {
  const dueIds: SQL = sql`ARRAY(SELECT d.id FROM outbox d WHERE d.done_at IS NULL AND d.gave_up_at IS NULL
    AND d.lane = ${lane} AND d.next_at <= ${now})`;
  return db
    .select({ id: outbox.id })
    .from(outbox)
    .where(
      and(
        sql`${outbox.id} = ANY (${dueIds})`,
        open,
        eq(outbox.lane, lane),
        lte(outbox.nextAt, now),
        unclaimed(at),
        noEarlierOpen,
      ),
    )
    .orderBy(asc(outbox.id))
    .limit(1)
    .for('update', { skipLocked: true });
}

/**
 * Up to `limit` due rows of a parallel lane (callbacks), earliest due first: a walk of
 * `outbox_open_lane_due` from the lane's first due row that stops after `limit` rows qualify (rows
 * of a request still go in id order: an earlier open row holds a later one back).
 */
function parallelDue(
  db: PgDb,
  lane: string,
  now: number,
  at: number,
  limit: number,
): Promise<{ id: number }[]> {
  return db
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(open, eq(outbox.lane, lane), lte(outbox.nextAt, now), unclaimed(at), noEarlierOpen))
    .orderBy(asc(outbox.nextAt), asc(outbox.id))
    .limit(limit)
    .for('update', { skipLocked: true });
}
