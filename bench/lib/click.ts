import { createHmac } from 'node:crypto';
import type { Agent } from 'node:http';
import { CHANNEL, SIGNING_SECRET } from './env.js';
import { call, type HttpResult } from './load.js';

let seq = 0;

/**
 * Clicks Approve on a request's card as `userId`, exactly as Slack delivers it: a block_actions
 * payload as a form field, signed with the v0 scheme. Resolves when Bolt answers (the ack).
 */
export function approveClick(
  base: URL,
  agent: Agent,
  userId: string,
  requestId: string,
): Promise<HttpResult> {
  seq++;
  const now = Date.now();
  const ts = `1700000000.${String(seq).padStart(6, '0')}`;
  const payload = {
    type: 'block_actions',
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: 'T0FAKE' },
    api_app_id: 'A0FAKE',
    token: 'legacy-token',
    container: { type: 'message', message_ts: ts, channel_id: CHANNEL, is_ephemeral: false },
    trigger_id: `${now}.${seq}`,
    team: { id: 'T0FAKE', domain: 'fake' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: CHANNEL, name: 'approvals' },
    message: { type: 'message', ts, text: 'approval request' },
    response_url: 'http://127.0.0.1:9/response',
    actions: [
      {
        action_id: 'approve',
        block_id: `actions:${requestId}`,
        text: { type: 'plain_text', text: 'Approve' },
        value: requestId,
        type: 'button',
        action_ts: String(now / 1000),
      },
    ],
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const stamp = Math.floor(now / 1000);
  const sig = `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${stamp}:${body}`).digest('hex')}`;
  return call(base, {
    method: 'POST',
    path: '/slack/events',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
      'x-slack-request-timestamp': String(stamp),
      'x-slack-signature': sig,
    },
    body,
    agent,
  });
}
