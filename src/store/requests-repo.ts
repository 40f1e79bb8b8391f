import { and, asc, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import type {
  ApprovalRequest,
  ApproverSet,
  ContextValue,
  Link,
  Requester,
  Status,
  Vote,
} from '../core/types.js';
import type { Db } from './db.js';
import { requests, votes } from './schema.js';

type RequestRow = typeof requests.$inferSelect;
type VoteRow = typeof votes.$inferSelect;
export type NewRequestRow = typeof requests.$inferInsert;

export function toRequest(row: RequestRow): ApprovalRequest {
  return {
    id: row.id,
    client: row.client,
    status: row.status,
    action: row.action,
    title: row.title,
    summary: row.summary,
    resource: row.resource,
    environment: row.environment,
    risk: row.risk,
    requester: row.requester as Requester,
    requesterSlackId: row.requesterSlackId,
    requesterEmail: row.requesterEmail,
    context: (row.context as Record<string, ContextValue> | null) ?? null,
    links: (row.links as Link[] | null) ?? null,
    diff: row.diff,
    approvers: row.approvers as ApproverSet[],
    minApprovals: row.minApprovals,
    ttlSeconds: row.ttlSeconds,
    callbackUrl: row.callbackUrl,
    channel: row.channel,
    policyRule: row.policyRule,
    policyHash: row.policyHash,
    denyReasonRequired: row.denyReasonRequired,
    reminderPoints: row.reminderPoints as number[],
    remindersSent: row.remindersSent,
    redactions: row.redactions,
    payloadSha256: row.payloadSha256,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    decidedAt: row.decidedAt,
    decidedBy: row.decidedBy,
    reason: row.reason,
    slackChannel: row.slackChannel,
    slackTs: row.slackTs,
    slackUrl: row.slackUrl,
    cardPostedAt: row.cardPostedAt,
  };
}

export function toVote(row: VoteRow): Vote {
  return {
    userId: row.userId,
    teamId: row.teamId,
    enterpriseId: row.enterpriseId,
    userName: row.userName,
    decision: row.decision,
    reason: row.reason,
    at: row.at,
  };
}

/** Plain repository functions over the requests and votes tables. Callers own the transaction. */
export class RequestsRepo {
  constructor(private readonly db: Db) {}

  insert(row: NewRequestRow): void {
    this.db.insert(requests).values(row).run();
  }

  get(id: string): ApprovalRequest | null {
    const row = this.db.select().from(requests).where(eq(requests.id, id)).get();
    return row ? toRequest(row) : null;
  }

  findByWebhookId(client: string, webhookId: string): ApprovalRequest | null {
    const row = this.db
      .select()
      .from(requests)
      .where(and(eq(requests.client, client), eq(requests.webhookId, webhookId)))
      .get();
    return row ? toRequest(row) : null;
  }

  votes(requestId: string): Vote[] {
    return this.db
      .select()
      .from(votes)
      .where(eq(votes.requestId, requestId))
      .orderBy(asc(votes.id))
      .all()
      .map(toVote);
  }

  votesFor(requestIds: string[]): Map<string, Vote[]> {
    const out = new Map<string, Vote[]>();
    if (requestIds.length === 0) return out;
    const rows = this.db
      .select()
      .from(votes)
      .where(inArray(votes.requestId, requestIds))
      .orderBy(asc(votes.id))
      .all();
    for (const row of rows) {
      const list = out.get(row.requestId) ?? [];
      list.push(toVote(row));
      out.set(row.requestId, list);
    }
    return out;
  }

  /** Inserts a vote; the unique (request, user) index refuses a second vote by the same person. */
  insertVote(requestId: string, vote: Vote): void {
    this.db
      .insert(votes)
      .values({ requestId, ...vote })
      .run();
  }

  /**
   * The guarded transition: changes the status only if the request is still pending (and, when
   * `unexpiredAt` is given, not yet expired at that time). Returns whether exactly one row changed.
   */
  close(
    id: string,
    change: {
      status: Exclude<Status, 'pending'>;
      decidedAt: number;
      decidedBy: string;
      reason: string | null;
    },
    unexpiredAt?: number,
  ): boolean {
    const guard =
      unexpiredAt === undefined
        ? and(eq(requests.id, id), eq(requests.status, 'pending'))
        : and(
            eq(requests.id, id),
            eq(requests.status, 'pending'),
            sql`${requests.expiresAt} > ${unexpiredAt}`,
          );
    const result = this.db
      .update(requests)
      .set({ ...change, nextReminderAt: null })
      .where(guard)
      .run();
    return result.changes === 1;
  }

  update(id: string, fields: Partial<NewRequestRow>): void {
    this.db.update(requests).set(fields).where(eq(requests.id, id)).run();
  }

  /** Pending requests whose deadline has passed, oldest deadline first (uses the partial index). */
  dueForExpiry(now: number, limit: number): string[] {
    return this.db
      .select({ id: requests.id })
      .from(requests)
      .where(and(eq(requests.status, 'pending'), lte(requests.expiresAt, now)))
      .orderBy(asc(requests.expiresAt))
      .limit(limit)
      .all()
      .map((r) => r.id);
  }

  dueForReminder(now: number, limit: number): ApprovalRequest[] {
    return this.db
      .select()
      .from(requests)
      .where(and(eq(requests.status, 'pending'), lte(requests.nextReminderAt, now)))
      .orderBy(asc(requests.nextReminderAt))
      .limit(limit)
      .all()
      .map(toRequest);
  }

  /** Moves the reminder count from `sent` to `to`, only if nobody else did it first. */
  advanceReminder(id: string, sent: number, to: number, nextAt: number | null): boolean {
    const result = this.db
      .update(requests)
      .set({ remindersSent: to, nextReminderAt: nextAt })
      .where(and(eq(requests.id, id), eq(requests.status, 'pending'), eq(requests.remindersSent, sent)))
      .run();
    return result.changes === 1;
  }

  listPending(limit: number): ApprovalRequest[] {
    return this.db
      .select()
      .from(requests)
      .where(eq(requests.status, 'pending'))
      .orderBy(desc(requests.createdAt))
      .limit(limit)
      .all()
      .map(toRequest);
  }
}
