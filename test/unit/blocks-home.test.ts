import { describe, expect, it } from 'vitest';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  checkModal,
  HOME_VOTE_BLOCK,
  type HomeModel,
  MAX_MODAL_BLOCKS,
  type RequestLine,
  renderHome,
} from '../../blocks/index.js';

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);
const NASTY = '<!here> *bold* & <https://evil.example|x> ';

function line(i: number, long = false): RequestLine {
  return {
    id: `req_01JH${String(i).padStart(22, '0')}`,
    status: i % 3 === 0 ? 'approved' : 'pending',
    title: long ? NASTY.repeat(10).slice(0, 150) : `Request ${i}`,
    risk: 'critical',
    action: long ? 'a'.repeat(100) : 'iam.role.attach',
    resource: null,
    environment: null,
    client: long ? 'c'.repeat(64) : 'agent',
    requester: long
      ? { slackUserId: null, name: NASTY.repeat(10), email: 'x@example.com' }
      : { slackUserId: 'UALICE', name: null, email: null },
    summary: null,
    context: null,
    links: null,
    diff: null,
    createdAt: T0,
    expiresAt: T0 + 3_600_000,
    decidedAt: i % 3 === 0 ? T0 + 60_000 : null,
    decidedBy: i % 3 === 0 ? 'UBOB' : null,
    reason: null,
    minApprovals: 1,
    votes: [],
    approverUsers: [],
    approverGroups: [],
    policyRule: null,
    redactions: 0,
    channel: `C0CHAN${i % 4}`,
    slackUrl: `https://acme.slack.com/archives/C0CHAN/p${i}`,
  };
}

function model(over: Partial<HomeModel> = {}): HomeModel {
  return {
    notice: null,
    waiting: [],
    waitingTotal: 0,
    waitingProblem: null,
    requested: [],
    requestedTotal: 0,
    admin: null,
    ...over,
  };
}

describe('App Home view', () => {
  it('puts Approve and Deny under each waiting request, keyed by its id', () => {
    const view = renderHome(model({ waiting: [line(1), line(2)], waitingTotal: 2 }), T0);
    expect(view.type).toBe('home');
    const actions = view.blocks.filter((b) => b.type === 'actions');
    expect(actions.map((b) => b.block_id)).toEqual([
      `${HOME_VOTE_BLOCK}${line(1).id}`,
      `${HOME_VOTE_BLOCK}${line(2).id}`,
    ]);
    for (const a of actions) {
      const ids = (a as { elements: { action_id: string; value: string }[] }).elements.map(
        (e) => e.action_id,
      );
      expect(ids).toEqual([ACTION_APPROVE, ACTION_DENY]);
    }
    expect(checkModal(view)).toEqual([]);
  });

  it('shows a notice on top, and the admin summary only when given', () => {
    const view = renderHome(
      model({
        notice: { kind: 'refused', text: 'You requested this change' },
        admin: { channels: [{ channel: 'C0APPROVALS', pending: 3, oldestCreatedAt: T0 - 7_200_000 }] },
      }),
      T0,
    );
    const out = JSON.stringify(view.blocks);
    expect(out.indexOf(':warning: You requested this change')).toBeLessThan(
      out.indexOf('Waiting for your vote'),
    );
    expect(out).toContain('<#C0APPROVALS> — 3 pending requests, oldest 2 hours old');
    expect(JSON.stringify(renderHome(model(), T0).blocks)).not.toContain('Pending by channel');
  });

  it('stays within 100 blocks and every text limit with the longest content', () => {
    const waiting = Array.from({ length: 60 }, (_, i) => line(i, true));
    const channels = Array.from({ length: 400 }, (_, i) => ({
      channel: `C${String(i).padStart(10, '0')}`,
      pending: i + 1,
      oldestCreatedAt: T0 - i * 60_000,
    }));
    const view = renderHome(
      model({
        notice: { kind: 'done', text: NASTY.repeat(100) },
        waiting,
        waitingTotal: 300,
        requested: waiting,
        requestedTotal: 500,
        admin: { channels },
      }),
      T0,
    );
    expect(checkModal(view)).toEqual([]);
    expect(view.blocks.length).toBeLessThanOrEqual(MAX_MODAL_BLOCKS);
    expect(JSON.stringify(view.blocks)).not.toContain('<!here>');
  });
});
