import { and, count, eq, gte, inArray, isNotNull, not, sql } from 'drizzle-orm';
import { STATUSES, type Status } from '../core/types.js';
import type { Db } from './db.js';
import * as sqliteTables from './schema.js';
import type { StatsStore } from './store.js';

export interface WindowStats {
  /** Requests created in the window, by their status now. */
  byStatus: Record<Status, number>;
  /** Median time from creation to a decision by people (approved or denied by a vote), or null. */
  medianDecisionMs: number | null;
  decided: number;
  /** Approve votes in the window on a posted card, and how many came within `fastMs` of the card appearing. */
  approvals: number;
  fastApprovals: number;
}

/** Aggregates behind `/approvals stats`. Times are Unix ms; a window is `[since, now)`. */
export class StatsRepo implements StatsStore {
  constructor(
    private readonly db: Db,
    private readonly tables: Pick<typeof sqliteTables, 'requests' | 'votes'> = sqliteTables,
  ) {}

  async window(since: number, fastMs: number): Promise<WindowStats> {
    const { requests, votes } = this.tables;
    const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
    const rows = await this.db
      .select({ status: requests.status, n: count() })
      .from(requests)
      .where(gte(requests.createdAt, since))
      .groupBy(requests.status);
    for (const r of rows) byStatus[r.status] = Number(r.n);

    // Decisions by people: approved or denied through votes, not by policy.
    const decidedByPeople = and(
      inArray(requests.status, ['approved', 'denied']),
      isNotNull(requests.decidedAt),
      gte(requests.decidedAt, since),
      not(eq(requests.decidedBy, 'policy')),
    );
    const [counted] = await this.db.select({ n: count() }).from(requests).where(decidedByPeople);
    const decided = Number(counted?.n ?? 0);
    let medianDecisionMs: number | null = null;
    if (decided > 0) {
      const duration = sql<number>`${requests.decidedAt} - ${requests.createdAt}`;
      const pick = async (offset: number) => {
        const [row] = await this.db
          .select({ ms: duration })
          .from(requests)
          .where(decidedByPeople)
          .orderBy(duration)
          .limit(1)
          .offset(offset);
        return Number(row?.ms ?? 0);
      };
      const mid = Math.floor(decided / 2);
      medianDecisionMs =
        decided % 2 === 1 ? await pick(mid) : ((await pick(mid - 1)) + (await pick(mid))) / 2;
    }

    const [fast] = await this.db
      .select({
        approvals: count(),
        fast: sql<number>`coalesce(sum(case when ${votes.at} - ${requests.cardPostedAt} < ${fastMs} then 1 else 0 end), 0)`,
      })
      .from(votes)
      .innerJoin(requests, eq(votes.requestId, requests.id))
      .where(and(eq(votes.decision, 'approve'), gte(votes.at, since), isNotNull(requests.cardPostedAt)));
    return {
      byStatus,
      medianDecisionMs,
      decided,
      approvals: Number(fast?.approvals ?? 0),
      fastApprovals: Number(fast?.fast ?? 0),
    };
  }
}
