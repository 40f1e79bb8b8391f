import { asc, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from './db.js';
import { AUDIT_EVENT_COLUMNS, placeholders } from './placeholders.js';
import { auditCheckpoints, auditEvents, auditKeys } from './schema.js';
import type { AuditEventRow, AuditStore } from './store.js';

/** The statements of every append, prepared once: building a drizzle query costs more than running it. */
function statements(db: Db) {
  return {
    head: db
      .select({ seq: auditEvents.seq, hash: auditEvents.hash })
      .from(auditEvents)
      .orderBy(desc(auditEvents.seq))
      .limit(1)
      .prepare(),
    insert: db
      .insert(auditEvents)
      .values(placeholders(AUDIT_EVENT_COLUMNS) as unknown as typeof auditEvents.$inferInsert)
      .prepare(),
  };
}

/** The audit tables on SQLite. Transactions are serialised in this process, so the head is simply read. */
export class SqliteAudit implements AuditStore {
  private readonly q: ReturnType<typeof statements>;

  constructor(private readonly db: Db) {
    this.q = statements(db);
  }

  async lockHead(): Promise<{ seq: number; hash: string } | null> {
    return this.q.head.get() ?? null;
  }

  async insertEvent(row: AuditEventRow): Promise<void> {
    this.q.insert.run({ ...row });
  }

  async lastData(types: string[]): Promise<string | null> {
    const row = this.db
      .select({ data: auditEvents.data })
      .from(auditEvents)
      .where(inArray(auditEvents.type, types))
      .orderBy(desc(auditEvents.seq))
      .limit(1)
      .get();
    return row?.data ?? null;
  }

  async keyKnown(keyId: string): Promise<boolean> {
    return this.db.select().from(auditKeys).where(eq(auditKeys.keyId, keyId)).get() !== undefined;
  }

  async keys(): Promise<{ keyId: string; publicKey: string; createdAt: number }[]> {
    return this.db.select().from(auditKeys).all();
  }

  async eventsOfTypes(types: string[]): Promise<{ at: number; data: string }[]> {
    return this.db
      .select({ at: auditEvents.at, data: auditEvents.data })
      .from(auditEvents)
      .where(inArray(auditEvents.type, types))
      .orderBy(asc(auditEvents.seq))
      .all();
  }

  async insertKey(keyId: string, publicKey: string, now: number): Promise<void> {
    this.db.insert(auditKeys).values({ keyId, publicKey, createdAt: now }).run();
  }

  async latestCheckpoint(): Promise<{ seq: number; hash: string; at: number } | null> {
    const row = this.db
      .select({ seq: auditCheckpoints.seq, hash: auditCheckpoints.headHash, at: auditCheckpoints.at })
      .from(auditCheckpoints)
      .orderBy(desc(auditCheckpoints.seq))
      .limit(1)
      .get();
    return row ?? null;
  }

  async insertCheckpoint(cp: {
    seq: number;
    headHash: string;
    at: number;
    keyId: string;
    signature: string;
  }): Promise<number> {
    return this.db.insert(auditCheckpoints).values(cp).returning({ id: auditCheckpoints.id }).get().id;
  }
}
