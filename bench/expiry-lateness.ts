import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Approvals } from '../src/approvals/service.js';
import { AuditLog } from '../src/audit/audit-log.js';
import { loadSigningKey } from '../src/audit/keys.js';
import { parseCreateRequest } from '../src/core/request-schema.js';
import { ExpiryTimer } from '../src/jobs/expiry-timer.js';
import { createLogger } from '../src/log.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { CHANNEL } from './lib/env.js';
import { requestBody } from './lib/load.js';
import { type LatencySummary, Samples } from './lib/stats.js';

export interface LatenessConfig {
  /** Requests that fall due during the run, their deadlines spread over `spreadMs`. */
  requests: number;
  spreadMs: number;
  /** Pending requests with far deadlines, there from the start (the timer must pick the earliest). */
  background: number;
}

export interface LatenessFigures {
  requests: number;
  expired: number;
  /** Milliseconds from `expires_at` to the moment the request was expired (committed, waiters woken). */
  lateness: LatencySummary;
}

/**
 * Expiry lateness: how long after `expires_at` a request is actually expired, with the product's own
 * pieces (Approvals on a SQLite file, the deadline timer of src/jobs/expiry-timer.ts) and no cron at
 * all. Requests are made with their clock set back so that their deadlines (TTL 10 s, the minimum)
 * fall 0.5 s to 0.5 s + `spreadMs` from now; more are made while they fall due, so intake and expiry
 * share the event loop and the database as in the server.
 */
export async function benchExpiryLateness(cfg: LatenessConfig): Promise<LatenessFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-lateness-'));
  const path = join(dir, 'countersign.db');
  const database = openSqliteStore(path);
  const log = createLogger('error', () => {});
  let timer: ExpiryTimer | null = null;
  try {
    const audit = new AuditLog(loadSigningKey(null, path));
    await database.transaction((t) => audit.registerKey(t, Date.now()));
    const approvals = new Approvals({ store: database, audit, defaultChannel: CHANNEL, policy: null });
    const expiry = new ExpiryTimer({
      approvals,
      log,
      now: Date.now,
      nextDeadline: () => database.requests.nextPendingDeadline(),
    });
    timer = expiry;
    const input = (n: number, ttlSeconds: number) => {
      const parsed = parseCreateRequest({ ...JSON.parse(requestBody(n)), ttl_seconds: ttlSeconds });
      if (!parsed.ok) throw new Error('bench request body does not parse');
      return parsed.value;
    };
    let n = 0;
    const submit = async (ttlSeconds: number, madeAt: number) => {
      n++;
      const made = await approvals.submit(
        'ci',
        `msg_lateness_${n}`,
        'f'.repeat(64),
        input(n, ttlSeconds),
        madeAt,
      );
      if (made.kind !== 'created') throw new Error(`request not created: ${made.kind}`);
      return made.request;
    };
    for (let i = 0; i < cfg.background; i++) await submit(86_400, Date.now());

    const samples = new Samples();
    const deadlines = new Map<string, number>();
    let expired = 0;
    let allDone: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allDone = resolve;
    });
    approvals.onDecided = (r) => {
      const deadline = deadlines.get(r.id);
      if (deadline === undefined || r.status !== 'expired') return;
      samples.add(Date.now() - deadline);
      if (++expired === cfg.requests) allDone();
    };
    approvals.onPending = (r) => expiry.arm(r.expiresAt);
    expiry.start();

    const start = Date.now();
    for (let i = 0; i < cfg.requests; i++) {
      const dueIn = 500 + Math.round((i / cfg.requests) * cfg.spreadMs);
      const r = await submit(10, start + dueIn - 10_000);
      deadlines.set(r.id, r.expiresAt);
    }
    // Intake keeps going while they fall due: one far-off request every 5 ms.
    const load = setInterval(() => void submit(86_400, Date.now()), 5);
    const watchdog = new Promise<void>((resolve) => setTimeout(resolve, cfg.spreadMs + 30_000).unref());
    await Promise.race([done, watchdog]);
    clearInterval(load);
    return { requests: cfg.requests, expired, lateness: samples.summary() };
  } finally {
    timer?.stop();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
