import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Approvals } from '../../src/approvals/service.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { SIGNED_TYPES } from '../../src/audit/chain.js';
import { loadSigningKey } from '../../src/audit/keys.js';
import { verifyAuditFile } from '../../src/audit/open-readonly.js';
import { TEST_WORKSPACE } from '../support/service.js';
import { auditFixture, clicker, events, newKeyPem, submit } from './audit-fixture.js';

const USERS = ['UALICE', 'UBOB', 'UCAROL', 'UDAVE', 'UEVE'] as const;

type Op =
  | { op: 'create'; min: number; ttl: number }
  | { op: 'approve' | 'deny'; req: number; user: number; reason: boolean }
  | { op: 'cancel'; req: number }
  | { op: 'expire'; seconds: number }
  | { op: 'checkpoint' }
  | { op: 'rotate' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('create' as const),
      min: fc.integer({ min: 1, max: 3 }),
      ttl: fc.integer({ min: 10, max: 300 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constantFrom('approve' as const, 'deny' as const),
      req: fc.nat(),
      user: fc.nat({ max: USERS.length - 1 }),
      reason: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cancel' as const), req: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('expire' as const), seconds: fc.integer({ min: 1, max: 400 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('checkpoint' as const) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'rotate' as const }) },
);

const DECISIONS = /^request\.(approved|denied|expired|cancelled)$/;

describe('random sequences of create / vote / deny / expire / cancel', () => {
  it('always leave a chain that verifies, with every decision and vote signed', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const f = await auditFixture({ now: Date.UTC(2025, 0, 1) });
        let approvals = f.approvals;
        let audit = f.audit;
        let now = Date.UTC(2025, 0, 1);
        const ids: string[] = [];
        try {
          for (const o of ops) {
            now += 1000;
            switch (o.op) {
              case 'create':
                ids.push(await submit({ approvals }, now, { min_approvals: o.min, ttl_seconds: o.ttl }));
                break;
              case 'approve':
              case 'deny': {
                const id = ids[o.req % Math.max(ids.length, 1)];
                if (!id) break;
                const reason = o.op === 'deny' && o.reason ? 'too risky today' : null;
                await approvals.vote(id, clicker(USERS[o.user] ?? 'UBOB'), { decision: o.op, reason }, now);
                break;
              }
              case 'cancel': {
                const id = ids[o.req % Math.max(ids.length, 1)];
                if (id) await approvals.cancel(id, 'client:ci', 'withdrawn', now, 'ci');
                break;
              }
              case 'expire':
                now += o.seconds * 1000;
                await approvals.expireDue(now);
                break;
              case 'checkpoint':
                await f.checkpoints.take(now, 'periodic');
                break;
              case 'rotate': {
                // A restart with a new AUDIT_SIGNING_KEY: same database, new key.
                const next = new AuditLog(loadSigningKey(newKeyPem(), f.dbPath));
                audit = next;
                await f.database.transaction((t) => next.registerKey(t, now));
                approvals = new Approvals({
                  store: f.database,
                  audit,
                  defaultChannel: 'C0TEST',
                  policy: null,
                  workspace: TEST_WORKSPACE,
                });
                break;
              }
            }
          }
          const result = await verifyAuditFile(f.dbPath);
          if (!result.ok) throw new Error(`verify failed: ${JSON.stringify(result.problem)}`);

          const rows = events(f.database.sqlite);
          for (const e of rows) seen.add(e.type);
          for (const e of rows) {
            if (SIGNED_TYPES.has(e.type)) {
              expect(e.key_id, `${e.type} #${e.seq} key id`).not.toBeNull();
              expect(e.signature, `${e.type} #${e.seq} signature`).not.toBeNull();
            }
          }
          expect(result.summary.signedEvents).toBe(rows.filter((e) => e.signature !== null).length);

          // One signed decision record per closed request, of its final status.
          const requests = f.database.sqlite.prepare('SELECT id, status FROM requests').all() as {
            id: string;
            status: string;
          }[];
          for (const r of requests) {
            const decisions = rows.filter((e) => e.request_id === r.id && DECISIONS.test(e.type));
            if (r.status === 'pending') expect(decisions).toEqual([]);
            else {
              expect(decisions.map((e) => e.type)).toEqual([`request.${r.status}`]);
              const data = JSON.parse(decisions[0]?.data ?? '{}');
              expect(Object.keys(data)).toEqual(
                expect.arrayContaining([
                  'client',
                  'requester',
                  'payload_sha256',
                  'approvers',
                  'min_approvals',
                  'threshold_met',
                  'votes',
                  'policy_rule',
                  'policy_hash',
                  'created_at',
                  'decided_at',
                  'expires_at',
                ]),
              );
            }
          }
          // Every stored vote has its signed vote.recorded event, with who voted at the time.
          const votes = f.database.sqlite.prepare('SELECT request_id, user_id FROM votes').all() as {
            request_id: string;
            user_id: string;
          }[];
          const recorded = rows.filter((e) => e.type === 'vote.recorded');
          expect(recorded).toHaveLength(votes.length);
          for (const v of votes) {
            const e = recorded.find((x) => x.request_id === v.request_id && x.actor === v.user_id);
            expect(JSON.parse(e?.data ?? '{}').user).toMatchObject({ id: v.user_id, team_id: 'T0FAKE' });
          }
        } finally {
          await f.remove();
        }
      }),
      { numRuns: 60 },
    );
    // The runs together reached every kind of decision (the property is not vacuous).
    for (const type of [
      'vote.recorded',
      'vote.refused',
      'request.approved',
      'request.denied',
      'request.expired',
      'request.cancelled',
      'audit.checkpoint',
      'audit.key_registered',
    ])
      expect(seen, type).toContain(type);
  });
});
