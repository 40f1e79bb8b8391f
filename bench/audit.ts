import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditLog } from '../src/audit/audit-log.js';
import { loadSigningKey } from '../src/audit/keys.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { PEOPLE } from './lib/env.js';

export interface AuditConfig {
  events: number;
}

export interface AuditFigures {
  events: number;
  signed: number;
  /** Appending them with the product's AuditLog (hash chain + Ed25519 for decisions). */
  appendMs: number;
  /** `countersign audit verify --database <file>`: wall time of the whole command. */
  verifyMs: number;
  exitCode: number | null;
  output: string;
  eventsPerSecond: number;
}

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/**
 * Builds an audit log of `events` events with the product's own writer, in the mix of a real
 * request's life (created, card posted, vote recorded and approved: half of them signed), then runs
 * the real `countersign audit verify` on it as a separate process and times it.
 */
export async function benchAudit(cfg: AuditConfig): Promise<AuditFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-audit-'));
  const path = join(dir, 'countersign.db');
  try {
    const { events, signed, appendMs } = await buildAuditLog(path, cfg.events);
    const verifyStart = performance.now();
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'audit', 'verify', '--database', path], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (c: Buffer) => {
        text += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        text += c.toString();
      });
      const kill = () => child.kill('SIGKILL');
      const timer = setTimeout(kill, 120_000);
      process.once('exit', kill); // the run's watchdog must not leave it behind
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        process.off('exit', kill);
        resolve({ code: exitCode, output: text.trim() });
      });
    });
    const verifyMs = performance.now() - verifyStart;
    return {
      events,
      signed,
      appendMs,
      verifyMs,
      exitCode: code,
      output,
      eventsPerSecond: (events / verifyMs) * 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `count` events with the product's AuditLog into a new database at `path`. */
export async function buildAuditLog(
  path: string,
  count: number,
): Promise<{ events: number; signed: number; appendMs: number }> {
  const cfg = { events: count };
  {
    const database = openSqliteStore(path);
    const audit = new AuditLog(loadSigningKey(null, path));
    const t0 = Date.now() - 86_400_000;
    let events = 0;
    let signed = 0;
    const appendStart = performance.now();
    events = await database.transaction(async (t) => {
      await audit.registerKey(t, t0);
      await audit.recordPolicyInForce(t, null, t0);
      return (await audit.head(t)).seq;
    });
    let r = 0;
    while (events < cfg.events) {
      await database.transaction(async (t) => {
        for (let i = 0; i < 250 && events < cfg.events; i++) {
          r++;
          const id = `req_bench${String(r).padStart(17, '0')}`;
          const at = t0 + r * 50;
          const base = {
            client: 'ci',
            requester: { slack_user_id: PEOPLE.alice.id, name: PEOPLE.alice.name },
            action: 'db.export',
            title: `Export the customers table to the analytics bucket (run ${r})`,
            payload_sha256: 'ab'.repeat(32),
          };
          const lifecycle: [string, string, Record<string, unknown>][] = [
            [
              'request.created',
              'client:ci',
              { ...base, risk: 'high', channel: 'C0APPROVALS', redactions: 0 },
            ],
            ['card.posted', 'system', { channel: 'C0APPROVALS', ts: `1700000000.${r}`, permalink: null }],
            [
              'vote.recorded',
              PEOPLE.bob.id,
              { decision: 'approve', reason: null, approvals: 1, min_approvals: 1 },
            ],
            ['request.approved', PEOPLE.bob.id, { ...base, threshold_met: '1 of 1 approvals', votes: [] }],
          ];
          for (const [type, actor, data] of lifecycle) {
            if (events >= cfg.events) break;
            const e = await audit.append(t, { type, requestId: id, actor, data }, at);
            events++;
            if (e.signature) signed++;
          }
        }
      });
    }
    const appendMs = performance.now() - appendStart;
    database.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    await database.close();
    return { events, signed, appendMs };
  }
}
