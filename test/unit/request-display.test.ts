import { describe, expect, it } from 'vitest';
import { deliveryErrorLines, outcome, statusLine, voteLog } from '../../src/cli/request-display.js';
import type { RequestObject } from '../../src/client/index.js';

const base: RequestObject = {
  id: 'req_01TEST',
  status: 'pending',
  action: 'deploy.production',
  title: 'Deploy the web tier with the new checkout flow to production',
  requester: { email: 'alice@example.com' },
  client: 'ci',
  risk: 'high',
  summary: null,
  resource: null,
  environment: 'production',
  created_at: '2026-01-01T10:00:00.000Z',
  expires_at: '2026-01-01T11:00:00.000Z',
  decided_at: null,
  decided_by: null,
  min_approvals: 2,
  votes: [],
  reason: null,
  payload_sha256: 'x',
  policy: { rule: null, hash: null },
  redactions: 0,
  slack_url: 'https://example.slack.com/archives/C0APPROVALS/p1700000000000001',
  delivery_error: null,
  caller: null,
  attestation: null,
  consumed_at: null,
};
const now = Date.parse('2026-01-01T10:30:00.000Z');
const bob = {
  user_id: 'UBOB',
  name: 'Bob Builder',
  decision: 'approve' as const,
  reason: null,
  at: '2026-01-01T10:10:00.000Z',
};

describe('the status line', () => {
  it('fits the terminal width it is given', () => {
    const line = statusLine(base, now, 60);
    expect(line.length).toBeLessThanOrEqual(59);
    expect(line.endsWith('…')).toBe(true);
  });

  it('uses 80 columns when the terminal reports 0 (or none), not a 10-character stub', () => {
    for (const columns of [0, undefined]) {
      const line = statusLine(base, now, columns);
      expect(line.length).toBe(79);
      expect(line.startsWith('Waiting for approval of deploy.production "Deploy the web tier')).toBe(true);
    }
  });
});

describe('names instead of IDs', () => {
  it('names voters, approvers and the denier, and falls back to the ID without a name', () => {
    expect(voteLog({ ...base, votes: [bob] }, 0)).toBe('Vote: Bob Builder approved (1/2 approvals)');
    const approved = {
      ...base,
      status: 'approved' as const,
      votes: [bob, { ...bob, user_id: 'UCAROL', name: null }],
    };
    expect(outcome(approved).lines[0]).toBe('Approved by Bob Builder, UCAROL (req_01TEST).');
    const denied = {
      ...base,
      status: 'denied' as const,
      reason: 'freeze',
      decided_by: 'UDAVE',
      votes: [{ ...bob, user_id: 'UDAVE', name: 'Dave Dba', decision: 'deny' as const, reason: 'freeze' }],
    };
    expect(outcome(denied).lines).toEqual(['Denied by Dave Dba (req_01TEST).', 'Reason: freeze']);
    const byClient = {
      ...base,
      status: 'cancelled' as const,
      decided_by: 'client:ci',
      reason: 'rolled back',
    };
    expect(outcome(byClient).lines).toEqual(['Cancelled by the client ci: rolled back (req_01TEST).']);
    const byPolicy = {
      ...base,
      status: 'approved' as const,
      decided_by: 'policy',
      policy: { rule: 'staging', hash: 'h' },
    };
    expect(outcome(byPolicy).lines[0]).toBe('Approved by policy rule staging (req_01TEST).');
  });
});

describe('a delivery error', () => {
  it('says what Slack refused and what to do', () => {
    expect(deliveryErrorLines(base)).toEqual([]);
    const failed = {
      ...base,
      delivery_error: { code: 'channel_not_found', message: 'check COUNTERSIGN_DEFAULT_CHANNEL' },
    };
    expect(deliveryErrorLines(failed)).toEqual([
      'Slack cannot show req_01TEST: check COUNTERSIGN_DEFAULT_CHANNEL (channel_not_found).',
      'Delivery resumes by itself once this is fixed.',
    ]);
  });
});
