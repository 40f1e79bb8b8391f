import { randomBytes } from 'node:crypto';
import type { Harness } from './harness.js';
import { sendToSlackEndpoint } from './harness.js';

const team = { id: 'T0FAKE', domain: 'fake' };

/** Finds the card of a request in the fake Slack (by the button values it carries). */
export function cardOf(h: Harness, requestId: string) {
  return h.slack
    .cards()
    .find((m) => JSON.stringify(m.blocks ?? []).includes(requestId) || m.text.includes(requestId));
}

/** Clicks a card button as `userId`, exactly as Slack delivers a block_actions payload. */
export async function click(h: Harness, userId: string, requestId: string, actionId: 'approve' | 'deny') {
  const card = cardOf(h, requestId);
  const trigger = `${Date.now()}.${randomBytes(4).toString('hex')}`;
  h.slack.triggers.add(trigger);
  const payload = {
    type: 'block_actions',
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: team.id },
    api_app_id: 'A0FAKE',
    token: 'legacy-token',
    container: { type: 'message', message_ts: card?.ts, channel_id: card?.channel, is_ephemeral: false },
    trigger_id: trigger,
    team,
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: card?.channel ?? 'C0APPROVALS', name: 'approvals' },
    message: { type: 'message', ts: card?.ts, text: card?.text ?? '' },
    response_url: `${h.slack.url}response`,
    actions: [
      {
        action_id: actionId,
        block_id: `actions:${requestId}`,
        text: { type: 'plain_text', text: actionId === 'approve' ? 'Approve' : 'Deny' },
        value: requestId,
        type: 'button',
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
  return sendToSlackEndpoint(h.server.url, { payload: JSON.stringify(payload) });
}

/** Submits the deny modal with a reason, as Slack delivers a view_submission payload. */
export async function submitDeny(h: Harness, userId: string, requestId: string, reason: string) {
  const payload = {
    type: 'view_submission',
    team,
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: team.id },
    api_app_id: 'A0FAKE',
    token: 'legacy-token',
    trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
    view: {
      id: 'VDENY',
      team_id: team.id,
      type: 'modal',
      callback_id: 'deny_reason',
      private_metadata: requestId,
      state: { values: { reason: { reason: { type: 'plain_text_input', value: reason } } } },
      hash: 'h',
      title: { type: 'plain_text', text: 'Deny request' },
      blocks: [],
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return sendToSlackEndpoint(h.server.url, { payload: JSON.stringify(payload) });
}

/** Polls until `fn` returns a truthy value (the outbox delivers asynchronously). */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  ms = 5000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function buttonsOf(blocks: unknown[] | undefined): string[] {
  const out: string[] = [];
  for (const b of (blocks ?? []) as { type: string; elements?: { type: string; action_id?: string }[] }[]) {
    if (b.type === 'actions')
      for (const e of b.elements ?? []) if (e.type === 'button' && e.action_id) out.push(e.action_id);
  }
  return out;
}
