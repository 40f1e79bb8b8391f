import { describe, expect, it } from 'vitest';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  type CardView,
  checkMessage,
  checkModal,
  DENY_REASON_ACTION,
  DENY_REASON_BLOCK,
  diffStat,
  fullDiffFile,
  renderCard,
  renderDenyModal,
  renderOutcomeReply,
  renderReminder,
  renderVoteReply,
  VIEW_DENY,
} from '../../blocks/index.js';

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);
const MIN = 60_000;

const DIFF = [
  'diff --git a/deploy/api.yaml b/deploy/api.yaml',
  'index 3b18e51..a9c2f4d 100644',
  '--- a/deploy/api.yaml',
  '+++ b/deploy/api.yaml',
  '@@ -1,4 +1,4 @@',
  ' service: api',
  '-image: api:1.4.2',
  '+image: api:1.5.0',
  ' replicas: 3',
  '-# -- old note',
  '+# ++ new note',
  'diff --git a/README.md b/README.md',
  '--- a/README.md',
  '+++ b/README.md',
  '@@ -10,0 +11,2 @@',
  '+## Rollout',
  '+See the runbook.',
  '',
].join('\n');

/** A request with every optional field set. */
const FULL: CardView = {
  id: 'req_01JH3Q4Z8X6V2K9M5N7P0R1S2T',
  status: 'pending',
  title: 'Deploy api 1.5.0 to production',
  risk: 'high',
  action: 'deploy.service',
  resource: 'k8s/prod/api',
  environment: 'production',
  client: 'github-actions',
  requester: { slackUserId: 'U0REQUESTER', name: 'Ana Lima', email: 'ana@example.com' },
  summary:
    'Rolls out *api 1.5.0*: new `/v2/orders` endpoint.\n• migration already applied\n• canary green for 2h',
  context: { commit: '9f1c2ab', pr: 1234, 'dry run': false, pipeline: 'release #88' },
  links: [
    { text: 'Pipeline run', url: 'https://github.com/acme/api/actions/runs/88' },
    { text: 'Change ticket', url: 'https://jira.example.com/browse/OPS-42' },
  ],
  diff: DIFF,
  createdAt: T0,
  expiresAt: T0 + 60 * MIN,
  decidedAt: null,
  decidedBy: null,
  reason: null,
  minApprovals: 2,
  votes: [],
  approverUsers: ['U0APPROVER1', 'U0APPROVER2'],
  approverGroups: ['S0SRE'],
  policyRule: 'prod-deploys',
  redactions: 2,
};

/** A request with no optional field. */
const BARE: CardView = {
  ...FULL,
  id: 'req_01JH3Q4Z8X6V2K9M5N7P0BARE0',
  title: 'Export the users table',
  risk: 'medium',
  action: 'db.export',
  resource: null,
  environment: null,
  client: 'nightly',
  requester: { slackUserId: null, name: null, email: 'ops@example.com' },
  summary: null,
  context: null,
  links: null,
  diff: null,
  minApprovals: 1,
  approverUsers: [],
  approverGroups: [],
  policyRule: null,
  redactions: 0,
};

const vote1 = { userId: 'U0APPROVER1', decision: 'approve' as const, reason: null, at: T0 + 5 * MIN };
const vote2 = {
  userId: 'U0APPROVER2',
  decision: 'approve' as const,
  reason: 'Canary looks fine',
  at: T0 + 7 * MIN,
};
const denyVote = {
  userId: 'U0APPROVER2',
  decision: 'deny' as const,
  reason: 'Not during the freeze.\nRetry on Monday.',
  at: T0 + 8 * MIN,
};

const STATES: Record<string, CardView> = {
  'pending-0-votes': FULL,
  'pending-1-of-2': { ...FULL, votes: [vote1] },
  approved: {
    ...FULL,
    status: 'approved',
    votes: [vote1, vote2],
    decidedAt: vote2.at,
    decidedBy: vote2.userId,
  },
  denied: {
    ...FULL,
    status: 'denied',
    votes: [vote1, denyVote],
    decidedAt: denyVote.at,
    decidedBy: denyVote.userId,
    reason: denyVote.reason,
  },
  expired: { ...FULL, status: 'expired', votes: [vote1], decidedAt: FULL.expiresAt, decidedBy: 'system' },
  cancelled: {
    ...FULL,
    status: 'cancelled',
    decidedAt: T0 + 3 * MIN,
    decidedBy: 'client:github-actions',
    reason: 'Superseded by release #89',
  },
  'auto-approved': {
    ...FULL,
    status: 'approved',
    risk: 'low',
    decidedAt: T0,
    decidedBy: 'policy',
    policyRule: 'staging-auto',
  },
  'bare-pending': BARE,
  'bare-approved': {
    ...BARE,
    status: 'approved',
    votes: [vote1],
    decidedAt: vote1.at,
    decidedBy: vote1.userId,
  },
  'bare-expired': { ...BARE, status: 'expired', decidedAt: BARE.expiresAt, decidedBy: 'system' },
};

const golden = (name: string) => `./__snapshots__/blocks/${name}.json`;
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

describe('renderCard', () => {
  for (const [name, view] of Object.entries(STATES)) {
    it(`renders the ${name} card`, async () => {
      const card = renderCard(view);
      expect(checkMessage(card)).toEqual([]);
      await expect(json(card)).toMatchFileSnapshot(golden(`card-${name}`));
    });
  }

  it('has Approve (primary) and Deny (danger) buttons carrying the id only while pending', () => {
    const buttons = (v: CardView) =>
      renderCard(v).blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
    expect(buttons(FULL)).toMatchObject([
      { action_id: ACTION_APPROVE, style: 'primary', value: FULL.id, text: { text: 'Approve' } },
      { action_id: ACTION_DENY, style: 'danger', value: FULL.id, text: { text: 'Deny' } },
    ]);
    for (const [name, view] of Object.entries(STATES)) {
      if (view.status !== 'pending') expect(buttons(view), name).toEqual([]);
    }
  });

  it('says who decided and why in the final state', () => {
    const text = (v: CardView) => JSON.stringify(renderCard(v));
    expect(text(STATES.denied as CardView)).toContain('Not during the freeze.');
    expect(text(STATES.cancelled as CardView)).toContain('the pipeline *github-actions*');
    expect(text(STATES['auto-approved'] as CardView)).toContain(
      'Approved automatically by policy rule “staging-auto”',
    );
    expect(text(STATES.expired as CardView)).toContain('nobody decided in time');
  });

  it('marks a requester Slack knows no user for as unverified, everywhere it is named', () => {
    const unverified: CardView = {
      ...FULL,
      requester: {
        slackUserId: null,
        name: 'Ana Lima',
        email: 'ana+ci@users.noreply.github.com',
        verified: false,
      },
    };
    const card = renderCard(unverified);
    expect(checkMessage(card)).toEqual([]);
    expect(JSON.stringify(card.blocks)).toContain(
      'Ana Lima (ana+ci@users.noreply.github.com) :warning: _unverified: no Slack user matches_',
    );
    expect(card.text).toContain('unverified');
    expect(JSON.stringify(renderDenyModal(unverified))).toContain('unverified');
    for (const verified of [true, null, undefined]) {
      const view = { ...FULL, requester: { ...FULL.requester, verified } };
      expect(JSON.stringify(renderCard(view))).not.toContain('unverified');
    }
  });

  it('writes a one-line fallback with status, title and requester', () => {
    expect(renderCard(FULL).text).toBe(
      'Approval needed (high risk): Deploy api 1.5.0 to production — requested by <@U0REQUESTER> via github-actions',
    );
    expect(renderCard(STATES['bare-approved'] as CardView).text).toBe(
      'Approved: Export the users table — requested by ops@example.com via nightly',
    );
  });
});

describe('thread messages', () => {
  const cases: Record<string, () => unknown> = {
    'vote-approve': () => renderVoteReply({ ...FULL, votes: [vote1] }, vote1),
    'vote-approve-with-reason': () => renderVoteReply(FULL, vote2),
    'vote-deny': () => renderVoteReply(FULL, denyVote),
    'outcome-approved': () => renderOutcomeReply(STATES.approved as CardView),
    'outcome-denied': () => renderOutcomeReply(STATES.denied as CardView),
    'outcome-expired': () => renderOutcomeReply(STATES.expired as CardView),
    'outcome-cancelled': () => renderOutcomeReply(STATES.cancelled as CardView),
    'outcome-auto-approved': () => renderOutcomeReply(STATES['auto-approved'] as CardView),
    'outcome-bare-expired': () => renderOutcomeReply(STATES['bare-expired'] as CardView),
    reminder: () => renderReminder({ ...FULL, votes: [vote1] }, ['U0APPROVER2', 'S0SRE'], T0 + 35 * MIN),
    'reminder-without-now': () => renderReminder(BARE, []),
  };
  for (const [name, render] of Object.entries(cases)) {
    it(`renders ${name}`, async () => {
      const message = render() as { text: string; blocks?: unknown[] };
      expect(checkMessage(message)).toEqual([]);
      await expect(json(message)).toMatchFileSnapshot(golden(`thread-${name}`));
    });
  }

  it('counts a new approval that the view does not hold yet', () => {
    expect(renderVoteReply(FULL, vote1).text).toContain('(1 of 2 approvals)');
  });

  it('tells the time left in a reminder', () => {
    expect(JSON.stringify(renderReminder(FULL, ['U0APPROVER1'], T0 + 35 * MIN))).toContain('25 minutes left');
    expect(JSON.stringify(renderReminder(FULL, ['U0APPROVER1'], T0 + 90 * MIN))).toContain('time is up');
  });
});

describe('renderDenyModal', () => {
  for (const [name, view] of Object.entries({ full: FULL, bare: BARE })) {
    it(`renders the ${name} modal`, async () => {
      const modal = renderDenyModal(view);
      expect(checkModal(modal)).toEqual([]);
      await expect(json(modal)).toMatchFileSnapshot(golden(`deny-modal-${name}`));
    });
  }

  it('carries the id and asks for a required reason of at most 1000 characters', () => {
    const modal = renderDenyModal(FULL);
    expect(modal).toMatchObject({
      type: 'modal',
      callback_id: VIEW_DENY,
      private_metadata: FULL.id,
      submit: { text: 'Deny' },
      close: { text: 'Cancel' },
    });
    expect(modal.title.text.length).toBeLessThanOrEqual(24);
    expect(modal.blocks).toContainEqual(
      expect.objectContaining({
        type: 'input',
        block_id: DENY_REASON_BLOCK,
        optional: false,
        element: expect.objectContaining({
          type: 'plain_text_input',
          action_id: DENY_REASON_ACTION,
          multiline: true,
          max_length: 1000,
        }),
      }),
    );
    expect(JSON.stringify(modal)).toContain(FULL.title);
  });
});

describe('diffStat', () => {
  it('counts files and changed lines, not headers', () => {
    expect(diffStat(DIFF)).toEqual({ files: 2, added: 4, removed: 2, lines: 17 });
  });

  it('counts a removed "-- x" and an added "++ y" inside a hunk as changes', () => {
    const diff = '--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n--- x\n+++ y\n same\n';
    expect(diffStat(diff)).toEqual({ files: 1, added: 1, removed: 1, lines: 6 });
  });

  it('counts files without git headers, and lines of a diff without hunk headers', () => {
    expect(diffStat('--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n--- c\n+++ d\n@@ -0,0 +1 @@\n+z')).toMatchObject({
      files: 2,
      added: 2,
      removed: 1,
    });
    expect(diffStat('+a\n+b\n-c\n context')).toEqual({ files: 0, added: 2, removed: 1, lines: 4 });
    expect(diffStat('')).toEqual({ files: 0, added: 0, removed: 0, lines: 0 });
  });

  it('counts a rename without content as a file', () => {
    const diff = 'diff --git a/x b/y\nsimilarity index 100%\nrename from x\nrename to y\n';
    expect(diffStat(diff)).toMatchObject({ files: 1, added: 0, removed: 0 });
  });
});

describe('fullDiffFile', () => {
  it('gives the whole diff as a file named after the request', () => {
    expect(fullDiffFile(FULL)).toEqual({
      filename: `${FULL.id}.diff`,
      title: `Diff: ${FULL.title}`,
      content: DIFF,
    });
  });

  it('is null without a diff', () => {
    expect(fullDiffFile(BARE)).toBeNull();
    expect(fullDiffFile({ ...BARE, diff: ' \n' })).toBeNull();
  });

  it('tells on the card that the full diff is in the thread', () => {
    expect(JSON.stringify(renderCard(FULL))).toContain('full diff in the thread');
    expect(JSON.stringify(renderCard(BARE))).not.toContain('diff');
  });
});
