import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { ApprovalRequest, Vote } from '../core/types.js';
import type { PgDb } from './pg-db.js';
import { insertRequest, statementsFor } from './pg-statements.js';
import { groupVotes, type NewRequestRow, toRequest, toVote } from './request-rows.js';
import { requests, votes } from './schema-pg.js';
import type { CloseChange, RequestsStore } from './store.js';

type Row = Parameters<typeof toRequest>[0];
type Insert = typeof requests.$inferInsert;

const pendingId = (id: string) => and(eq(requests.id, id), eq(requests.status, 'pending'));

/**
 * The requests and votes tables on PostgreSQL. Inside a transaction `getForUpdate` and the due
 * lists lock their rows (`FOR UPDATE`), so replicas never decide, expire or remind the same request
 * at the same time: a second sweeper waits for the first, then finds the rows no longer pending
 * (the guarded updates change nothing). The due lists lock in deadline order, so two sweepers
 * cannot deadlock, and they lock every row before the first audit append, so a vote (row, then
 * chain head) cannot deadlock with them either.
 */
export class PgRequests implements RequestsStore {
  constructor(private readonly db: PgDb) {}

  async insert(row: NewRequestRow): Promise<ApprovalRequest> {
    return toRequest((await insertRequest(this.db, row)) as Row);
  }

  async get(id: string): Promise<ApprovalRequest | null> {
    const [row] = await statementsFor(this.db).requestById.execute({ id });
    return row ? toRequest(row as Row) : null;
  }

  async getForUpdate(id: string): Promise<ApprovalRequest | null> {
    const [row] = await statementsFor(this.db).requestByIdForUpdate.execute({ id });
    return row ? toRequest(row as Row) : null;
  }

  async findByWebhookId(client: string, webhookId: string): Promise<ApprovalRequest | null> {
    const [row] = await statementsFor(this.db).requestByWebhookId.execute({ client, webhookId });
    return row ? toRequest(row as Row) : null;
  }

  async votes(requestId: string): Promise<Vote[]> {
    const rows = await this.db
      .select()
      .from(votes)
      .where(eq(votes.requestId, requestId))
      .orderBy(asc(votes.id));
    return rows.map(toVote);
  }

  async votesFor(requestIds: string[]): Promise<Map<string, Vote[]>> {
    if (requestIds.length === 0) return new Map();
    return groupVotes(
      await this.db.select().from(votes).where(inArray(votes.requestId, requestIds)).orderBy(asc(votes.id)),
    );
  }

  async insertVote(requestId: string, vote: Vote): Promise<void> {
    await this.db.insert(votes).values({ requestId, ...vote });
  }

  async close(id: string, change: CloseChange, unexpiredAt?: number): Promise<boolean> {
    const where =
      unexpiredAt === undefined
        ? pendingId(id)
        : and(pendingId(id), sql`${requests.expiresAt} > ${unexpiredAt}`);
    const changed = await this.db
      .update(requests)
      .set({ ...change, nextReminderAt: null })
      .where(where)
      .returning({ id: requests.id });
    return changed.length === 1;
  }

  async update(id: string, fields: Partial<NewRequestRow>): Promise<void> {
    const set = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    if (Object.keys(set).length === 0) return;
    await this.db
      .update(requests)
      .set(set as Partial<Insert>)
      .where(eq(requests.id, id));
  }

  async dueForExpiry(now: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .select({ id: requests.id })
      .from(requests)
      .where(and(eq(requests.status, 'pending'), lte(requests.expiresAt, now)))
      .orderBy(asc(requests.expiresAt))
      .limit(limit)
      .for('update');
    return rows.map((r) => r.id);
  }

  async dueForReminder(now: number, limit: number): Promise<ApprovalRequest[]> {
    const rows = await this.db
      .select()
      .from(requests)
      .where(and(eq(requests.status, 'pending'), lte(requests.nextReminderAt, now)))
      .orderBy(asc(requests.nextReminderAt))
      .limit(limit)
      .for('update');
    return rows.map((r) => toRequest(r as Row));
  }

  async nextPendingDeadline(): Promise<number | null> {
    const [row] = await this.db
      .select({ at: requests.expiresAt })
      .from(requests)
      .where(eq(requests.status, 'pending'))
      .orderBy(asc(requests.expiresAt))
      .limit(1);
    return row?.at ?? null;
  }

  async markConsumed(id: string, at: number): Promise<boolean> {
    const changed = await this.db
      .update(requests)
      .set({ consumedAt: at })
      .where(and(eq(requests.id, id), eq(requests.status, 'approved'), isNull(requests.consumedAt)))
      .returning({ id: requests.id });
    return changed.length === 1;
  }

  async advanceReminder(id: string, sent: number, to: number, nextAt: number | null): Promise<boolean> {
    const changed = await this.db
      .update(requests)
      .set({ remindersSent: to, nextReminderAt: nextAt })
      .where(and(pendingId(id), eq(requests.remindersSent, sent)))
      .returning({ id: requests.id });
    return changed.length === 1;
  }
}
