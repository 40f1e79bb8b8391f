import { describe, expect, it } from 'vitest';
import {
  type CardView,
  checkMessage,
  type HistoryItem,
  historyLine,
  type RequestLine,
  renderHelp,
  renderList,
  renderMine,
  renderShow,
  renderStats,
  shortDuration,
  timeLeft,
} from '../../blocks/index.js';

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);
const MIN = 60_000;
const NASTY = '<!channel> *bold* `code` & <https://evil.example|click> ';

function line(i: number, over: Partial<RequestLine> = {}): RequestLine {
  const view: CardView = {
    id: `req_01JH${String(i).padStart(22, '0')}`,
    status: 'pending',
    title: `${i} Export the customers table`,
    risk: 'high',
    action: 'db.export',
    resource: 'postgres://prod/customers',
    environment: 'production',
    client: 'ci',
    requester: { slackUserId: 'UALICE', name: 'Alice', email: 'alice@example.com' },
    summary: null,
    context: null,
    links: null,
    diff: null,
    createdAt: T0,
    expiresAt: T0 + 60 * MIN,
    decidedAt: null,
    decidedBy: null,
    reason: null,
    minApprovals: 2,
    votes: [],
    approverUsers: [],
    approverGroups: ['SDBA'],
    policyRule: null,
    redactions: 0,
  };
  return {
    ...view,
    channel: 'C0APPROVALS',
    slackUrl: `https://acme.slack.com/archives/C0APPROVALS/p17000000000${i}`,
    ...over,
  };
}

/** The longest line a request can make: every free-text field at its maximum, full of markup. */
function worst(i: number): RequestLine {
  return line(i, {
    title: NASTY.repeat(20).slice(0, 150),
    client: 'c'.repeat(64),
    action: 'a'.repeat(100),
    requester: { slackUserId: null, name: NASTY.repeat(10), email: `${'e'.repeat(200)}@example.com` },
    resource: NASTY.repeat(10).slice(0, 200),
    environment: NASTY.repeat(3).slice(0, 50),
    slackUrl: `https://acme.slack.com/archives/C0APPROVALS/p1?x=${'|<>&'.repeat(200)}`,
  });
}

function text(reply: { text: string; blocks: unknown[] }): string {
  return JSON.stringify(reply.blocks);
}

describe('/approvals replies', () => {
  it('help names every subcommand and marks the admin ones', () => {
    const help = text(renderHelp());
    for (const s of ['list [page]', 'mine', 'show <id>', 'stats', 'cancel <id> [reason]', 'audit verify']) {
      expect(help).toContain(`/approvals ${s}`);
    }
    expect(help.indexOf('Admins only')).toBeLessThan(help.indexOf('/approvals cancel'));
  });

  it('a list line links the title to the card and says how long is left', () => {
    const reply = renderList({ items: [line(1)], page: 1, pages: 1, total: 1, pageSize: 10 }, T0 + 10 * MIN);
    expect(text(reply)).toContain(
      '*<https://acme.slack.com/archives/C0APPROVALS/p170000000001|1 Export the customers table>*',
    );
    expect(text(reply)).toContain('50 minutes left');
    expect(text(reply)).toContain('0 of 2 approvals');
    expect(checkMessage(reply)).toEqual([]);
  });

  it('escapes titles and never links a non-web URL', () => {
    const reply = renderList(
      {
        items: [line(1, { title: NASTY, slackUrl: 'javascript:alert(1)' })],
        page: 1,
        pages: 1,
        total: 1,
        pageSize: 10,
      },
      T0,
    );
    const out = text(reply);
    expect(out).not.toContain('<!channel>');
    expect(out).not.toContain('<https://evil');
    expect(out).not.toContain('javascript:');
  });

  it('a page of the longest requests still fits in one message', () => {
    const items = Array.from({ length: 10 }, (_, i) => worst(i));
    const reply = renderList({ items, page: 2, pages: 5, total: 45, pageSize: 10 }, T0);
    expect(checkMessage(reply)).toEqual([]);
    expect(text(reply)).toContain('page 2 of 5');
  });

  it('mine fits with the longest lines, and says when Slack could not be asked', () => {
    const items = Array.from({ length: 15 }, (_, i) => worst(i));
    const reply = renderMine(
      { waiting: items, waitingTotal: 40, waitingProblem: null, requested: items, requestedTotal: 99 },
      T0,
    );
    expect(checkMessage(reply)).toEqual([]);
    const problem = renderMine(
      { waiting: [], waitingTotal: 0, waitingProblem: 'Slack is down', requested: [], requestedTotal: 0 },
      T0,
    );
    expect(text(problem)).toContain(':warning: Slack is down');
  });

  it('show keeps the latest history when all of it does not fit, and says so', () => {
    const history: HistoryItem[] = Array.from({ length: 50 }, (_, i) => ({
      seq: i + 1,
      at: T0 + i * MIN,
      type: 'vote.recorded',
      actor: 'UBOB',
      data: { decision: 'deny', reason: NASTY.repeat(40) },
    }));
    const r = worst(1);
    const votes = Array.from({ length: 10 }, (_, i) => ({
      userId: `U${i}BOB`,
      decision: 'approve' as const,
      reason: NASTY.repeat(20),
      at: T0,
    }));
    const reply = renderShow({ request: { ...r, votes }, history, historyTotal: 120 }, T0);
    expect(checkMessage(reply)).toEqual([]);
    const out = text(reply);
    expect(out).toMatch(/\*History\* \(\d+ of 120 events, latest shown\)/);
    expect(out).toContain('`#50`');
    expect(out).not.toContain('<!channel>');
  });

  it('history lines say what happened in words', () => {
    const at = T0;
    const e = (type: string, actor: string, data: Record<string, unknown> = {}): HistoryItem => ({
      seq: 7,
      at,
      type,
      actor,
      data,
    });
    expect(historyLine(e('request.created', 'client:ci'))).toContain('created by the pipeline *ci*');
    expect(historyLine(e('vote.refused', 'UALICE', { refusal: 'requester', decision: 'approve' }))).toContain(
      '<@UALICE> tried to approve; refused (requester)',
    );
    expect(historyLine(e('request.expired', 'system'))).toContain('*expired* (Countersign)');
    expect(historyLine(e('request.cancelled', 'UCAROL'))).toContain('*cancelled* (<@UCAROL>)');
    expect(historyLine(e('something.new', 'system'))).toContain('something.new by Countersign');
  });

  it('stats show counts, median and the share of rubber stamps', () => {
    const reply = renderStats(
      [
        {
          days: 7,
          byStatus: { pending: 1, approved: 6, denied: 1, expired: 2, cancelled: 0 },
          medianDecisionMs: 95_000,
          decided: 7,
          approvals: 8,
          fastApprovals: 2,
        },
        {
          days: 30,
          byStatus: { pending: 0, approved: 0, denied: 0, expired: 0, cancelled: 0 },
          medianDecisionMs: null,
          decided: 0,
          approvals: 0,
          fastApprovals: 0,
        },
      ],
      10,
    );
    const out = text(reply);
    expect(out).toContain('*Last 7 days* — 10 requests');
    expect(out).toContain('6 approved · 1 denied · 2 expired · 0 cancelled · 1 pending');
    expect(out).toContain('Median time to decision: 1 min 35 s (over 7 decisions)');
    expect(out).toContain(':warning: Rubber stamps: 2 of 8 approvals (25%) came within 10 s');
    expect(out).toContain('no decisions by people yet');
    expect(out).toContain('no approvals on posted cards');
  });

  it('durations read naturally', () => {
    expect(shortDuration(450)).toBe('450 ms');
    expect(shortDuration(42_000)).toBe('42 s');
    expect(shortDuration(4 * MIN + 10_000)).toBe('4 min 10 s');
    expect(shortDuration(185 * MIN)).toBe('3 h 5 min');
    expect(shortDuration(52 * 60 * MIN)).toBe('2 d 4 h');
    expect(timeLeft(T0 + 90 * MIN, T0)).toBe('1 hour left');
    expect(timeLeft(T0, T0 + 1)).toBe('past its deadline');
  });
});
