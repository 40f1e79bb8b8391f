import { and, asc, eq, inArray, isNull, lte, type Placeholder, sql } from 'drizzle-orm';
import type { Caller } from '../core/caller.js';
import type {
  ApprovalRequest,
  ApproverSet,
  ContextValue,
  DeliveryError,
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
    requesterCheck: row.requesterCheck ?? null,
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
    deliveryError: (row.deliveryError as DeliveryError | null) ?? null,
    caller: (row.caller as Caller | null) ?? null,
    attestation: row.attestation ?? null,
    consumedAt: row.consumedAt ?? null,
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

const p = (name: string) => sql.placeholder(name);
/** A placeholder as an SQL value for `set()` (plain values, no column encoding). */
const v = (name: string) => sql`${p(name)}`;

/** The columns `fields` sets (undefined values are left out, as drizzle does): the cache key of its statement. */
function columnsOf(fields: object): string[] {
  const out: string[] = [];
  for (const [k, value] of Object.entries(fields)) if (value !== undefined) out.push(k);
  return out;
}

/** Placeholders named like the columns. */
function placeholders(columns: string[]): Record<string, Placeholder> {
  return Object.fromEntries(columns.map((k) => [k, p(k)]));
}

/**
 * The statements of the hot paths (intake, votes, delivery, sweep), prepared once: building a drizzle
 * query and compiling its SQL costs ~10x more than running it.
 */
function statements(db: Db) {
  const closeSet = {
    status: v('status'),
    decidedAt: v('decidedAt'),
    decidedBy: v('decidedBy'),
    reason: v('reason'),
    nextReminderAt: null,
  };
  const pendingId = and(eq(requests.id, p('id')), eq(requests.status, 'pending'));
  return {
    byId: db
      .select()
      .from(requests)
      .where(eq(requests.id, p('id')))
      .prepare(),
    byWebhookId: db
      .select()
      .from(requests)
      .where(and(eq(requests.client, p('client')), eq(requests.webhookId, p('webhookId'))))
      .prepare(),
    votes: db
      .select()
      .from(votes)
      .where(eq(votes.requestId, p('requestId')))
      .orderBy(asc(votes.id))
      .prepare(),
    close: db.update(requests).set(closeSet).where(pendingId).prepare(),
    closeUnexpired: db
      .update(requests)
      .set(closeSet)
      .where(and(pendingId, sql`${requests.expiresAt} > ${p('unexpiredAt')}`))
      .prepare(),
    dueForExpiry: db
      .select({ id: requests.id })
      .from(requests)
      .where(and(eq(requests.status, 'pending'), lte(requests.expiresAt, p('now'))))
      .orderBy(asc(requests.expiresAt))
      .limit(p('limit'))
      .prepare(),
    dueForReminder: db
      .select()
      .from(requests)
      .where(and(eq(requests.status, 'pending'), lte(requests.nextReminderAt, p('now'))))
      .orderBy(asc(requests.nextReminderAt))
      .limit(p('limit'))
      .prepare(),
    advanceReminder: db
      .update(requests)
      .set({ remindersSent: v('to'), nextReminderAt: v('nextAt') })
      .where(and(pendingId, eq(requests.remindersSent, p('sent'))))
      .prepare(),
  };
}

/** Plain repository functions over the requests and votes tables. Callers own the transaction. */
export class RequestsRepo {
  private readonly q: ReturnType<typeof statements>;
  /** Inserts and updates prepared per set of columns written (a handful of call sites). */
  private readonly inserts = new Map<string, { run(values: Record<string, unknown>): unknown }>();
  private readonly updates = new Map<string, { run(values: Record<string, unknown>): unknown }>();

  constructor(private readonly db: Db) {
    this.q = statements(db);
  }

  insert(row: NewRequestRow): void {
    const columns = columnsOf(row);
    const key = columns.join(',');
    let stmt = this.inserts.get(key);
    if (!stmt) {
      stmt = this.db
        .insert(requests)
        .values(placeholders(columns) as unknown as NewRequestRow)
        .prepare();
      this.inserts.set(key, stmt);
    }
    stmt.run(row);
  }

  get(id: string): ApprovalRequest | null {
    const row = this.q.byId.get({ id });
    return row ? toRequest(row) : null;
  }

  findByWebhookId(client: string, webhookId: string): ApprovalRequest | null {
    const row = this.q.byWebhookId.get({ client, webhookId });
    return row ? toRequest(row) : null;
  }

  votes(requestId: string): Vote[] {
    return this.q.votes.all({ requestId }).map(toVote);
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
    const result =
      unexpiredAt === undefined
        ? this.q.close.run({ id, ...change })
        : this.q.closeUnexpired.run({ id, ...change, unexpiredAt });
    return result.changes === 1;
  }

  update(id: string, fields: Partial<NewRequestRow>): void {
    const columns = columnsOf(fields);
    if (columns.length === 0) return;
    const key = columns.join(',');
    let stmt = this.updates.get(key);
    if (!stmt) {
      stmt = this.db
        .update(requests)
        // Placeholders pass through set() at run time (each column's encoder applies); the types say no.
        .set(placeholders(columns) as unknown as Partial<NewRequestRow>)
        .where(eq(requests.id, p('where_id')))
        .prepare();
      this.updates.set(key, stmt);
    }
    stmt.run({ ...fields, where_id: id });
  }

  /** Marks an approved request as used, only if nobody did first. Returns whether this call did. */
  markConsumed(id: string, at: number): boolean {
    const result = this.db
      .update(requests)
      .set({ consumedAt: at })
      .where(and(eq(requests.id, id), eq(requests.status, 'approved'), isNull(requests.consumedAt)))
      .run();
    return result.changes === 1;
  }

  /** Pending requests whose deadline has passed, oldest deadline first (uses the partial index). */
  dueForExpiry(now: number, limit: number): string[] {
    return this.q.dueForExpiry.all({ now, limit }).map((r) => r.id);
  }

  dueForReminder(now: number, limit: number): ApprovalRequest[] {
    return this.q.dueForReminder.all({ now, limit }).map(toRequest);
  }

  /** Moves the reminder count from `sent` to `to`, only if nobody else did it first. */
  advanceReminder(id: string, sent: number, to: number, nextAt: number | null): boolean {
    return this.q.advanceReminder.run({ id, sent, to, nextAt }).changes === 1;
  }
}
