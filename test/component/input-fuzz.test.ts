import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '../../src/audit/open-readonly.js';
import { SMALL_BODY_LIMIT } from '../../src/http/limits.js';

import {
  type Harness,
  PEOPLE,
  requestBody,
  sendToSlackEndpoint,
  sqlValue,
  startHarness,
} from '../support/harness.js';
import { AWKWARD, FIELDS, namesField, postSignedBytes, UNSTORABLE } from '../support/hostile-text.js';

import { cardOf, slashCommand, waitFor } from '../support/slack-user.js';

/**
 * Every string field of every route, through the real server, with text that cannot be stored
 * (lone UTF-16 surrogates, NUL), awkward text (control characters, direction overrides) and
 * oversized values: never a 5xx, a 400 that names the field for what cannot be stored, and
 * nothing stored, voted or lost for a refused request (the audit trail still verifies).
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

const count = async (table: string) =>
  (await sqlValue<number>(h.server, `SELECT count(*) AS n FROM ${table}`)) ?? 0;

describe('strings that cannot be stored, and other hostile text, on every route', () => {
  it('POST /api/v1/requests: every string field, nested ones and keys included', async () => {
    const before = { requests: await count('requests'), audit: await count('audit_events') };
    let created = 0;
    for (const [field, put] of FIELDS) {
      for (const value of UNSTORABLE) {
        const res = await h.api.create(put(value));
        expect({ field, value, status: res.status }).toEqual({ field, value, status: 400 });
        expect(namesField(res.body, field), `${field}: ${JSON.stringify(res.body.issues)}`).toBe(true);
      }
      for (const value of AWKWARD) {
        const res = await h.api.create(put(value));
        expect(res.status, `${field} = ${JSON.stringify(value.slice(0, 20))}`).toBeLessThan(500);
        expect([201, 400]).toContain(res.status);
        if (res.status === 201) created++;
      }
    }
    // Only what was accepted is stored; refusals leave no request and no audit event.
    expect(await count('requests')).toBe(before.requests + created);
    expect((await count('audit_events')) - before.audit).toBeGreaterThanOrEqual(created);
    expect(created).toBeGreaterThan(0);
  });

  it('POST /api/v1/requests: bytes that are not UTF-8, and bodies too large', async () => {
    const json = Buffer.from(JSON.stringify(requestBody({ title: 'PLACEHOLDER' })));
    const at = json.indexOf('PLACEHOLDER');
    const bad = Buffer.concat([
      json.subarray(0, at),
      Buffer.from([0xff, 0xfe, 0xed, 0xa0, 0x80]),
      json.subarray(at + 11),
    ]);
    const res = await postSignedBytes(h.server.url, '/api/v1/requests', bad);
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ path: '(body)', message: expect.stringMatching(/not valid UTF-8/) }]);
    const big = await h.api.create(requestBody({ diff: 'x'.repeat(2 * 1024 * 1024) }));
    expect(big.status).toBe(413);
  });

  it('GET /api/v1/requests/:id?wait and POST …/cancel: ids, wait values and reasons', async () => {
    const res = await h.api.create(requestBody({ title: 'stays pending through the fuzz' }));
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    const targets = [
      `/api/v1/requests/%ED%A0%80?wait=1`,
      `/api/v1/requests/%00?wait=1`,
      `/api/v1/requests/req_%00${id.slice(4)}`,
      `/api/v1/requests/%FF%FE`,
      `/api/v1/requests/${'A'.repeat(4000)}`,
      `/api/v1/requests/${id}?wait=%ED%A0%80`,
      `/api/v1/requests/${id}?wait=%00`,
      `/api/v1/requests/${id}?wait=1%00`,
      `/api/v1/requests/${id}?wait=${'9'.repeat(400)}`,
    ];
    for (const target of targets) {
      const got = await h.api.get(target);
      expect(got.status, target).toBeLessThan(500);
      expect([400, 404]).toContain(got.status);
    }
    expect((await h.api.get(`/api/v1/requests/%00`)).body).toMatchObject({
      error: 'invalid_request',
      issues: [{ path: 'id' }],
    });
    for (const reason of [...UNSTORABLE]) {
      const got = await h.api.cancel(id, reason);
      expect(got.status, JSON.stringify(reason)).toBe(400);
      expect(got.body.issues).toEqual([{ path: 'reason', message: expect.any(String) }]);
    }
    for (const reason of AWKWARD) {
      const got = await h.api.post(`/api/v1/requests/%00/cancel`, { reason });
      // A body over the cancel route's limit is refused before it is read; anything else reaches the id check.
      expect(got.status).toBe(reason.length > SMALL_BODY_LIMIT ? 413 : 400);
    }
    const still = await h.api.request(id);
    expect(still.body.status).toBe('pending');
  });

  it('POST /slack/events: ids, values and typed text in signed payloads', async () => {
    const res = await h.api.create(requestBody({ title: 'clicked with hostile payloads' }));
    const id = res.body.id as string;
    const card = await waitFor(() => cardOf(h, id), 'the card');
    const votesBefore = await count('votes');
    const auditBefore = await count('audit_events');
    const team = { id: 'T0FAKE', domain: 'fake' };
    const click = (over: { user?: string; team?: string; value?: string; action?: string }) =>
      sendToSlackEndpoint(h.server.url, {
        payload: JSON.stringify({
          type: 'block_actions',
          user: { id: over.user ?? PEOPLE.bob.id, team_id: over.team ?? team.id },
          team: { id: over.team ?? team.id, domain: 'fake' },
          api_app_id: 'A0FAKE',
          container: { type: 'message', message_ts: card.ts, channel_id: card.channel },
          trigger_id: `${Date.now()}.1`,
          channel: { id: card.channel, name: 'approvals' },
          message: { ts: card.ts, text: card.text },
          response_url: `${h.slack.url}response`,
          actions: [
            {
              action_id: over.action ?? 'approve',
              block_id: 'decision',
              value: over.value ?? id,
              type: 'button',
            },
          ],
        }),
      });
    const denySubmit = (over: { user?: string; metadata?: string; reason?: string }) =>
      sendToSlackEndpoint(h.server.url, {
        payload: JSON.stringify({
          type: 'view_submission',
          team,
          user: { id: over.user ?? PEOPLE.carol.id, team_id: team.id },
          api_app_id: 'A0FAKE',
          view: {
            id: 'VDENY',
            type: 'modal',
            callback_id: 'deny_reason',
            private_metadata: over.metadata ?? id,
            state: {
              values: { reason: { reason: { type: 'plain_text_input', value: over.reason ?? 'no' } } },
            },
          },
        }),
      });
    const answers: { what: string; status: number; body: string }[] = [];
    for (const bad of UNSTORABLE) {
      for (const [what, send] of [
        ['button value', () => click({ value: bad })],
        ['user id', () => click({ user: bad })],
        ['team id', () => click({ team: bad })],
        ['deny button, user id', () => click({ user: bad, action: 'deny' })],
        ['modal metadata', () => denySubmit({ metadata: bad })],
        ['modal user', () => denySubmit({ user: bad })],
        ['deny reason', () => denySubmit({ reason: bad })],
      ] as const) {
        const r = await send();
        answers.push({ what: `${what} ${JSON.stringify(bad)}`, ...r });
      }
    }
    for (const a of answers) expect(a.status, a.what).toBeLessThan(500);
    const reasonAnswer = answers.find((a) => a.what.startsWith('deny reason'));
    expect(reasonAnswer?.body).toMatch(/response_action/);

    const command = await slashCommand(h, PEOPLE.bob.id, 'show \u0000req');
    expect(command.status).toBe(200);
    expect(command.text).toMatch(/please type it again/);

    // Nothing was voted, the request is untouched, and the trail is whole.
    expect(await count('votes')).toBe(votesBefore);
    expect((await h.api.request(id)).body.status).toBe('pending');
    expect(await count('audit_events')).toBeGreaterThanOrEqual(auditBefore);
    const audit = await verifyAuditFile(h.storeRef);
    expect(audit.ok).toBe(true);
    // The server still works.
    expect((await h.api.create(requestBody({ title: 'after the fuzz' }))).status).toBe(201);
  });
});
