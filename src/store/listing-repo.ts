import { and, asc, count, desc, eq, min, or, sql } from 'drizzle-orm';
import type { ApprovalRequest } from '../core/types.js';
import type { Db } from './db.js';
import { toRequest } from './requests-repo.js';
import { auditEvents, requests } from './schema.js';

export interface HistoryEvent {
  seq: number;
  at: number;
  type: string;
  actor: string;
  data: Record<string, unknown>;
}

export interface ChannelPending {
  channel: string;
  pending: number;
  oldestCreatedAt: number;
}

/** Read-only queries behind `/approvals` and the App Home: listings, a person's requests, history. */
export class ListingRepo {
  constructor(private readonly db: Db) {}

  countPending(): number {
    return this.db.select({ n: count() }).from(requests).where(eq(requests.status, 'pending')).get()?.n ?? 0;
  }

  /** Pending requests, newest first. */
  pendingPage(offset: number, limit: number): ApprovalRequest[] {
    return this.db
      .select()
      .from(requests)
      .where(eq(requests.status, 'pending'))
      .orderBy(desc(requests.createdAt), desc(requests.id))
      .limit(limit)
      .offset(offset)
      .all()
      .map(toRequest);
  }

  /** Requests asked for by this person (by Slack user ID, or by email when known), newest first. */
  requestedBy(
    userId: string,
    email: string | null,
    limit: number,
  ): { items: ApprovalRequest[]; total: number } {
    const who =
      email === null
        ? eq(requests.requesterSlackId, userId)
        : or(eq(requests.requesterSlackId, userId), eq(requests.requesterEmail, email.toLowerCase()));
    const total = this.db.select({ n: count() }).from(requests).where(who).get()?.n ?? 0;
    const items = this.db
      .select()
      .from(requests)
      .where(who)
      .orderBy(desc(requests.createdAt), desc(requests.id))
      .limit(limit)
      .all()
      .map(toRequest);
    return { items, total };
  }

  /** How many requests wait in each channel, busiest first. */
  pendingByChannel(): ChannelPending[] {
    return this.db
      .select({ channel: requests.channel, pending: count(), oldestCreatedAt: min(requests.createdAt) })
      .from(requests)
      .where(eq(requests.status, 'pending'))
      .groupBy(requests.channel)
      .orderBy(desc(count()), asc(requests.channel))
      .all()
      .map((r) => ({ channel: r.channel, pending: r.pending, oldestCreatedAt: r.oldestCreatedAt ?? 0 }));
  }

  /** The last `limit` audit events of one request, oldest first, and how many there are in all. */
  history(requestId: string, limit: number): { events: HistoryEvent[]; total: number } {
    const total =
      this.db.select({ n: count() }).from(auditEvents).where(eq(auditEvents.requestId, requestId)).get()?.n ??
      0;
    const rows = this.db
      .select({
        seq: auditEvents.seq,
        at: auditEvents.at,
        type: auditEvents.type,
        actor: auditEvents.actor,
        data: auditEvents.data,
      })
      .from(auditEvents)
      .where(eq(auditEvents.requestId, requestId))
      .orderBy(desc(auditEvents.seq))
      .limit(limit)
      .all();
    const events = rows.reverse().map((r) => ({ ...r, data: parseData(r.data) }));
    return { events, total };
  }

  /** Request ids starting with `prefix` (for a helpful "did you mean" on a mistyped id). */
  idsLike(prefix: string, limit: number): string[] {
    return this.db
      .select({ id: requests.id })
      .from(requests)
      .where(and(sql`${requests.id} >= ${prefix}`, sql`${requests.id} < ${`${prefix}\uffff`}`))
      .orderBy(asc(requests.id))
      .limit(limit)
      .all()
      .map((r) => r.id);
  }
}

function parseData(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
