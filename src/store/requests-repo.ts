import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { ApprovalRequest, Vote } from '../core/types.js';
import type { Db } from './db.js';
import { columnsOf, p, placeholders } from './placeholders.js';
import { groupVotes, type NewRequestRow, toRequest, toVote } from './request-rows.js';
import { requests, votes } from './schema.js';
import type { CloseChange, RequestsStore } from './store.js';

/** A placeholder as an SQL value for `set()` (plain values, no column encoding). */
const v = (name: string) => sql`${p(name)}`;

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

/**
 * The requests and votes tables on SQLite, with the hot statements prepared once. Statements run
 * synchronously: the promises are settled when returned. Callers own the transaction.
 */
export class SqliteRequests implements RequestsStore {
  private readonly q: ReturnType<typeof statements>;
  /** Inserts (returning the row) and updates prepared per set of columns written (a handful of call sites). */
  private readonly inserts = new Map<string, { get(values: Record<string, unknown>): unknown }>();
  private readonly updates = new Map<string, { run(values: Record<string, unknown>): unknown }>();

  constructor(private readonly db: Db) {
    this.q = statements(db);
  }

  async insert(row: NewRequestRow): Promise<ApprovalRequest> {
    const columns = columnsOf(row);
    const key = columns.join(',');
    let stmt = this.inserts.get(key);
    if (!stmt) {
      stmt = this.db
        .insert(requests)
        .values(placeholders(columns) as unknown as NewRequestRow)
        .returning()
        .prepare();
      this.inserts.set(key, stmt);
    }
    return toRequest(stmt.get(row) as Parameters<typeof toRequest>[0]);
  }

  async get(id: string): Promise<ApprovalRequest | null> {
    const row = this.q.byId.get({ id });
    return row ? toRequest(row) : null;
  }

  /** Transactions are serialised in this process: the plain read holds. */
  getForUpdate(id: string): Promise<ApprovalRequest | null> {
    return this.get(id);
  }

  async findByWebhookId(client: string, webhookId: string): Promise<ApprovalRequest | null> {
    const row = this.q.byWebhookId.get({ client, webhookId });
    return row ? toRequest(row) : null;
  }

  async votes(requestId: string): Promise<Vote[]> {
    return this.q.votes.all({ requestId }).map(toVote);
  }

  async votesFor(requestIds: string[]): Promise<Map<string, Vote[]>> {
    if (requestIds.length === 0) return new Map();
    return groupVotes(
      this.db.select().from(votes).where(inArray(votes.requestId, requestIds)).orderBy(asc(votes.id)).all(),
    );
  }

  async insertVote(requestId: string, vote: Vote): Promise<void> {
    this.db
      .insert(votes)
      .values({ requestId, ...vote })
      .run();
  }

  async close(id: string, change: CloseChange, unexpiredAt?: number): Promise<boolean> {
    const result =
      unexpiredAt === undefined
        ? this.q.close.run({ id, ...change })
        : this.q.closeUnexpired.run({ id, ...change, unexpiredAt });
    return result.changes === 1;
  }

  async update(id: string, fields: Partial<NewRequestRow>): Promise<void> {
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

  /** Pending requests whose deadline has passed, oldest deadline first (uses the partial index). */
  async dueForExpiry(now: number, limit: number): Promise<string[]> {
    return this.q.dueForExpiry.all({ now, limit }).map((r) => r.id);
  }

  async dueForReminder(now: number, limit: number): Promise<ApprovalRequest[]> {
    return this.q.dueForReminder.all({ now, limit }).map(toRequest);
  }

  async nextPendingDeadline(): Promise<number | null> {
    const row = this.db
      .select({ at: requests.expiresAt })
      .from(requests)
      .where(eq(requests.status, 'pending'))
      .orderBy(asc(requests.expiresAt))
      .limit(1)
      .get();
    return row?.at ?? null;
  }

  async markConsumed(id: string, at: number): Promise<boolean> {
    const result = this.db
      .update(requests)
      .set({ consumedAt: at })
      .where(and(eq(requests.id, id), eq(requests.status, 'approved'), isNull(requests.consumedAt)))
      .run();
    return result.changes === 1;
  }

  /** Moves the reminder count from `sent` to `to`, only if nobody else did it first. */
  async advanceReminder(id: string, sent: number, to: number, nextAt: number | null): Promise<boolean> {
    return this.q.advanceReminder.run({ id, sent, to, nextAt }).changes === 1;
  }
}
