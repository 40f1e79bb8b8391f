import { describe, expect, it } from 'vitest';
import {
  type CardView,
  fullDiffFile,
  type HomeModel,
  type RequestLine,
  renderCard,
  renderDenyModal,
  renderHelp,
  renderHome,
  renderList,
  renderMine,
  renderNotice,
  renderOutcomeReply,
  renderReminder,
  renderShow,
  renderStats,
  renderVoteReply,
} from '../../blocks/index.js';
import { blocksToHtml, blockToHtml } from '../../src/sandbox/render/blocks.js';
import { diffHtml, looksLikeDiff } from '../../src/sandbox/render/diff.js';
import { type Directory, mrkdwnToHtml, plainToHtml } from '../../src/sandbox/render/mrkdwn.js';
import { formatSlackDate } from '../../src/sandbox/render/slack-date.js';
import { fileHtml, homeHtml, messageHtml, modalHtml } from '../../src/sandbox/render/surfaces.js';

const DIR: Directory = {
  userName: (id) => ({ UANA: 'Ana Lima', U0APPROVER1: 'Ben Ito', U0APPROVER2: 'Chloé Martin' })[id] ?? null,
  channelName: (id) => (id === 'C0APPROVALS' ? 'approvals' : null),
  groupName: (id) => (id === 'S0SRE' ? 'sre' : null),
};

const md = (text: string) => mrkdwnToHtml(text, DIR);

describe('mrkdwn to HTML', () => {
  it('renders bold, italics, strike and inline code', () => {
    expect(md('*bold* _italic_ ~gone~ `a*b*`')).toBe(
      '<strong>bold</strong> <em>italic</em> <del>gone</del> <code>a*b*</code>',
    );
    expect(md('*_both_*')).toBe('<strong><em>both</em></strong>');
    expect(md('2*3*4 and snake_case_name')).toBe('2*3*4 and snake_case_name');
  });

  it('renders code blocks verbatim, highlighting one that holds a diff', () => {
    expect(md('Before\n```\nlet *x* = 1 &lt; 2\n```\nafter')).toBe(
      'Before<pre class="code"><code>let *x* = 1 &lt; 2</code></pre>after',
    );
    const diff = md('```\n@@ -1 +1 @@\n-old\n+new\n```');
    expect(diff).toContain('<pre class="code diff">');
    expect(diff).toContain('<span class="diff-line diff-del">-old</span>');
    expect(diff).toContain('<span class="diff-line diff-add">+new</span>');
  });

  it('renders > lines as one quote, and keeps line breaks', () => {
    expect(md('Denied\n>not today\n>maybe Monday\nthanks')).toBe(
      'Denied<blockquote>not today<br>maybe Monday</blockquote>thanks',
    );
    expect(md('&gt; typed, not a quote')).toBe('&gt; typed, not a quote');
  });

  it('shows links with the host they really go to', () => {
    expect(md('<https://example.com/runbook|Runbook>')).toBe(
      '<a href="https://example.com/runbook" title="https://example.com/runbook" rel="noopener noreferrer" target="_blank">Runbook</a><span class="link-host"> (example.com)</span>',
    );
    // The product already names the host after its links: it is not repeated.
    expect(md('<https://evil.example/x|bank.com> (evil.example)')).toBe(
      '<a href="https://evil.example/x" title="https://evil.example/x" rel="noopener noreferrer" target="_blank">bank.com</a> (evil.example)',
    );
    expect(md('<https://example.com/>')).toContain('>https://example.com/</a>');
    expect(md('<javascript:alert(1)|click>')).toBe('<span class="link-refused">click</span>');
  });

  it('shows user, channel and group mentions as names, and broadcasts as words', () => {
    expect(md('<@UANA> in <#C0APPROVALS> for <!subteam^S0SRE>, cc <!here>')).toBe(
      '<span class="mention mention-user">@Ana Lima</span> in <span class="mention mention-channel">#approvals</span> for <span class="mention mention-group">@sre</span>, cc <span class="mention mention-special">@here</span>',
    );
    expect(md('<@UNKNOWN> <#C0OTHER|ops>')).toBe(
      '<span class="mention mention-user">@UNKNOWN</span> <span class="mention mention-channel">#ops</span>',
    );
  });

  it('renders dates as <time> in UTC (the page localises them)', () => {
    expect(md('<!date^1736935200^{date_short_pretty} at {time}|2025-01-15T10:00:00Z>')).toBe(
      '<time datetime="2025-01-15T10:00:00.000Z" data-format="{date_short_pretty} at {time}">Jan 15, 2025 at 10:00 UTC</time>',
    );
    expect(formatSlackDate(1736935200, '{date_long} {date_num} {time_secs}')).toBe(
      'Wednesday, January 15th, 2025 2025-01-15 10:00:00 UTC',
    );
  });

  it('turns Slack entities into characters and escapes them again for HTML', () => {
    expect(md('a &lt;b&gt; &amp; "c" <script>')).toBe(
      'a &lt;b&gt; &amp; &quot;c&quot; <span class="link-refused">script</span>',
    );
    expect(md('\uE000 stays text')).toBe('\uFFFD stays text');
  });

  it('draws the emoji the product uses, labelled for screen readers, and leaves unknown codes as typed', () => {
    const check = md(':white_check_mark: done :not_an_emoji:');
    expect(check).toMatch(
      /^<span class="emoji" role="img" aria-label="check mark" title=":white_check_mark:"><svg [\s\S]*<\/svg><\/span> done :not_an_emoji:$/,
    );
    expect(plainToHtml(':red_circle: <x>')).toMatch(/aria-label="red circle"[\s\S]*<\/span> &lt;x&gt;$/);
    expect(plainToHtml(':red_circle:', false)).toBe(':red_circle:');
    expect(md('*:warning: careful*')).toMatch(
      /^<strong><span class="emoji"[\s\S]*<\/span> careful<\/strong>$/,
    );
  });
});

describe('blocks to HTML', () => {
  it('renders buttons with their style, ids and accessible name', () => {
    const html = blockToHtml({
      type: 'actions',
      block_id: 'actions:req_1',
      elements: [
        {
          type: 'button',
          action_id: 'approve',
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value: 'req_1',
          accessibility_label: 'Approve the export',
        },
        {
          type: 'button',
          action_id: 'docs',
          text: { type: 'plain_text', text: 'Docs' },
          url: 'https://x.example',
        },
      ],
    });
    expect(html).toBe(
      '<div class="bk-actions" role="group" aria-label="Actions"><button type="button" class="bk-button primary" data-block-id="actions:req_1" data-action-id="approve" aria-label="Approve the export">Approve</button><a class="bk-button" href="https://x.example" rel="noopener noreferrer" target="_blank">Docs</a></div>',
    );
  });

  it('renders an input with its label, hint, limits and the error the app asked for', () => {
    const block = {
      type: 'input',
      block_id: 'reason',
      label: { type: 'plain_text', text: 'Why?' },
      hint: { type: 'plain_text', text: 'Shown in the thread' },
      element: {
        type: 'plain_text_input',
        action_id: 'reason',
        multiline: true,
        min_length: 1,
        max_length: 10,
      },
    };
    const html = blockToHtml(block, { errors: { reason: 'Say why' }, idPrefix: 'mi' });
    expect(html).toContain('<label for="mi-reason_2ereason">Why?</label>');
    expect(html).toContain(
      '<textarea id="mi-reason_2ereason" name="mi-reason_2ereason" data-block-id="reason" data-action-id="reason" required minlength="1" maxlength="10" aria-describedby="mi-reason_2ereason-hint mi-reason_2ereason-error" aria-invalid="true" rows="4"></textarea>',
    );
    expect(html).toContain('role="alert">Say why</div>');
    expect(
      blockToHtml({ ...block, optional: true, element: { type: 'plain_text_input', action_id: 'r' } }),
    ).toContain('(optional)');
  });

  it('never loads an image: it shows the alt text', () => {
    const html = blocksToHtml([
      { type: 'image', image_url: 'https://cdn.example/x.png', alt_text: 'a chart' },
      {
        type: 'context',
        elements: [{ type: 'image', image_url: 'https://cdn.example/y.png', alt_text: 'icon' }],
      },
    ]);
    expect(html).not.toContain('cdn.example');
    expect(html).toContain('a chart');
    expect(html).toContain('icon');
  });

  it('names a block it does not render instead of dropping it', () => {
    expect(blockToHtml({ type: 'rich_text', elements: [] })).toBe(
      '<div class="bk-unsupported">[a rich_text block, not shown in the sandbox]</div>',
    );
  });
});

describe('diffs', () => {
  it('classes each line of a unified diff', () => {
    const html = diffHtml(
      'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n ctx\n-<old>\n+new\n\\ No newline\n',
    );
    expect(html.split('\n')).toEqual([
      '<span class="diff-line diff-file">diff --git a/x b/x</span>',
      '<span class="diff-line diff-file">--- a/x</span>',
      '<span class="diff-line diff-file">+++ b/x</span>',
      '<span class="diff-line diff-hunk">@@ -1,2 +1,2 @@</span>',
      '<span class="diff-line diff-ctx"> ctx</span>',
      '<span class="diff-line diff-del">-&lt;old&gt;</span>',
      '<span class="diff-line diff-add">+new</span>',
      '<span class="diff-line diff-note">\\ No newline</span>',
    ]);
    expect(looksLikeDiff('just text\n- a list item')).toBe(false);
  });
});

// ---- Golden files: every surface the product emits, rendered as the sandbox page shows it. ----

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);
const MIN = 60_000;
const DIFF = [
  'diff --git a/deploy/api.yaml b/deploy/api.yaml',
  '--- a/deploy/api.yaml',
  '+++ b/deploy/api.yaml',
  '@@ -1,3 +1,3 @@',
  ' service: api',
  '-image: api:1.4.2',
  '+image: api:1.5.0',
  ' replicas: 3',
  '',
].join('\n');

const FULL: CardView = {
  id: 'req_01JH3Q4Z8X6V2K9M5N7P0R1S2T',
  status: 'pending',
  title: 'Deploy api 1.5.0 to production <now> & "fast"',
  risk: 'high',
  action: 'deploy.service',
  resource: 'k8s/prod/api',
  environment: 'production',
  client: 'github-actions',
  requester: { slackUserId: 'UANA', name: 'Ana Lima', email: 'ana@example.com' },
  summary: 'Rolls out *api 1.5.0*: new `/v2/orders` endpoint.\n• migration applied\n>quoted <script>',
  context: { commit: '9f1c2ab', pr: 1234, 'dry run': false },
  links: [{ text: 'Pipeline run', url: 'https://github.com/acme/api/actions/runs/88' }],
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
const vote1 = { userId: 'U0APPROVER1', decision: 'approve' as const, reason: null, at: T0 + 5 * MIN };
const denyVote = {
  userId: 'U0APPROVER2',
  decision: 'deny' as const,
  reason: 'Not during the freeze.',
  at: T0 + 8 * MIN,
};

const CARDS: Record<string, CardView> = {
  pending: FULL,
  'pending-1-of-2': { ...FULL, votes: [vote1] },
  approved: { ...FULL, status: 'approved', votes: [vote1], decidedAt: vote1.at, decidedBy: vote1.userId },
  denied: {
    ...FULL,
    status: 'denied',
    votes: [vote1, denyVote],
    decidedAt: denyVote.at,
    decidedBy: denyVote.userId,
    reason: denyVote.reason,
  },
  expired: { ...FULL, status: 'expired', decidedAt: FULL.expiresAt, decidedBy: 'system' },
  cancelled: {
    ...FULL,
    status: 'cancelled',
    decidedAt: T0 + MIN,
    decidedBy: 'client:ci',
    reason: 'Superseded',
  },
  'auto-approved': {
    ...FULL,
    status: 'approved',
    risk: 'low',
    decidedAt: T0,
    decidedBy: 'policy',
    policyRule: 'staging',
  },
};

function requestLine(i: number, over: Partial<RequestLine> = {}): RequestLine {
  return {
    ...FULL,
    id: `req_01JH${String(i).padStart(22, '0')}`,
    title: `Request ${i}`,
    channel: 'C0APPROVALS',
    slackUrl: `http://127.0.0.1:3000/sandbox#m-1700000000_2e00000${i}`,
    ...over,
  };
}

const HOME: HomeModel = {
  notice: { kind: 'refused', text: 'You requested this change, so someone else has to approve it.' },
  waiting: [requestLine(1), requestLine(2)],
  waitingTotal: 2,
  waitingProblem: null,
  requested: [requestLine(3, { status: 'approved', decidedAt: T0 + MIN })],
  requestedTotal: 1,
  admin: { channels: [{ channel: 'C0APPROVALS', pending: 2, oldestCreatedAt: T0 }] },
};

const msg = (ts: string, m: { text: string; blocks?: unknown[] }) => ({
  channel: 'C0APPROVALS',
  ts,
  at: T0,
  ...m,
});
const golden = (name: string) => `./__snapshots__/sandbox/${name}.html`;
const pretty = (html: string) => `${html.replace(/></g, '>\n<')}\n`;

describe('golden HTML of every surface the product emits', () => {
  for (const [name, view] of Object.entries(CARDS)) {
    it(`card: ${name}`, async () => {
      const html = messageHtml(msg('1700000000.000001', renderCard(view)), { dir: DIR });
      if (view.status === 'pending') expect(html).toContain('aria-label="Approve Deploy api 1.5.0');
      else expect(html).not.toContain('<button');
      expect(html).toContain('ID: req_01JH3Q4Z8X6V2K9M5N7P0R1S2T');
      expect(html).not.toContain('<script>');
      await expect(pretty(html)).toMatchFileSnapshot(golden(`card-${name}`));
    });
  }

  it('thread replies: a vote, the outcome, a reminder', async () => {
    const approved = CARDS.approved as CardView;
    const html = [
      renderVoteReply(FULL, vote1),
      renderVoteReply(FULL, denyVote),
      renderOutcomeReply(approved),
      renderReminder(FULL, ['U0APPROVER2', 'S0SRE'], T0 + 30 * MIN),
    ].map((m, i) => messageHtml(msg(`1700000000.00001${i}`, m), { dir: DIR, reply: true }));
    expect(html[1]).toContain('<blockquote>Not during the freeze.</blockquote>');
    await expect(pretty(html.join('\n'))).toMatchFileSnapshot(golden('thread'));
  });

  it('the full diff, uploaded into the thread', async () => {
    const file = fullDiffFile(FULL);
    if (file === null) throw new Error('no diff file');
    const html = fileHtml(
      { id: 'F1', ts: '1700000000.000020', at: T0, comment: 'Full diff of this request', ...file },
      DIR,
    );
    expect(html).toContain('<span class="diff-line diff-add">+image: api:1.5.0</span>');
    await expect(pretty(html)).toMatchFileSnapshot(golden('diff-file'));
  });

  it('the deny modal, then with the error the app asked for', async () => {
    const view = renderDenyModal(FULL) as unknown as Record<string, unknown>;
    const html = modalHtml({ id: 'V1', view, errors: null }, DIR);
    expect(html).toContain('role="dialog"');
    expect(html).toContain('<button type="submit" class="bk-button danger">Deny</button>');
    await expect(pretty(html)).toMatchFileSnapshot(golden('deny-modal'));
    const refused = modalHtml(
      { id: 'V1', view, errors: { reason: 'Please say why you deny this request.' } },
      DIR,
    );
    expect(refused).toContain('role="alert">Please say why you deny this request.</div>');
  });

  it('the App Home tab', async () => {
    const html = homeHtml(renderHome(HOME, T0 + 10 * MIN) as unknown as Record<string, unknown>, DIR);
    expect(html).toContain('data-block-id="home_vote:req_01JH0000000000000000000001"');
    await expect(pretty(html)).toMatchFileSnapshot(golden('home'));
  });

  it('/approvals replies: help, list, mine, show, stats, a notice', async () => {
    const now = T0 + 10 * MIN;
    const replies = {
      help: renderHelp(),
      list: renderList(
        { items: [requestLine(1), requestLine(2)], page: 1, pages: 2, total: 12, pageSize: 10 },
        now,
      ),
      mine: renderMine(
        {
          waiting: [requestLine(1)],
          waitingTotal: 1,
          waitingProblem: null,
          requested: [],
          requestedTotal: 0,
        },
        now,
      ),
      show: renderShow(
        {
          request: requestLine(1, { votes: [vote1] }),
          history: [
            { seq: 1, at: T0, type: 'request.created', actor: 'client:ci', data: {} },
            {
              seq: 2,
              at: T0 + MIN,
              type: 'vote.refused',
              actor: 'UANA',
              data: { decision: 'approve', refusal: 'requester' },
            },
            {
              seq: 3,
              at: T0 + 5 * MIN,
              type: 'vote.recorded',
              actor: 'U0APPROVER1',
              data: { decision: 'approve' },
            },
          ],
          historyTotal: 3,
        },
        now,
      ),
      stats: renderStats(
        [
          {
            days: 7,
            byStatus: { approved: 3, denied: 1, expired: 0, cancelled: 0, pending: 2 },
            medianDecisionMs: 95_000,
            decided: 4,
            approvals: 3,
            fastApprovals: 1,
          },
        ],
        10,
      ),
      notice: renderNotice(':no_entry: Only Countersign admins can cancel requests.'),
    };
    const html = Object.entries(replies).map(([name, r], i) =>
      messageHtml(msg(`1700000000.00003${i}`, r), {
        dir: DIR,
        private: name === 'notice' ? 'ephemeral' : 'reply',
      }),
    );
    expect(html.join('')).toContain('Only visible to you');
    await expect(pretty(html.join('\n'))).toMatchFileSnapshot(golden('command-replies'));
  });
});
