import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Approvals } from '../../src/approvals/service.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadSigningKey } from '../../src/audit/keys.js';
import type { Policy } from '../../src/core/policy.js';
import { type CreateRequestInput, parseCreateRequest } from '../../src/core/request-schema.js';
import type { Clicker } from '../../src/core/types.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';

export interface ServiceFixture {
  approvals: Approvals;
  store: ReturnType<typeof openSqliteStore>;
  audit: AuditLog;
  dir: string;
  close(): Promise<void>;
}

/** The approvals service on a temp database, without HTTP or Slack: for unit tests of transitions. */
export async function serviceFixture(
  opts: { policy?: Policy | null; dir?: string } = {},
): Promise<ServiceFixture> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'countersign-svc-'));
  const dbPath = join(dir, 'countersign.db');
  const store = openSqliteStore(dbPath);
  const audit = new AuditLog(loadSigningKey(null, dbPath));
  await store.transaction((t) => audit.registerKey(t, Date.now()));
  const approvals = new Approvals({
    store,
    audit,
    defaultChannel: 'C0TEST',
    policy: opts.policy ?? null,
    workspace: TEST_WORKSPACE,
  });
  return {
    approvals,
    store,
    audit,
    dir,
    async close() {
      await store.close();
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
export async function createAt(
  f: ServiceFixture,
  now: number,
  over: Record<string, unknown> = {},
): Promise<string> {
  seq += 1;
  const result = await f.approvals.submit('ci', `msg_${seq}_${now}`, `sha${seq}`, input(over), now);
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
