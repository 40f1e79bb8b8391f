import type Database from 'better-sqlite3';
import { Approvals } from '../../src/approvals/service.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadSigningKey } from '../../src/audit/keys.js';
import { newRequestId } from '../../src/core/ids.js';
import { parseCreateRequest } from '../../src/core/request-schema.js';
import type { SqliteStore } from '../../src/store/sqlite-store.js';
import { CHANNEL } from './env.js';
import { requestBody } from './load.js';

export const HOUR = 3_600_000;

/** What a cloned row differs in from the template (anything else is the template's). */
export interface Clone {
  createdAt: number;
  expiresAt: number;
  /** Default pending; a decided row gets decided_at/decided_by too. */
  status?: 'pending' | 'approved' | 'denied' | 'expired';
  /** Row i is made at createdAt + i × stepMs (default 0: all at once). */
  stepMs?: number;
  /** The requester's Slack ID (default: the template's, Alice). */
  requesterSlackId?: string;
}

/**
 * Inserts requests cloned from a template row (every column as the product wrote it, a few
 * changed), with a prepared statement in large transactions: a million rows in seconds.
 */
export class Cloner {
  private readonly insert: (row: Record<string, unknown>) => void;
  private n = 0;

  constructor(
    private readonly sqlite: Database.Database,
    template: Record<string, unknown>,
  ) {
    const columns = Object.keys(template);
    const stmt = sqlite.prepare(
      `INSERT INTO requests (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    );
    // Positional values in the template's column order (no object per row).
    const values = columns.map((c) => template[c]);
    const at = new Map(columns.map((c, i) => [c, i]));
    this.insert = (row) => {
      const v = values.slice();
      for (const key in row) {
        const i = at.get(key);
        if (i !== undefined) v[i] = row[key];
      }
      stmt.run(v);
    };
  }

  /** A cloner over the oldest request of an existing database (e.g. one a server is running on). */
  static fromDatabase(sqlite: Database.Database): Cloner {
    const row = sqlite.prepare('SELECT * FROM requests ORDER BY rowid LIMIT 1').get();
    if (!row) throw new Error('no request to clone');
    return new Cloner(sqlite, row as Record<string, unknown>);
  }

  /** `count` rows like `clone`, in transactions of `chunk`; returns their ids. */
  requests(count: number, clone: Clone, tag: string, chunk = 50_000): string[] {
    const ids: string[] = [];
    for (let done = 0; done < count; done += chunk) {
      this.sqlite.transaction(() => {
        for (let i = done; i < Math.min(count, done + chunk); i++) {
          const createdAt = clone.createdAt + i * (clone.stepMs ?? 0);
          const id = newRequestId(createdAt);
          const decided = clone.status !== undefined && clone.status !== 'pending';
          this.insert({
            id,
            webhook_id: `msg_${tag}_${this.n++}`,
            status: clone.status ?? 'pending',
            created_at: createdAt,
            expires_at: clone.expiresAt,
            next_reminder_at: decided ? null : createdAt + (clone.expiresAt - createdAt) / 2,
            decided_at: decided ? createdAt + 60_000 : null,
            decided_by: decided ? 'U0BOB' : null,
            ...(clone.requesterSlackId !== undefined ? { requester_slack_id: clone.requesterSlackId } : {}),
          });
          ids.push(id);
        }
      })();
    }
    return ids;
  }
}

/**
 * Seeds a new database: a template request made by the real `submit` (so every column is as the
 * product writes it), then clones of it and delivered outbox rows straight into the tables. Much
 * faster than the API: this sets the stage, the API is what is measured afterwards.
 */
export class Seeder {
  private constructor(
    readonly database: SqliteStore,
    readonly audit: AuditLog,
    readonly approvals: Approvals,
    private readonly cloner: Cloner,
  ) {}

  static async create(database: SqliteStore, path: string, now: number): Promise<Seeder> {
    const audit = new AuditLog(loadSigningKey(null, path));
    await database.transaction((t) => audit.registerKey(t, now));
    const approvals = new Approvals({ store: database, audit, defaultChannel: CHANNEL, policy: null });
    const parsed = parseCreateRequest(JSON.parse(requestBody(0)));
    if (!parsed.ok) throw new Error('bench request body does not parse');
    const made = await approvals.submit('ci', 'msg_template', 'f'.repeat(64), parsed.value, now);
    if (made.kind !== 'created') throw new Error(`template request not created: ${made.kind}`);
    return new Seeder(database, audit, approvals, Cloner.fromDatabase(database.sqlite));
  }

  requests(count: number, clone: Clone, tag: string): string[] {
    return this.cloner.requests(count, clone, tag);
  }

  /**
   * `count` delivered outbox rows (cards posted long ago), cloned from the template's own row:
   * delivered rows stay in the table, so a store with a history has as many.
   */
  deliveredOutbox(count: number, at: number, chunk = 100_000): void {
    const sqlite = this.database.sqlite;
    const row = sqlite.prepare('SELECT * FROM outbox ORDER BY id LIMIT 1').get() as Record<string, unknown>;
    const columns = Object.keys(row).filter((c) => c !== 'id');
    const stmt = sqlite.prepare(
      `INSERT INTO outbox (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
    );
    for (let done = 0; done < count; done += chunk) {
      sqlite.transaction(() => {
        for (let i = done; i < Math.min(count, done + chunk); i++)
          stmt.run({ ...row, created_at: at, next_at: at, attempts: 1, done_at: at + 1000 });
      })();
    }
  }
}
