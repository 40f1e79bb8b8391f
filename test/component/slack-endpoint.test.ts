import { createHmac, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  PEOPLE,
  requestBody,
  SIGNING_SECRET,
  sqlRows,
  startHarness,
} from '../support/harness.js';
import { cardOf, waitFor } from '../support/slack-user.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

/** Bob's click on Approve, as Slack sends it (form-encoded block_actions). */
function approveClick(requestId: string): string {
  const card = cardOf(h, requestId);
  const payload = {
    type: 'block_actions',
    user: { id: PEOPLE.bob.id, username: 'bob', name: 'bob', team_id: 'T0FAKE' },
    api_app_id: 'A0FAKE',
    token: 'legacy-token',
    container: { type: 'message', message_ts: card?.ts, channel_id: card?.channel, is_ephemeral: false },
    trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
    team: { id: 'T0FAKE', domain: 'fake' },
    channel: { id: card?.channel, name: 'approvals' },
    message: { type: 'message', ts: card?.ts, text: card?.text ?? '' },
    response_url: `${h.slack.url}response`,
    actions: [
      {
        action_id: 'approve',
        block_id: 'decision',
        text: { type: 'plain_text', text: 'Approve' },
        value: requestId,
        type: 'button',
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** POSTs a correctly signed body to a request target sent exactly as written (no URL normalising). */
function postRaw(target: string, body: string, timestamp: number): Promise<number> {
  const sig = `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: h.server.port,
        method: 'POST',
        path: target,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': sig,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Every spelling of the Slack endpoint that some router might take for `/slack/events`. */
const spellings = (port: number) => [
  '/slack/events',
  '/slack/./events',
  '/slack/x/../events',
  '/./slack/events',
  '/slack/events/',
  '/slack/events/.',
  '/slack//events',
  '//slack/events',
  '/slack/%2e/events',
  '/slack/%2E%2e/slack/events',
  '/slack/%65vents',
  '/%73lack/events',
  '/slack%2Fevents',
  '/slack/events%2F',
  '/slack\\events',
  '/slack/.\\events',
  '/Slack/Events',
  '/SLACK/EVENTS',
  '/slack/events;x=1',
  '/slack/events?x=1',
  '/slack/events?',
  '/slack/events#frag',
  `http://127.0.0.1:${port}/slack/events`,
  `HTTP://127.0.0.1:${port}/slack/./events`,
  `http://elsewhere.example/slack/events`,
];

describe('/slack/events: every spelling meets the same checks before Bolt', () => {
  it('refuses a request timestamped in the future (or the past) under every spelling of the path', async () => {
    const id = (await h.api.create(requestBody())).body.id as string;
    await waitFor(() => cardOf(h, id), 'the card');
    const body = approveClick(id);
    const nowS = Math.floor(Date.now() / 1000);
    for (const target of spellings(h.server.port)) {
      for (const ts of [nowS + 400, nowS + 86_400 * 365, nowS - 400]) {
        const status = await postRaw(target, body, ts);
        expect({ target, ts: ts - nowS, status }).toEqual({
          target,
          ts: ts - nowS,
          status: expect.toSatisfy((s: number) => s === 401 || s === 404),
        });
      }
    }
    // Nothing reached the vote listener: no vote, no refusal, still pending.
    const events = await sqlRows(
      h.server,
      `SELECT type FROM audit_events WHERE request_id = ? AND type LIKE 'vote.%'`,
      id,
    );
    expect(events).toEqual([]);
    expect((await h.api.request(id)).body).toMatchObject({ status: 'pending', votes: [] });
    // The same click, signed now, on the canonical path, is a vote: the refusals above were the timestamp.
    expect(await postRaw('/slack/events', body, Math.floor(Date.now() / 1000))).toBe(200);
    await waitFor(async () => (await h.api.request(id)).body.status === 'approved', 'the approval');
  });

  it('answers 401 for a signature made with another secret, and for a body changed after signing', async () => {
    const id = (await h.api.create(requestBody())).body.id as string;
    await waitFor(() => cardOf(h, id), 'the card');
    const body = approveClick(id);
    const ts = Math.floor(Date.now() / 1000);
    const sign = (secret: string, b: string) =>
      `v0=${createHmac('sha256', secret).update(`v0:${ts}:${b}`).digest('hex')}`;
    for (const [sig, sent] of [
      [sign('another-secret-0123456789', body), body],
      [sign(SIGNING_SECRET, body), `${body}&x=1`],
    ] as const) {
      const res = await fetch(`${h.server.url}/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': sig,
        },
        body: sent,
      });
      expect(res.status).toBe(401);
    }
    expect((await h.api.request(id)).body).toMatchObject({ status: 'pending', votes: [] });
  });
});
