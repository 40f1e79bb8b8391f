import { describe, expect, it } from 'vitest';
import {
  type CardView,
  MAX_DENY_REASON,
  type RequestLine,
  renderCard,
  renderDenyModal,
  renderHome,
} from '../../blocks/index.js';
import { SLACK_BODY_LIMIT } from '../../src/slack/http-endpoint.js';

/**
 * The largest requests Slack sends this app, built from the largest card, App Home tab and deny modal
 * the renderers can produce, filled with the characters that grow most on the way (escaped by us,
 * JSON-escaped, UTF-8 encoded, then form-encoded by Slack). `/slack/events` must take each of them
 * with room to spare, or a click would be refused as too large.
 */
const WORST_UNITS = ['&', '<', '"', '\\', '界', '😀', 'a'];

function viewOf(fill: (n: number) => string, i = 0): CardView {
  return {
    id: `req_01JABCDEFGHJKMNPQRSTVW${String(i).padStart(4, '0')}`,
    status: 'pending',
    title: fill(150),
    risk: 'critical',
    action: 'a'.repeat(100),
    resource: fill(200),
    environment: fill(50),
    client: 'c'.repeat(64),
    requester: { slackUserId: 'U0123456789', name: fill(200), email: fill(200) },
    summary: fill(3000),
    context: Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`${fill(40)}${k}`, fill(5000)])),
    links: Array.from({ length: 5 }, () => ({ text: fill(200), url: `https://x.example/${fill(1900)}` })),
    diff: Array.from({ length: 500 }, () => `+${fill(100)}`).join('\n'),
    createdAt: 0,
    expiresAt: 4_102_444_800_000,
    decidedAt: null,
    decidedBy: null,
    reason: null,
    minApprovals: 10,
    votes: Array.from({ length: 9 }, (_, k) => ({
      userId: `U00000000${k}`,
      decision: 'approve' as const,
      reason: fill(1000),
      at: 0,
    })),
    approverUsers: Array.from({ length: 50 }, (_, k) => `U${String(k).padStart(10, '0')}`),
    approverGroups: Array.from({ length: 20 }, (_, k) => `S${String(k).padStart(10, '0')}`),
    policyRule: fill(100),
    redactions: 5,
  };
}

/** What Slack wraps around every interactive payload (user, team, trigger, response URL, ...). */
const envelope = {
  user: { id: 'U0123456789', username: 'x'.repeat(80), name: 'x'.repeat(80), team_id: 'T0123456789' },
  api_app_id: 'A0123456789',
  token: 'x'.repeat(24),
  trigger_id: '1'.repeat(60),
  team: { id: 'T0123456789', domain: 'x'.repeat(60), enterprise_id: 'E0123456789' },
  enterprise: { id: 'E0123456789', name: 'x'.repeat(80) },
  is_enterprise_install: false,
  response_url: `https://hooks.slack.com/actions/T0123456789/1234567890123/${'a'.repeat(24)}`,
};
const clicked = {
  actions: [
    {
      action_id: 'approve',
      block_id: 'decision',
      text: { type: 'plain_text', text: 'Approve', emoji: true },
      value: 'req_01JABCDEFGHJKMNPQRSTVW0000',
      style: 'primary',
      type: 'button',
      action_ts: '1736935200.000100',
    },
  ],
  state: { values: {} },
};
const viewEnvelope = {
  id: 'V0123456789',
  team_id: 'T0123456789',
  state: { values: {} },
  hash: '1736935200.abcdefgh',
  clear_on_close: false,
  notify_on_close: false,
  previous_view_id: null,
  root_view_id: 'V0123456789',
  app_id: 'A0123456789',
  external_id: '',
  app_installed_team_id: 'T0123456789',
  bot_id: 'B0123456789',
};

const formSize = (payload: unknown) =>
  Buffer.byteLength(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());

function largestPayloads(unit: string): Record<string, number> {
  const fill = (n: number) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
  const card = renderCard(viewOf(fill));
  const line = (i: number): RequestLine => ({
    ...viewOf(fill, i),
    channel: 'C0123456789',
    slackUrl: 'https://acme.slack.com/archives/C0123456789/p1736935200000100',
  });
  const lines = Array.from({ length: 200 }, (_, i) => line(i));
  const home = renderHome(
    {
      notice: { kind: 'refused', text: fill(2000) },
      waiting: lines,
      waitingTotal: lines.length,
      waitingProblem: null,
      requested: lines,
      requestedTotal: lines.length,
      admin: {
        channels: Array.from({ length: 100 }, (_, i) => ({
          channel: `C${String(i).padStart(10, '0')}`,
          pending: 5,
          oldestCreatedAt: 0,
        })),
      },
    },
    1_736_935_200_000,
  );
  const modal = renderDenyModal(viewOf(fill));
  return {
    'a click on the card': formSize({
      type: 'block_actions',
      ...envelope,
      ...clicked,
      container: { type: 'message', message_ts: '1736935200.000100', channel_id: 'C0123456789' },
      channel: { id: 'C0123456789', name: 'x'.repeat(80) },
      message: { type: 'message', user: 'U0', ts: '1736935200.000100', bot_id: 'B0', ...card },
    }),
    'a click on the App Home tab': formSize({
      type: 'block_actions',
      ...envelope,
      ...clicked,
      container: { type: 'view', view_id: 'V0123456789' },
      view: { ...viewEnvelope, ...home },
    }),
    'the deny modal submitted': formSize({
      type: 'view_submission',
      ...envelope,
      view: {
        ...viewEnvelope,
        ...modal,
        state: { values: { reason: { reason: { type: 'plain_text_input', value: fill(MAX_DENY_REASON) } } } },
      },
    }),
    'the App Home tab opened (event)': Buffer.byteLength(
      JSON.stringify({
        token: 'x'.repeat(24),
        team_id: 'T0123456789',
        api_app_id: 'A0123456789',
        event: {
          type: 'app_home_opened',
          user: 'U0123456789',
          channel: 'D0123456789',
          tab: 'home',
          view: home,
        },
        type: 'event_callback',
        event_id: 'Ev0123456789',
        event_time: 1736935200,
      }),
    ),
  };
}

describe('SLACK_BODY_LIMIT', () => {
  it('takes the largest payload this app can receive, with a third to spare', () => {
    let largest = { size: 0, what: '' };
    for (const unit of WORST_UNITS) {
      for (const [what, size] of Object.entries(largestPayloads(unit))) {
        if (size > largest.size) largest = { size, what: `${what}, filled with ${JSON.stringify(unit)}` };
      }
    }
    expect(largest.size).toBeGreaterThan(50_000);
    expect(largest.size, largest.what).toBeLessThanOrEqual((SLACK_BODY_LIMIT * 2) / 3);
  });

  it('is far below Bolt’s default of 4 MiB and the API’s 1 MiB', () => {
    expect(SLACK_BODY_LIMIT).toBeLessThanOrEqual(256 * 1024);
  });
});
