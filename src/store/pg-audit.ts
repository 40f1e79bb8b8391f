import { asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { PgDb } from './pg-db.js';
import { statementsFor } from './pg-statements.js';
import { auditCheckpoints, auditEvents, auditKeys } from './schema-pg.js';
import type { AuditEventRow, AuditStore } from './store.js';

/**
 * The audit tables on PostgreSQL. `lockHead` takes a transaction-scoped advisory lock (one per
 * schema) before reading the head: appends from every replica queue on it, so there is one chain,
 * and the lock goes with the commit or rollback of the change the event records.
 */
export class PgAudit implements AuditStore {
  private locked = false;

  constructor(private readonly db: PgDb) {}

  async lockHead(): Promise<{ seq: number; hash: string } | null> {
    if (!this.locked) {
      await this.db.execute(sql`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.audit_chain'))`);
      this.locked = true;
    }
    const [row] = await statementsFor(this.db).auditHead.execute();
    return row ?? null;
  }

  async insertEvent(row: AuditEventRow): Promise<void> {
    await statementsFor(this.db).auditInsert.execute({ ...row });
  }

  async lastData(types: string[]): Promise<string | null> {
    const [row] = await this.db
      .select({ data: auditEvents.data })
      .from(auditEvents)
      .where(inArray(auditEvents.type, types))
      .orderBy(desc(auditEvents.seq))
      .limit(1);
    return row?.data ?? null;
  }

  async keyKnown(keyId: string): Promise<boolean> {
    const rows = await this.db.select().from(auditKeys).where(eq(auditKeys.keyId, keyId));
    return rows.length > 0;
  }

  async keys(): Promise<{ keyId: string; publicKey: string; createdAt: number }[]> {
    return this.db.select().from(auditKeys);
  }

  async eventsOfTypes(types: string[]): Promise<{ at: number; data: string }[]> {
    return this.db
      .select({ at: auditEvents.at, data: auditEvents.data })
      .from(auditEvents)
      .where(inArray(auditEvents.type, types))
      .orderBy(asc(auditEvents.seq));
  }

  async insertKey(keyId: string, publicKey: string, now: number): Promise<void> {
    await this.db.insert(auditKeys).values({ keyId, publicKey, createdAt: now });
  }

  async latestCheckpoint(): Promise<{ seq: number; hash: string; at: number } | null> {
    const [row] = await this.db
      .select({ seq: auditCheckpoints.seq, hash: auditCheckpoints.headHash, at: auditCheckpoints.at })
      .from(auditCheckpoints)
      .orderBy(desc(auditCheckpoints.seq))
      .limit(1);
    return row ?? null;
  }

  async insertCheckpoint(cp: {
    seq: number;
    headHash: string;
    at: number;
    keyId: string;
    signature: string;
  }): Promise<number> {
    const [row] = await this.db.insert(auditCheckpoints).values(cp).returning({ id: auditCheckpoints.id });
    if (!row) throw new Error('audit_checkpoints insert returned no id');
    return row.id;
  }
}
