import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Approvals } from '../src/approvals/service.js';
import { AuditLog } from '../src/audit/audit-log.js';
import { loadSigningKey } from '../src/audit/keys.js';
import { newRequestId } from '../src/core/ids.js';
import { parseCreateRequest } from '../src/core/request-schema.js';
import { sweepOnce } from '../src/jobs/sweep.js';
import { createLogger } from '../src/log.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { CHANNEL } from './lib/env.js';
import { requestBody } from './lib/load.js';
import { median } from './lib/stats.js';

export interface ExpiryConfig {
  pending: number;
  due: number;
  /** Idle ticks measured (the figure is their median; the worst is shown too). */
  ticks: number;
}

export interface ExpiryFigures {
  pending: number;
  seedMs: number;
  idleTickMedianMs: number;
  idleTickMaxMs: number;
  firstIdleTickMs: number;
  due: number;
  dueTickMs: number;
  expired: number;
  auditEvents: number;
  outboxRows: number;
}

const HOUR = 3_600_000;

/**
 * One sweep tick (`sweepOnce`: `expireDue` then `remindDue`, exactly what the cron runs) over a
 * database of `pending` pending requests, none due; then with `due` more that are past their
 * deadline. The rows are seeded with direct inserts (one transaction), cloned from a request made by
 * the real `submit`, so every column is as the product writes it.
 */
export async function benchExpiry(cfg: ExpiryConfig): Promise<ExpiryFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-expiry-'));
  const path = join(dir, 'countersign.db');
  const database = openSqliteStore(path);
  try {
    const audit = new AuditLog(loadSigningKey(null, path));
    const t0 = Date.now();
    await database.transaction((t) => audit.registerKey(t, t0));
    const approvals = new Approvals({ store: database, audit, defaultChannel: CHANNEL, policy: null });
    const parsed = parseCreateRequest(JSON.parse(requestBody(0)));
    if (!parsed.ok) throw new Error('bench request body does not parse');
    const made = await approvals.submit('ci', 'msg_template', 'f'.repeat(64), parsed.value, t0);
    if (made.kind !== 'created') throw new Error(`template request not created: ${made.kind}`);
    const sqlite = database.sqlite;
    const template = sqlite.prepare('SELECT * FROM requests WHERE id = ?').get(made.request.id) as Record<
      string,
      unknown
    >;
    const columns = Object.keys(template);
    const insert = sqlite.prepare(
      `INSERT INTO requests (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
    );
    const seed = (count: number, createdAt: number, expiresAt: number, tag: string) =>
      database.transaction(async () => {
        for (let i = 0; i < count; i++) {
          insert.run({
            ...template,
            id: newRequestId(createdAt),
            webhook_id: `msg_${tag}_${i}`,
            created_at: createdAt,
            expires_at: expiresAt,
            next_reminder_at: createdAt + (expiresAt - createdAt) / 2,
          });
        }
      });

    // `pending` requests made an hour ago, due in 23 hours (first reminder in 11).
    const now = t0;
    const seedStart = performance.now();
    await seed(cfg.pending - 1, now - HOUR, now + 23 * HOUR, 'pending');
    const seedMs = performance.now() - seedStart;
    sqlite.pragma('wal_checkpoint(TRUNCATE)');

    const log = createLogger('error', () => {});
    const deps = { approvals, log, now: () => now };
    const tick = async () => {
      const start = performance.now();
      const result = await sweepOnce(deps);
      if (result.expired !== 0 || result.reminded !== 0) throw new Error('an idle tick did work');
      return performance.now() - start;
    };
    const firstIdleTickMs = await tick();
    const idle: number[] = [];
    for (let i = 0; i < cfg.ticks; i++) idle.push(await tick());

    // `due` more, made two hours ago with a one-hour TTL: past their deadline (and their reminders).
    await seed(cfg.due, now - 2 * HOUR, now - HOUR, 'due');
    const eventsBefore = sqlite.prepare('SELECT count(*) FROM audit_events').pluck().get() as number;
    const outboxBefore = sqlite.prepare('SELECT count(*) FROM outbox').pluck().get() as number;
    const start = performance.now();
    const result = await sweepOnce(deps);
    const dueTickMs = performance.now() - start;
    const pendingLeft = sqlite
      .prepare("SELECT count(*) FROM requests WHERE status = 'pending'")
      .pluck()
      .get();
    if (pendingLeft !== cfg.pending)
      throw new Error(`${pendingLeft} pending after the sweep, not ${cfg.pending}`);
    return {
      pending: cfg.pending,
      seedMs,
      idleTickMedianMs: median(idle),
      idleTickMaxMs: Math.max(...idle),
      firstIdleTickMs,
      due: cfg.due,
      dueTickMs,
      expired: result.expired,
      auditEvents:
        (sqlite.prepare('SELECT count(*) FROM audit_events').pluck().get() as number) - eventsBefore,
      outboxRows: (sqlite.prepare('SELECT count(*) FROM outbox').pluck().get() as number) - outboxBefore,
    };
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
