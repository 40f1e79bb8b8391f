import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CardView,
  escapeMrkdwn,
  escapePlain,
  renderCard,
  renderDenyModal,
  renderOutcomeReply,
  renderReminder,
  renderVoteReply,
} from '../../blocks/index.js';

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);
const EVIL = 'Hi <!channel> <@U123> <!here> <!everyone> see <https://evil.example|bank.example> @here & co';

const HOSTILE: CardView = {
  id: 'req_01JH3Q4Z8X6V2K9M5N7P0R1S2T',
  status: 'pending',
  title: `Deploy ${EVIL}`,
  risk: 'critical',
  action: 'deploy.service',
  resource: `db/${EVIL}`,
  environment: '<!here>',
  client: 'ci<@U123>',
  requester: { slackUserId: null, name: `Mallory ${EVIL}`, email: '<@U123>@example.com' },
  summary: `*Important* ${EVIL}`,
  context: { [`key ${EVIL}`]: `value ${EVIL}`, plain: 1 },
  links: [
    { text: EVIL, url: 'https://evil.example/login' },
    { text: 'bank.example', url: 'https://evil.example/a?b=1&c=<!channel>|x>' },
  ],
  diff: `--- a/x\n+++ b/x\n@@ -1 +1,2 @@\n-${EVIL}\n+\`\`\`\n+${EVIL}\n`,
  createdAt: T0,
  expiresAt: T0 + 3_600_000,
  decidedAt: null,
  decidedBy: null,
  reason: null,
  minApprovals: 2,
  votes: [{ userId: 'U0VOTER', decision: 'approve', reason: EVIL, at: T0 + 60_000 }],
  approverUsers: ['U0APPROVER'],
  approverGroups: ['S0SRE'],
  policyRule: `rule ${EVIL}`,
  redactions: 1,
};

const KNOWN_USERS = new Set(['U0VOTER', 'U0APPROVER', 'U0DECIDER']);
const KNOWN_GROUPS = new Set(['S0SRE']);

/** Every string in a JSON value, with whether Slack shows it unparsed (plain_text, accessibility labels). */
function strings(value: unknown, plain = false, out: { text: string; plain: boolean }[] = []) {
  if (typeof value === 'string') out.push({ text: value, plain });
  else if (Array.isArray(value)) for (const v of value) strings(v, false, out);
  else if (typeof value === 'object' && value !== null) {
    const isPlain = (value as { type?: unknown }).type === 'plain_text';
    for (const [k, v] of Object.entries(value)) {
      strings(v, (isPlain && k === 'text') || k === 'accessibility_label', out);
    }
  }
  return out;
}

/** The only `<…>` sequences allowed: our mentions of known people, dates, and links to the request's URLs. */
function allowedToken(token: string): boolean {
  const user = /^<@([A-Z0-9]+)>$/.exec(token);
  if (user) return KNOWN_USERS.has(user[1] ?? '');
  const group = /^<!subteam\^([A-Z0-9]+)>$/.exec(token);
  if (group) return KNOWN_GROUPS.has(group[1] ?? '');
  if (/^<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[0-9T:Z-]+>$/.test(token)) return true;
  return /^<https:\/\/evil\.example\/[^<>|\s]*\|[^<>]*>$/.test(token);
}

function assertInert(rendered: unknown): void {
  for (const { text, plain } of strings(rendered)) {
    if (plain) {
      expect(text).not.toMatch(/[<>]/);
      continue;
    }
    const rest = text.replace(/<[^<>]*>/g, (token) => {
      expect(allowedToken(token), `unexpected token ${token} in ${text}`).toBe(true);
      return '';
    });
    // A '>' at the start of a line is our own quote markup (reasons are quoted).
    expect(rest.replace(/^>/gm, ''), text).not.toMatch(/[<>]/);
    expect(text).not.toMatch(/@(here|channel|everyone)\b/);
  }
  const json = JSON.stringify(rendered);
  for (const raw of [
    '<!channel>',
    '<@U123>',
    '<!here>',
    '<!everyone>',
    '<https://evil.example|bank.example>',
  ]) {
    expect(json).not.toContain(raw);
  }
}

function everything(view: CardView) {
  const decided = { decidedAt: T0 + 120_000, reason: EVIL };
  return [
    renderCard(view),
    renderCard({ ...view, status: 'approved', decidedBy: 'U0DECIDER', ...decided }),
    renderCard({ ...view, status: 'approved', decidedBy: 'policy', ...decided }),
    renderCard({ ...view, status: 'denied', decidedBy: 'U0DECIDER', ...decided }),
    renderCard({ ...view, status: 'expired', decidedBy: 'system', ...decided }),
    renderCard({ ...view, status: 'cancelled', decidedBy: `client:${EVIL}`, ...decided }),
    renderCard({ ...view, status: 'cancelled', decidedBy: EVIL, ...decided }),
    renderVoteReply(view, { userId: 'U0VOTER', decision: 'deny', reason: EVIL, at: T0 }),
    renderVoteReply(view, { userId: '<!channel>', decision: 'approve', reason: EVIL, at: T0 }),
    renderOutcomeReply({ ...view, status: 'denied', decidedBy: 'U0DECIDER', ...decided }),
    renderOutcomeReply({ ...view, status: 'cancelled', decidedBy: `client:${EVIL}`, ...decided }),
    renderReminder(view, ['U0APPROVER', 'S0SRE', '<!channel>'], T0),
    renderDenyModal(view),
  ];
}

describe('text from a request renders inert', () => {
  it('cannot broadcast, mention anyone or disguise a link, anywhere in any rendering', () => {
    for (const rendered of everything(HOSTILE)) assertInert(rendered);
  });

  it('still shows the text, escaped, and the real host next to every link', () => {
    const card = JSON.stringify(renderCard(HOSTILE));
    expect(card).toContain('&lt;!channel&gt; &lt;@U123&gt; &lt;!here&gt; &lt;!everyone&gt;');
    expect(card).toContain('&lt;https://evil.example|bank.example&gt;');
    expect(card).toContain('|bank.example> (evil.example)');
    expect(card).toContain('*Important*');
    expect(card).toContain('‹!channel›'); // in the plain_text header
  });

  it('does not let a diff close the preformatted block early', () => {
    const diffText = renderCard(HOSTILE)
      .blocks.map((b) => (b.type === 'section' && b.text ? b.text.text : ''))
      .find((t) => t.startsWith('*Diff*'));
    expect(diffText?.match(/```/g)).toHaveLength(2);
    expect(diffText).toContain('&lt;!channel&gt;');
  });

  it('does not let hidden characters rebuild a fence or a broadcast once they are dropped', () => {
    const diff = '+a `\u0007`\u202E` b\n+c ````` d\n';
    const text = JSON.stringify(renderCard({ ...HOSTILE, diff }));
    expect(text.match(/```/g)).toHaveLength(2);
    expect(escapeMrkdwn('ping @\u0007here and @\u202Echannel')).toBe('ping @\u2060here and @\u2060channel');
  });

  it('mentions only well-formed Slack IDs', () => {
    const reply = JSON.stringify(renderReminder(HOSTILE, ['U0APPROVER', 'UNOT A USER', '<@U123>']));
    expect(reply).toContain('<@U0APPROVER>');
    expect(reply).not.toContain('<@UNOT');
    expect(reply).toContain('&lt;@U123&gt;');
  });

  it('holds for random payloads in every field', () => {
    const hostile = fc.string({
      unit: fc.constantFrom(
        '<',
        '>',
        '&',
        '!',
        '@',
        '|',
        '^',
        'channel',
        'here',
        'U123',
        'https://',
        ' ',
        '`',
        '\n',
      ),
      maxLength: 200,
    });
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, (a, b, c, d) => {
        const view: CardView = {
          ...HOSTILE,
          title: a,
          summary: b,
          requester: { slackUserId: null, name: c, email: d },
          context: { [a || 'k']: b },
          links: [{ text: c, url: 'https://evil.example/x' }],
          diff: d,
          reason: a,
          policyRule: b,
          client: c,
          resource: d,
        };
        for (const rendered of everything(view)) assertInert(rendered);
      }),
      { numRuns: 50 },
    );
  });
});

/** Control characters and Unicode bidi controls, which the escapes drop. */
function invisible(cp: number): boolean {
  return (
    (cp < 0x20 && cp !== 0x09 && cp !== 0x0a) ||
    (cp >= 0x7f && cp <= 0x9f) ||
    [0x061c, 0x200e, 0x200f].includes(cp) ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069)
  );
}

describe('escape functions', () => {
  it('escapeMrkdwn escapes & < > and nothing else that matters', () => {
    expect(escapeMrkdwn('a & b <@U1> *bold* > quote')).toBe('a &amp; b &lt;@U1&gt; *bold* &gt; quote');
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
  });

  it('escapeMrkdwn output decodes back to the input, minus invisible controls', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.oneof(
            fc.constantFrom('<', '>', '&', '\t', '\u202E', '\u0007', '@here'),
            fc.string({ unit: 'grapheme', maxLength: 1 }),
          ),
          maxLength: 300,
        }),
        (s) => {
          const out = escapeMrkdwn(s);
          expect(out).not.toMatch(/[<>]/);
          const decoded = out
            .replace(/\u2060/g, '')
            .replace(/&lt;/g, '<')
            .replace(/&gt;/g, '>')
            .replace(/&amp;/g, '&');
          const visible = [...s].filter((ch) => !invisible(ch.codePointAt(0) ?? 0)).join('');
          expect(decoded).toBe(visible);
        },
      ),
    );
  });

  it('escapePlain keeps plain text on one line without angle brackets or bidi overrides', () => {
    expect(escapePlain('a <b>\nc \u202Eevil')).toBe('a ‹b› c evil');
  });
});

describe('an expiry is never worded as a denial', () => {
  const EXPIRED: CardView = {
    ...HOSTILE,
    title: 'Rotate the payments API key',
    summary: 'Routine rotation.',
    requester: { slackUserId: 'U0REQUESTER', name: null, email: null },
    context: null,
    links: null,
    diff: null,
    client: 'ci',
    resource: null,
    environment: null,
    policyRule: null,
    status: 'expired',
    decidedAt: T0 + 3_600_000,
    decidedBy: 'system',
    reason: null,
    votes: [{ userId: 'U0VOTER', decision: 'approve', reason: null, at: T0 }],
  };

  it('in the card, its fallback text and the outcome reply', () => {
    for (const rendered of [
      renderCard(EXPIRED),
      renderOutcomeReply(EXPIRED),
      renderCard({ ...EXPIRED, votes: [] }),
    ]) {
      const json = JSON.stringify(rendered);
      expect(json).toMatch(/expired/i);
      expect(json).toContain('nobody decided in time');
      expect(json).not.toMatch(/den(y|ied|ial)|reject|refus|declin/i);
    }
    expect(renderCard(EXPIRED).text).toMatch(/^Expired \(nobody decided in time\)/);
  });
});
