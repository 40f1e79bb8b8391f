import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CardView,
  type CardVote,
  checkMessage,
  checkModal,
  MAX_MESSAGE_TOTAL_TEXT,
  renderCard,
  renderDenyModal,
  renderOutcomeReply,
  renderReminder,
  renderVoteReply,
} from '../../blocks/index.js';

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);
const STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled'] as const;

/** Characters that grow when escaped, break code blocks, or are otherwise awkward. */
const nastyUnit = fc.constantFrom(
  'a',
  'Z',
  ' ',
  '&',
  '<',
  '>',
  '`',
  '*',
  '_',
  '|',
  '@',
  '\n',
  '\t',
  'é',
  '😀',
  '\u202E',
);
const text = (maxLength: number, minLength = 0) =>
  fc.oneof(
    fc.string({ unit: nastyUnit, minLength, maxLength }),
    fc.string({ unit: 'grapheme', minLength, maxLength }),
    fc.string({ unit: fc.constantFrom('&', '<', '>'), minLength, maxLength }),
  );

const userId = fc.stringMatching(/^U[A-Z0-9]{8,10}$/);
const groupId = fc.stringMatching(/^S[A-Z0-9]{8,10}$/);

const vote: fc.Arbitrary<CardVote> = fc.record({
  userId: fc.oneof(userId, text(40)),
  decision: fc.constantFrom('approve' as const, 'deny' as const),
  reason: fc.option(text(1500), { nil: null }),
  at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
});

const url = fc.oneof(
  fc.webUrl(),
  fc
    .integer({ min: 100, max: 2000 })
    .map((n) => `https://very-long.example/${'p'.repeat(n)}?q=${'&x'.repeat(10)}`),
  text(300),
);

/** A diff of up to 20,000 lines, built from a few sample lines (some very long) so it generates fast. */
const diff = fc
  .record({
    lines: fc.integer({ min: 0, max: 20_000 }),
    sample: fc.array(text(300), { minLength: 1, maxLength: 6 }),
    longLine: fc.integer({ min: 0, max: 10_000 }),
  })
  .map(({ lines, sample, longLine }) => {
    const out: string[] = ['diff --git a/x b/x', '--- a/x', '+++ b/x', `@@ -1,${lines} +1,${lines} @@`];
    for (let i = 0; i < lines; i++) {
      const body = i % 7 === 3 ? `\`\`\`${'<&>'.repeat(longLine / 3)}` : (sample[i % sample.length] ?? '');
      out.push(`${'+- '[i % 3]}${body}`);
    }
    return out.join('\n');
  });

const contextValue = fc.oneof(text(5000), fc.integer(), fc.double(), fc.boolean());

const view: fc.Arbitrary<CardView> = fc.record({
  id: fc.oneof(fc.constant('req_01JH3Q4Z8X6V2K9M5N7P0R1S2T'), text(60, 1)),
  status: fc.constantFrom(...STATUSES),
  title: text(150),
  risk: fc.constantFrom('low' as const, 'medium' as const, 'high' as const, 'critical' as const),
  action: text(100),
  resource: fc.option(text(200), { nil: null }),
  environment: fc.option(text(50), { nil: null }),
  client: text(100),
  requester: fc.record({
    slackUserId: fc.option(fc.oneof(userId, text(40)), { nil: null }),
    name: fc.option(text(100), { nil: null }),
    email: fc.option(text(254), { nil: null }),
    verified: fc.option(fc.boolean(), { nil: null }),
  }),
  summary: fc.option(text(3000), { nil: null }),
  context: fc.option(fc.dictionary(text(100, 1), contextValue, { maxKeys: 20 }), { nil: null }),
  links: fc.option(fc.array(fc.record({ text: text(200), url }), { maxLength: 5 }), { nil: null }),
  diff: fc.option(diff, { nil: null }),
  createdAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  expiresAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  decidedAt: fc.option(fc.integer({ min: 0, max: 4_102_444_800_000 }), { nil: null }),
  decidedBy: fc.option(
    fc.oneof(
      userId,
      fc.constantFrom('policy', 'system'),
      text(100).map((s) => `client:${s}`),
    ),
    { nil: null },
  ),
  reason: fc.option(text(3000), { nil: null }),
  minApprovals: fc.integer({ min: 1, max: 10 }),
  votes: fc.array(vote, { maxLength: 12 }),
  approverUsers: fc.array(userId, { maxLength: 100 }),
  approverGroups: fc.array(groupId, { maxLength: 20 }),
  policyRule: fc.option(text(200), { nil: null }),
  redactions: fc.nat(10_000),
});

/** Every message and the modal that can be made from one view. */
function everything(v: CardView, extraVote: CardVote, reminded: string[]) {
  const messages = [
    ...STATUSES.map((status) => renderCard({ ...v, status })),
    renderVoteReply(v, extraVote),
    ...STATUSES.map((status) => renderOutcomeReply({ ...v, status })),
    renderReminder(v, reminded),
    renderReminder(v, reminded, v.createdAt),
  ];
  return { messages, modal: renderDenyModal(v) };
}

describe('every rendering stays within Slack limits', () => {
  it('for random requests, including huge ones', () => {
    fc.assert(
      fc.property(
        view,
        vote,
        fc.array(fc.oneof(userId, groupId), { maxLength: 100 }),
        (v, extra, reminded) => {
          const { messages, modal } = everything(v, extra, reminded);
          for (const m of messages) expect(checkMessage(m)).toEqual([]);
          expect(checkModal(modal)).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('for requests at the contract maxima, with every field full of characters that grow when escaped', () => {
    const worst = (n: number) => '&<>'.repeat(Math.ceil(n / 3)).slice(0, n);
    const v: CardView = {
      id: 'req_01JH3Q4Z8X6V2K9M5N7P0R1S2T',
      status: 'pending',
      title: worst(150),
      risk: 'critical',
      action: worst(100),
      resource: worst(200),
      environment: worst(50),
      client: worst(100),
      requester: { slackUserId: null, name: worst(100), email: worst(254) },
      summary: worst(3000),
      context: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`${i}${worst(99)}`, worst(5000)])),
      links: Array.from({ length: 5 }, () => ({
        text: worst(200),
        url: `https://x.example/${'a'.repeat(1990)}`,
      })),
      diff: Array.from({ length: 20_000 }, () => `+${worst(3000)}`).join('\n'),
      createdAt: T0,
      expiresAt: T0 + 3_600_000,
      decidedAt: T0 + 60_000,
      decidedBy: 'client:ci',
      reason: worst(3000),
      minApprovals: 10,
      votes: Array.from({ length: 11 }, (_, i) => ({
        userId: `U0VOTER${i}`,
        decision: i === 10 ? ('deny' as const) : ('approve' as const),
        reason: worst(1000),
        at: T0,
      })),
      approverUsers: Array.from({ length: 100 }, (_, i) => `U0APPROVER${i}`),
      approverGroups: Array.from({ length: 20 }, (_, i) => `S0GROUP${i}`),
      policyRule: worst(200),
      redactions: 99,
    };
    const { messages, modal } = everything(v, v.votes[0] as CardVote, v.approverUsers);
    for (const m of messages) expect(checkMessage(m)).toEqual([]);
    expect(checkModal(modal)).toEqual([]);
    // The card still shows the large parts, clipped, rather than dropping them.
    const card = JSON.stringify(renderCard(v));
    for (const part of ['&amp;&lt;&gt;', '*Context*', '*Links*', '*Diff*', 'more lines', '…'])
      expect(card).toContain(part);
  });
});

describe('checkMessage', () => {
  const md = (t: string) => ({ type: 'mrkdwn', text: t });
  const plain = (t: string) => ({ type: 'plain_text', text: t });
  const section = (t: string) => ({ type: 'section', text: md(t) });
  const problems = (blocks: unknown[], text = 'fallback') => checkMessage({ text, blocks });

  it('accepts a small valid message', () => {
    expect(problems([section('hi'), { type: 'divider' }])).toEqual([]);
  });

  const cases: [string, unknown[], RegExp, string?][] = [
    ['more than 50 blocks', Array.from({ length: 51 }, () => ({ type: 'divider' })), /^blocks: has 51 items/],
    ['section text over 3000', [section('x'.repeat(3001))], /^blocks\[0\]\.text\.text: is 3001 characters/],
    ['empty section text', [section('')], /^blocks\[0\]\.text\.text: must not be empty/],
    ['a section with neither text nor fields', [{ type: 'section' }], /needs text or fields/],
    [
      'more than 10 fields',
      [{ type: 'section', fields: Array.from({ length: 11 }, () => md('f')) }],
      /^blocks\[0\]\.fields: has 11 items/,
    ],
    [
      'a field over 2000',
      [{ type: 'section', fields: [md('x'.repeat(2001))] }],
      /^blocks\[0\]\.fields\[0\]\.text: is 2001/,
    ],
    [
      'header over 150',
      [{ type: 'header', text: plain('x'.repeat(151)) }],
      /^blocks\[0\]\.text\.text: is 151/,
    ],
    ['a mrkdwn header', [{ type: 'header', text: md('x') }], /must be plain_text/],
    [
      'button text over 75',
      [{ type: 'actions', elements: [{ type: 'button', action_id: 'a', text: plain('x'.repeat(76)) }] }],
      /^blocks\[0\]\.elements\[0\]\.text\.text: is 76/,
    ],
    [
      'button value over 2000',
      [
        {
          type: 'actions',
          elements: [{ type: 'button', action_id: 'a', text: plain('x'), value: 'v'.repeat(2001) }],
        },
      ],
      /^blocks\[0\]\.elements\[0\]\.value: is 2001/,
    ],
    [
      'action_id over 255',
      [{ type: 'actions', elements: [{ type: 'button', action_id: 'a'.repeat(256), text: plain('x') }] }],
      /action_id: is 256/,
    ],
    [
      'the same action_id twice in a block',
      [
        {
          type: 'actions',
          elements: [
            { type: 'button', action_id: 'a', text: plain('x') },
            { type: 'button', action_id: 'a', text: plain('y') },
          ],
        },
      ],
      /is used twice in the block/,
    ],
    ['block_id over 255', [{ type: 'divider', block_id: 'b'.repeat(256) }], /^blocks\[0\]\.block_id: is 256/],
    [
      'the same block_id twice',
      [
        { type: 'divider', block_id: 'b' },
        { type: 'divider', block_id: 'b' },
      ],
      /^blocks\[1\]\.block_id: "b" is used twice/,
    ],
    [
      'more than 10 context elements',
      [{ type: 'context', elements: Array.from({ length: 11 }, () => md('c')) }],
      /^blocks\[0\]\.elements: has 11 items/,
    ],
    [
      'a context element over 2000',
      [{ type: 'context', elements: [md('x'.repeat(2001))] }],
      /^blocks\[0\]\.elements\[0\]\.text: is 2001/,
    ],
    [
      'more than about 12,000 characters in all',
      Array.from({ length: 5 }, () => section('x'.repeat(2500))),
      /^message: carries 12508 characters of text/,
    ],
    ['a fallback text over 4000', [], /^text: is 4001 characters/, 'x'.repeat(4001)],
    ['neither text nor blocks', [], /^message: needs text or blocks/, ''],
  ];
  for (const [name, blocks, expected, text] of cases) {
    it(`catches ${name}`, () => {
      const found = problems(blocks, text);
      expect(
        found.some((p) => expected.test(p)),
        found.join('\n'),
      ).toBe(true);
    });
  }

  it('counts the fallback text in the total', () => {
    const blocks = Array.from({ length: 4 }, () => section('x'.repeat(2900)));
    expect(problems(blocks, 'y'.repeat(300))).toEqual([]);
    expect(problems(blocks, 'y'.repeat(500))).toEqual([
      `message: carries ${4 * 2900 + 500} characters of text (max about ${MAX_MESSAGE_TOTAL_TEXT})`,
    ]);
  });

  it('reads blocks sent as a JSON string, as the Web API form encoding carries them', () => {
    expect(checkMessage({ text: 't', blocks: JSON.stringify([section('hi')]) })).toEqual([]);
    expect(checkMessage({ text: 't', blocks: JSON.stringify([section('x'.repeat(3001))]) })).toHaveLength(1);
    expect(checkMessage({ text: 't', blocks: '[not json' })).toEqual(['blocks: is not valid JSON']);
  });

  it('lists every problem, not just the first', () => {
    expect(
      problems([section(''), { type: 'header', text: plain('x'.repeat(151)) }], 'x'.repeat(4001)),
    ).toHaveLength(3);
  });
});

describe('checkModal', () => {
  const plain = (t: string) => ({ type: 'plain_text', text: t });
  const input = (element: object) => ({ type: 'input', block_id: 'r', label: plain('Why'), element });
  const modal = (over: object = {}) => ({
    type: 'modal',
    title: plain('Deny request'),
    submit: plain('Deny'),
    close: plain('Cancel'),
    blocks: [input({ type: 'plain_text_input', action_id: 'r', max_length: 1000 })],
    ...over,
  });

  it('accepts a valid modal', () => {
    expect(checkModal(modal())).toEqual([]);
    expect(checkModal(JSON.stringify(modal()))).toEqual([]);
  });

  const cases: [string, object, RegExp][] = [
    ['a title over 24', { title: plain('x'.repeat(25)) }, /^title\.text: is 25/],
    ['a missing title', { title: undefined }, /^title: must be a text object/],
    ['submit over 24', { submit: plain('x'.repeat(25)) }, /^submit\.text: is 25/],
    ['close over 24', { close: plain('x'.repeat(25)) }, /^close\.text: is 25/],
    ['input blocks without submit', { submit: undefined }, /^submit: is required with input blocks/],
    ['private_metadata over 3000', { private_metadata: 'm'.repeat(3001) }, /^private_metadata: is 3001/],
    ['callback_id over 255', { callback_id: 'c'.repeat(256) }, /^callback_id: is 256/],
    [
      'more than 100 blocks',
      { blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) },
      /^blocks: has 101/,
    ],
    [
      'max_length over 3000',
      { blocks: [input({ type: 'plain_text_input', action_id: 'r', max_length: 3001 })] },
      /max_length: must be an integer from 0 to 3000/,
    ],
    [
      'min_length above max_length',
      { blocks: [input({ type: 'plain_text_input', action_id: 'r', min_length: 10, max_length: 5 })] },
      /min_length: is greater than max_length/,
    ],
    ['a type other than modal or home', { type: 'dialog' }, /^type: must be modal or home/],
  ];
  for (const [name, over, expected] of cases) {
    it(`catches ${name}`, () => {
      const found = checkModal(modal(over));
      expect(
        found.some((p) => expected.test(p)),
        found.join('\n'),
      ).toBe(true);
    });
  }
});
