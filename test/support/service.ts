import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Approvals } from '../../src/approvals/service.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadSigningKey } from '../../src/audit/keys.js';
import type { Policy } from '../../src/core/policy.js';
import { type CreateRequestInput, parseCreateRequest } from '../../src/core/request-schema.js';
import type { Clicker } from '../../src/core/types.js';
import { type OpenDatabase, openDatabase } from '../../src/store/db.js';

export interface ServiceFixture {
  approvals: Approvals;
  database: OpenDatabase;
  audit: AuditLog;
  dir: string;
  close(): void;
}

/** The approvals service on a temp database, without HTTP or Slack: for unit tests of transitions. */
export function serviceFixture(opts: { policy?: Policy | null; dir?: string } = {}): ServiceFixture {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'countersign-svc-'));
  const dbPath = join(dir, 'countersign.db');
  const database = openDatabase(dbPath);
  const audit = new AuditLog(database.db, loadSigningKey(null, dbPath));
  database.tx(() => audit.registerKey(Date.now()));
  const approvals = new Approvals({
    database,
    audit,
    defaultChannel: 'C0TEST',
    policy: opts.policy ?? null,
    workspace: TEST_WORKSPACE,
  });
  return {
    approvals,
    database,
    audit,
    dir,
    close() {
      database.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The workspace the fixture's people (`person()`) belong to. */
export const TEST_WORKSPACE = { teamId: 'T0FAKE', enterpriseId: null };

let seq = 0;

export function input(over: Record<string, unknown> = {}): CreateRequestInput {
  const parsed = parseCreateRequest({
    action: 'db.export',
    title: 'Export',
    requester: { slack_user_id: 'UALICE' },
    ...over,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

/** Creates a pending request at `now`; returns its id. */
export function createAt(f: ServiceFixture, now: number, over: Record<string, unknown> = {}): string {
  seq += 1;
  const result = f.approvals.submit('ci', `msg_${seq}_${now}`, `sha${seq}`, input(over), now);
  if (result.kind !== 'created') throw new Error(`not created: ${result.kind}`);
  return result.request.id;
}

export function person(userId: string, over: Partial<Clicker> = {}): Clicker {
  return {
    userId,
    teamId: 'T0FAKE',
    enterpriseId: null,
    name: userId,
    email: `${userId.toLowerCase()}@example.com`,
    isBot: false,
    isAppUser: false,
    isRestricted: false,
    isUltraRestricted: false,
    deleted: false,
    groups: [],
    ...over,
  };
}
