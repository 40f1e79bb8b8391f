import { and, asc, eq, gt, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import type { OutboxRow } from './outbox-rows.js';
import { p } from './placeholders.js';
import { outbox } from './schema.js';
import type { ClaimWant, NewOutboxItem, OutboxStore } from './store.js';

const open = and(isNull(outbox.doneAt), isNull(outbox.gaveUpAt));

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
     * `outbox_open_lane_due`, so listing the lanes costs a seek per lane however many rows wait.
     */
    nextLane: db
      .select({ lane: outbox.lane })
      .from(outbox)
      .where(and(open, gt(outbox.lane, p('after'))))
      .orderBy(asc(outbox.lane))
      .limit(1)
      .prepare(),
    /** Whether a lane has a due row: one seek (`next_at` follows `lane` in the index). */
    hasDue: db
      .select({ id: outbox.id })
      .from(outbox)
      .where(and(open, eq(outbox.lane, p('lane')), lte(outbox.nextAt, p('now'))))
      .limit(1)
      .prepare(),
    /**
     * A Slack lane's due rows, lowest id first (a row refused by a 429 goes first again once the
     * pause is over): their ids come from the index alone, rows not yet due are never read.
     */
    serialDue: db
      .select()
      .from(outbox)
      .where(
        inArray(
          outbox.id,
          db
            .select({ id: outbox.id })
            .from(outbox)
            .where(and(open, eq(outbox.lane, p('lane')), lte(outbox.nextAt, p('now'))))
            .orderBy(asc(outbox.id))
            .limit(p('limit')),
        ),
      )
      .orderBy(asc(outbox.id))
      .prepare(),
    /** Another lane's due rows, earliest due first: a walk of the index from its first due row. */
    parallelDue: db
      .select()
      .from(outbox)
      .where(and(open, eq(outbox.lane, p('lane')), lte(outbox.nextAt, p('now'))))
      .orderBy(asc(outbox.nextAt), asc(outbox.id))
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

/** Lanes whose rows run one at a time (each Slack channel), whoever claims them. */
export const serialLane = (lane: string) => lane.startsWith('slack:');

/**
 * The outbox on SQLite. One process owns the file, so claims, leases and lane pauses live in
 * memory here (a restart starts with none, so nothing waits for a lease to run out); the rows and
 * their schedule live in the table. As on PostgreSQL, only the holder of a claim retries or gives
 * up its row.
 */
export class SqliteOutbox implements OutboxStore {
  private readonly q: ReturnType<typeof statements>;
  private readonly claims = new Map<number, { owner: string; until: number; lane: string }>();
  private readonly paused = new Map<string, number>();

  constructor(private readonly db: Db) {
    this.q = statements(db);
  }

  async enqueue(items: NewOutboxItem[], now: number): Promise<void> {
    for (const i of items) this.q.insert.run({ ...i, now });
  }

  async claim(
    owner: string,
    now: number,
    want: ClaimWant,
    lease: { at: number; ms: number },
  ): Promise<OutboxRow[]> {
    // A claim whose lease ran out is no longer live, but stays its owner's until another takes the
    // row (as `claimed_by` does on PostgreSQL): a late retryLater or giveUp of its own still applies.
    const busy = new Set<string>();
    for (const c of this.claims.values()) if (c.until > lease.at && serialLane(c.lane)) busy.add(c.lane);
    const blocked = [...busy, ...this.pausedLanes(lease.at), ...(want.skipLanes ?? [])];
    // A serial lane starts one row per claim; a few more cover rows held behind an earlier one.
    const rows = this.due(now, Math.max(want.serial, want.parallel, 1) * 2, blocked);
    const held = new Set<string>();
    const out: OutboxRow[] = [];
    let serial = 0;
    let parallel = 0;
    for (const row of rows) {
      if (serial >= want.serial && parallel >= want.parallel) break;
      if ((this.claims.get(row.id)?.until ?? 0) > lease.at) continue;
      if (serialLane(row.lane) ? serial >= want.serial : parallel >= want.parallel) continue;
      const orderKey = `${row.requestId}|${row.lane}`;
      if (held.has(orderKey) || (serialLane(row.lane) && busy.has(row.lane))) continue;
      held.add(orderKey);
      if (this.hasEarlierOpen(row)) continue;
      if (serialLane(row.lane)) {
        busy.add(row.lane);
        serial++;
      } else parallel++;
      this.claims.set(row.id, { owner, until: lease.at + lease.ms, lane: row.lane });
      out.push(row);
    }
    return out;
  }

  async extend(owner: string, ids: number[], until: number): Promise<void> {
    for (const id of ids) {
      const c = this.claims.get(id);
      if (c?.owner === owner) c.until = until;
    }
  }

  async release(owner: string, ids?: number[]): Promise<void> {
    const only = ids ? new Set(ids) : null;
    for (const [id, c] of this.claims)
      if (c.owner === owner && (only === null || only.has(id))) this.claims.delete(id);
  }

  async pauseLane(lane: string, until: number): Promise<void> {
    this.paused.set(lane, Math.max(until, this.paused.get(lane) ?? 0));
  }

  private pausedLanes(now: number): string[] {
    const out: string[] = [];
    for (const [lane, until] of this.paused) {
      if (until > now) out.push(lane);
      else this.paused.delete(lane);
    }
    return out;
  }

  /**
   * Due rows, at most `limit` per lane (a Slack lane's lowest ids, another lane's earliest due),
   * in id order, skipping lanes that are blocked (busy or rate limited) right now: a blocked lane
   * costs nothing however long its queue, and rows not yet due are never read.
   */
  due(now: number, limit: number, blockedLanes: string[]): OutboxRow[] {
    const blocked = new Set(blockedLanes);
    const rows: OutboxRow[] = [];
    for (let lane = this.q.nextLane.get({ after: '' })?.lane; lane !== undefined; ) {
      if (!blocked.has(lane))
        rows.push(...(serialLane(lane) ? this.q.serialDue : this.q.parallelDue).all({ lane, now, limit }));
      lane = this.q.nextLane.get({ after: lane })?.lane;
    }
    return rows.sort((a, b) => a.id - b.id);
  }

  /** Whether an earlier row for the same request and lane is still undelivered (order must hold). */
  private hasEarlierOpen(row: OutboxRow): boolean {
    if (row.requestId === null) return false;
    return this.q.earlierOpen.get({ requestId: row.requestId, lane: row.lane, id: row.id }) !== undefined;
  }

  async anyDue(now: number, wall: number): Promise<boolean> {
    const paused = new Set(this.pausedLanes(wall));
    for (let lane = this.q.nextLane.get({ after: '' })?.lane; lane !== undefined; ) {
      if (!paused.has(lane) && this.q.hasDue.get({ lane, now }) !== undefined) return true;
      lane = this.q.nextLane.get({ after: lane })?.lane;
    }
    return false;
  }

  async markDone(owner: string, ids: number[], now: number): Promise<void> {
    for (const id of ids) {
      this.q.markDone.run({ id, now });
      // Another worker's claim stays until it settles: its lane stays busy while it runs the row.
      if (this.claims.get(id)?.owner === owner) this.claims.delete(id);
    }
  }

  async openIds(requestId: string, kind: string): Promise<number[]> {
    return this.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(and(open, eq(outbox.requestId, requestId), eq(outbox.kind, kind)))
      .all()
      .map((r) => r.id);
  }

  async retryLater(
    owner: string,
    id: number,
    nextAt: number,
    error: string,
    countAttempt = true,
  ): Promise<boolean> {
    if (!this.dropClaim(owner, id)) return false;
    const { changes } = this.db
      .update(outbox)
      .set({
        nextAt,
        lastError: error.slice(0, 1000),
        attempts: countAttempt ? sql`${outbox.attempts} + 1` : outbox.attempts,
      })
      .where(and(eq(outbox.id, id), open))
      .run();
    return changes > 0;
  }

  async giveUp(owner: string, id: number, now: number, error: string): Promise<boolean> {
    if (!this.dropClaim(owner, id)) return false;
    const { changes } = this.db
      .update(outbox)
      .set({ gaveUpAt: now, lastError: error.slice(0, 1000), attempts: sql`${outbox.attempts} + 1` })
      .where(and(eq(outbox.id, id), open))
      .run();
    return changes > 0;
  }

  /** Drops `owner`'s claim on a row; false when `owner` does not hold it (another took it over). */
  private dropClaim(owner: string, id: number): boolean {
    if (this.claims.get(id)?.owner !== owner) return false;
    this.claims.delete(id);
    return true;
  }

  async openCount(): Promise<number> {
    const row = this.db.select({ n: sql<number>`count(*)` }).from(outbox).where(open).get();
    return row?.n ?? 0;
  }

  async openSummary(): Promise<{ rows: number; oldestCreatedAt: number | null }> {
    const row = this.db
      .select({ rows: sql<number>`count(*)`, oldest: sql<number | null>`min(${outbox.createdAt})` })
      .from(outbox)
      .where(open)
      .get();
    return { rows: row?.rows ?? 0, oldestCreatedAt: row?.oldest ?? null };
  }
}
