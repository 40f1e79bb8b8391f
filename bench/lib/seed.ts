import { Approvals } from '../../src/approvals/service.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadSigningKey } from '../../src/audit/keys.js';
import { newRequestId } from '../../src/core/ids.js';
import { parseCreateRequest } from '../../src/core/request-schema.js';
import type { OpenDatabase } from '../../src/store/db.js';
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
 * Seeds requests straight into the table (prepared insert, large transactions), cloned from one
 * request made by the real `submit`, so every column is as the product writes it. Much faster
 * than the API: this sets the stage, the API is what is measured afterwards.
 */
export class Seeder {
  readonly approvals: Approvals;
  readonly audit: AuditLog;
  private readonly template: Record<string, unknown>;
  private readonly insert: (row: Record<string, unknown>) => void;
  private n = 0;

  constructor(
    readonly database: OpenDatabase,
    path: string,
    now: number,
  ) {
    this.audit = new AuditLog(database.db, loadSigningKey(null, path));
    database.tx(() => this.audit.registerKey(now));
    this.approvals = new Approvals({ database, audit: this.audit, defaultChannel: CHANNEL, policy: null });
    const parsed = parseCreateRequest(JSON.parse(requestBody(0)));
    if (!parsed.ok) throw new Error('bench request body does not parse');
    const made = this.approvals.submit('ci', 'msg_template', 'f'.repeat(64), parsed.value, now);
    if (made.kind !== 'created') throw new Error(`template request not created: ${made.kind}`);
    const sqlite = database.sqlite;
    this.template = sqlite.prepare('SELECT * FROM requests WHERE id = ?').get(made.request.id) as Record<
      string,
      unknown
    >;
    const columns = Object.keys(this.template);
    const stmt = sqlite.prepare(
      `INSERT INTO requests (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
    );
    this.insert = (row) => stmt.run(row);
  }

  /** `count` rows like `clone`, in transactions of `chunk`; returns their ids. */
  requests(count: number, clone: Clone, tag: string, chunk = 50_000): string[] {
    const ids: string[] = [];
    for (let done = 0; done < count; done += chunk) {
      this.database.tx(() => {
        for (let i = done; i < Math.min(count, done + chunk); i++) {
          const createdAt = clone.createdAt + i * (clone.stepMs ?? 0);
          const id = newRequestId(createdAt);
          const decided = clone.status !== undefined && clone.status !== 'pending';
          this.insert({
            ...this.template,
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
      });
    }
    return ids;
  }
}
