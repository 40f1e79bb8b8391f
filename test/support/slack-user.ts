import { randomBytes } from 'node:crypto';
import {
  appHomeOpenedEvent,
  blockActionsPayload,
  buttonAction,
  slashCommandForm,
  viewSubmissionPayload,
} from '../../src/sandbox/slack-payloads.js';
import type { Harness } from './harness.js';
import { postSignedToSlack } from './harness.js';

/** One clicked Approve or Deny button as it appears in a block_actions payload. */
function voteButton(actionId: 'approve' | 'deny', requestId: string, blockId: string) {
  return buttonAction({
    actionId,
    blockId,
    value: requestId,
    text: actionId === 'approve' ? 'Approve' : 'Deny',
  });
}

function newTrigger(h: Harness): string {
  const trigger = `${Date.now()}.${randomBytes(4).toString('hex')}`;
  h.slack.triggers.add(trigger);
  return trigger;
}

/** Finds the card of a request in the fake Slack (by the button values it carries). */
export function cardOf(h: Harness, requestId: string) {
  return h.slack
    .cards()
    .find((m) => JSON.stringify(m.blocks ?? []).includes(requestId) || m.text.includes(requestId));
}

/** Clicks a card button as `userId`, exactly as Slack delivers a block_actions payload. */
export async function click(h: Harness, userId: string, requestId: string, actionId: 'approve' | 'deny') {
  const card = cardOf(h, requestId);
  const payload = blockActionsPayload({
    user: { id: userId },
    container: {
      type: 'message',
      channel: card?.channel ?? 'C0APPROVALS',
      ts: card?.ts,
      text: card?.text ?? '',
    },
    action: voteButton(actionId, requestId, `actions:${requestId}`),
    triggerId: newTrigger(h),
    responseUrl: `${h.slack.url}response`,
  });
  return h.deliver('interactive', payload);
}

/** Submits the deny modal with a reason, as Slack delivers a view_submission payload. */
export async function submitDeny(h: Harness, userId: string, requestId: string, reason: string) {
  const payload = viewSubmissionPayload({
    user: { id: userId },
    view: {
      id: 'VDENY',
      callbackId: 'deny_reason',
      privateMetadata: requestId,
      title: { type: 'plain_text', text: 'Deny request' },
    },
    values: { reason: { reason: { type: 'plain_text_input', value: reason } } },
    triggerId: `${Date.now()}.${randomBytes(4).toString('hex')}`,
  });
  return h.deliver('interactive', payload);
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

/** Sends a Slack-signed JSON body (an Events API callback) to /slack/events, the way Slack does. */
export function sendJsonToSlackEndpoint(
  base: string,
  json: unknown,
  opts: { timestamp?: number; secret?: string } = {},
): Promise<{ status: number; body: string }> {
  return postSignedToSlack(base, JSON.stringify(json), 'application/json', opts);
}

/** Sends an Events API callback (`event_callback`) the way Slack does in the harness's mode. */
export function sendEvent(
  h: Harness,
  json: Record<string, unknown>,
): Promise<{ status: number; body: string }> {
  return h.deliver('events_api', json);
}

/** Every `text` string in a message or view, joined by newlines (for assertions on what people read). */
export function textOf(value: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'text' && typeof x === 'string') out.push(x);
        else walk(x);
      }
    }
  };
  walk(value);
  return out.join('\n');
}

export interface CommandReply {
  /** HTTP status of the slash command POST (the ack). */
  status: number;
  /** What the ack carried (empty when the answer comes through the response_url). */
  ackBody: string;
  /** What was posted to the response_url. */
  body: Record<string, unknown>;
  /** Every text of the reply, joined. */
  text: string;
}

/** Types `/approvals <text>` as `userId`; resolves with the reply sent to the command's response_url. */
export async function slashCommand(h: Harness, userId: string, text: string): Promise<CommandReply> {
  const token = randomBytes(6).toString('hex');
  const trigger = newTrigger(h);
  const started = Date.now();
  const res = await h.deliver(
    'slash_commands',
    slashCommandForm({
      user: { id: userId },
      command: '/approvals',
      text,
      channel: { id: 'C0APPROVALS', name: 'approvals' },
      responseUrl: h.slack.responseUrl(token),
      triggerId: trigger,
    }),
  );
  const ackMs = Date.now() - started;
  if (ackMs > 3000)
    throw new Error(`the slash command was acknowledged after ${ackMs} ms (Slack allows 3 s)`);
  const post = await waitFor(() => h.slack.responsesTo(token)[0], `the reply to /approvals ${text}`);
  return { status: res.status, ackBody: res.body, body: post.body, text: textOf(post.body) };
}

/** Opens the app's Home tab as `userId` (an app_home_opened event); resolves with the published view. */
export async function openHome(h: Harness, userId: string): Promise<Record<string, unknown>> {
  const before = h.slack.callsOf('views.publish').filter((c) => c.args.user_id === userId).length;
  const res = await sendEvent(
    h,
    appHomeOpenedEvent(userId, `Ev${randomBytes(6).toString('hex').toUpperCase()}`),
  );
  if (res.status !== 200) throw new Error(`app_home_opened answered ${res.status}`);
  return nextHome(h, userId, before);
}

/** Waits for the publish of `userId`'s Home number `index` (0-based) and returns its view. */
export async function nextHome(h: Harness, userId: string, index: number): Promise<Record<string, unknown>> {
  const call = await waitFor(
    () => h.slack.callsOf('views.publish').filter((c) => c.args.user_id === userId)[index],
    `Home view #${index + 1} for ${userId}`,
  );
  return call.args.view as Record<string, unknown>;
}

/** Clicks Approve or Deny on the Home tab as `userId` (no channel, no message: a view container). */
export async function clickFromHome(
  h: Harness,
  userId: string,
  requestId: string,
  actionId: 'approve' | 'deny',
): Promise<{ status: number; body: string }> {
  const payload = blockActionsPayload({
    user: { id: userId },
    container: {
      type: 'view',
      view: { id: 'VHOME', type: 'home', blocks: (h.slack.homes.get(userId)?.blocks as unknown[]) ?? [] },
    },
    action: voteButton(actionId, requestId, `home_vote:${requestId}`),
    triggerId: newTrigger(h),
  });
  return h.deliver('interactive', payload);
}
