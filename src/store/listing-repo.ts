import { and, asc, count, desc, eq, min, or, sql } from 'drizzle-orm';
import type { ApprovalRequest } from '../core/types.js';
import type { Db } from './db.js';
import { toRequest } from './request-rows.js';
import * as sqliteTables from './schema.js';
import type { ListingStore } from './store.js';

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

/**
 * Read-only queries behind `/approvals` and the App Home: listings, a person's requests, history.
 * Written once for both dialects: `db` and `tables` are SQLite's or PostgreSQL's (whose tables have
 * the same fields), and every query is awaited, which both drivers support.
 */
export class ListingRepo implements ListingStore {
  constructor(
    private readonly db: Db,
    private readonly tables: Pick<typeof sqliteTables, 'requests' | 'auditEvents'> = sqliteTables,
  ) {}

  async countPending(): Promise<number> {
    const { requests } = this.tables;
    const [row] = await this.db.select({ n: count() }).from(requests).where(eq(requests.status, 'pending'));
    return Number(row?.n ?? 0);
  }

  /** Pending requests, newest first. */
  async pendingPage(offset: number, limit: number): Promise<ApprovalRequest[]> {
    const { requests } = this.tables;
    const rows = await this.db
      .select()
      .from(requests)
      .where(eq(requests.status, 'pending'))
      .orderBy(desc(requests.createdAt), desc(requests.id))
      .limit(limit)
      .offset(offset);
    return rows.map(toRequest);
  }

  /** Requests asked for by this person (by Slack user ID, or by email when known), newest first. */
  async requestedBy(
    userId: string,
    email: string | null,
    limit: number,
  ): Promise<{ items: ApprovalRequest[]; total: number }> {
    const { requests } = this.tables;
    const who =
      email === null
        ? eq(requests.requesterSlackId, userId)
        : or(eq(requests.requesterSlackId, userId), eq(requests.requesterEmail, email.toLowerCase()));
    const [counted] = await this.db.select({ n: count() }).from(requests).where(who);
    const rows = await this.db
      .select()
      .from(requests)
      .where(who)
      .orderBy(desc(requests.createdAt), desc(requests.id))
      .limit(limit);
    return { items: rows.map(toRequest), total: Number(counted?.n ?? 0) };
  }

  /** How many requests wait in each channel, busiest first. */
  async pendingByChannel(): Promise<ChannelPending[]> {
    const { requests } = this.tables;
    const rows = await this.db
      .select({ channel: requests.channel, pending: count(), oldestCreatedAt: min(requests.createdAt) })
      .from(requests)
      .where(eq(requests.status, 'pending'))
      .groupBy(requests.channel)
      .orderBy(desc(count()), asc(requests.channel));
    return rows.map((r) => ({
      channel: r.channel,
      pending: Number(r.pending),
      oldestCreatedAt: Number(r.oldestCreatedAt ?? 0),
    }));
  }

  /** The last `limit` audit events of one request, oldest first, and how many there are in all. */
  async history(requestId: string, limit: number): Promise<{ events: HistoryEvent[]; total: number }> {
    const { auditEvents } = this.tables;
    const [counted] = await this.db
      .select({ n: count() })
      .from(auditEvents)
      .where(eq(auditEvents.requestId, requestId));
    const rows = await this.db
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
      .limit(limit);
    const events = rows
      .reverse()
      .map((r) => ({ ...r, seq: Number(r.seq), at: Number(r.at), data: parseData(r.data) }));
    return { events, total: Number(counted?.n ?? 0) };
  }

  /** Request ids starting with `prefix` (for a helpful "did you mean" on a mistyped id). */
  async idsLike(prefix: string, limit: number): Promise<string[]> {
    const { requests } = this.tables;
    const rows = await this.db
      .select({ id: requests.id })
      .from(requests)
      .where(and(sql`${requests.id} >= ${prefix}`, sql`${requests.id} < ${`${prefix}\uffff`}`))
      .orderBy(asc(requests.id))
      .limit(limit);
    return rows.map((r) => r.id);
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
