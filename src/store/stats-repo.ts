import { and, count, eq, gte, inArray, isNotNull, not, sql } from 'drizzle-orm';
import { STATUSES, type Status } from '../core/types.js';
import type { Db } from './db.js';
import { requests, votes } from './schema.js';

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
export class StatsRepo {
  constructor(private readonly db: Db) {}

  window(since: number, fastMs: number): WindowStats {
    const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
    const rows = this.db
      .select({ status: requests.status, n: count() })
      .from(requests)
      .where(gte(requests.createdAt, since))
      .groupBy(requests.status)
      .all();
    for (const r of rows) byStatus[r.status] = r.n;

    // Decisions by people: approved or denied through votes, not by policy.
    const decidedByPeople = and(
      inArray(requests.status, ['approved', 'denied']),
      isNotNull(requests.decidedAt),
      gte(requests.decidedAt, since),
      not(eq(requests.decidedBy, 'policy')),
    );
    const decided = this.db.select({ n: count() }).from(requests).where(decidedByPeople).get()?.n ?? 0;
    let medianDecisionMs: number | null = null;
    if (decided > 0) {
      const duration = sql<number>`${requests.decidedAt} - ${requests.createdAt}`;
      const pick = (offset: number) =>
        this.db
          .select({ ms: duration })
          .from(requests)
          .where(decidedByPeople)
          .orderBy(duration)
          .limit(1)
          .offset(offset)
          .get()?.ms ?? 0;
      const mid = Math.floor(decided / 2);
      medianDecisionMs = decided % 2 === 1 ? pick(mid) : (pick(mid - 1) + pick(mid)) / 2;
    }

    const fast = this.db
      .select({
        approvals: count(),
        fast: sql<number>`coalesce(sum(case when ${votes.at} - ${requests.cardPostedAt} < ${fastMs} then 1 else 0 end), 0)`,
      })
      .from(votes)
      .innerJoin(requests, eq(votes.requestId, requests.id))
      .where(and(eq(votes.decision, 'approve'), gte(votes.at, since), isNotNull(requests.cardPostedAt)))
      .get();
    return {
      byStatus,
      medianDecisionMs,
      decided,
      approvals: fast?.approvals ?? 0,
      fastApprovals: Number(fast?.fast ?? 0),
    };
  }
}
