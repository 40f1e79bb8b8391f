import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyCallback } from '../../src/client/index.js';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { CallbackReceiver, type Delivery } from '../support/callback-receiver.js';
import { CI_SECRET, type Harness, PEOPLE, requestBody, sqlRows, startHarness } from '../support/harness.js';
import { cardOf, click, submitDeny, waitFor } from '../support/slack-user.js';
import { dropStoreFor } from '../support/test-store.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function harness(opts: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(opts);
  cleanup.push(() => h.stop());
  return h;
}

async function receiver(): Promise<CallbackReceiver> {
  const r = await new CallbackReceiver().start();
  cleanup.push(() => r.stop());
  return r;
}

function standardHeaders(h: IncomingHttpHeaders): Record<string, string> {
  return {
    'webhook-id': String(h['webhook-id']),
    'webhook-timestamp': String(h['webhook-timestamp']),
    'webhook-signature': String(h['webhook-signature']),
  };
}

/** Verifies a delivery with the standardwebhooks package, as a pipeline would, and returns the event. */
function verified(d: Delivery) {
  return new Webhook(CI_SECRET).verify(d.body, standardHeaders(d.headers)) as {
    type: string;
    data: Record<string, unknown>;
  };
}

/** POSTs a request body as exact bytes, so the test knows the SHA-256 the server must record. */
async function create(h: Harness, body: Record<string, unknown>) {
  const raw = JSON.stringify(body);
  const res = await h.api.create(undefined, { raw });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, sha: createHash('sha256').update(raw).digest('hex'), object: res.body };
}

describe('callbacks', () => {
  it('delivers a signed callback that verifies with standardwebhooks and carries payload_sha256', async () => {
    const h = await harness();
    const rx = await receiver();
    const { id, sha, object } = await create(h, requestBody({ callback_url: rx.hook }));
    expect(object.payload_sha256).toBe(sha);
    await waitFor(() => cardOf(h, id), 'the card');
    await click(h, PEOPLE.bob.id, id, 'approve');

    const delivery = await waitFor(() => rx.accepted(), 'the callback');
    expect(delivery.headers['content-type']).toBe('application/json');
    const event = verified(delivery);
    expect(event.type).toBe('request.approved');
    expect(event.data).toMatchObject({ id, status: 'approved', payload_sha256: sha });
    expect(event.data.votes).toEqual([
      expect.objectContaining({ user_id: PEOPLE.bob.id, decision: 'approve' }),
    ]);
    // The typed client's helper verifies the same bytes and headers.
    expect(verifyCallback(delivery.body, delivery.headers, CI_SECRET).data.payload_sha256).toBe(sha);
    // A tampered body does not verify.
    expect(() =>
      new Webhook(CI_SECRET).verify(
        delivery.body.replace('approved', 'denied'),
        standardHeaders(delivery.headers),
      ),
    ).toThrow();
    await new Promise((r) => setTimeout(r, 150));
    expect(rx.deliveries).toHaveLength(1);
  });

  it('names each outcome in the type: denied (with the reason), cancelled, expired', async () => {
    // The server's clock is moved forward to expire a request at once (the sweep uses it too).
    let skew = 0;
    const h = await harness({ now: () => Date.now() + skew });
    const rx = await receiver();
    const denied = await create(h, requestBody({ callback_url: rx.hook, title: 'to deny' }));
    const cancelled = await create(h, requestBody({ callback_url: rx.hook, title: 'to cancel' }));
    const expired = await create(
      h,
      requestBody({ callback_url: rx.hook, title: 'to expire', ttl_seconds: 10 }),
    );
    await submitDeny(h, PEOPLE.bob.id, denied.id, 'not on a Friday');
    await h.api.cancel(cancelled.id, 'pipeline aborted');
    skew = 20_000;
    expect(await h.server.approvals.expireDue(Date.now() + skew)).toBe(1);

    await waitFor(() => rx.deliveries.length >= 3, 'three callbacks');
    const byId = new Map(rx.deliveries.map((d) => [verified(d).data.id, verified(d)]));
    expect(byId.get(denied.id)).toMatchObject({
      type: 'request.denied',
      data: { status: 'denied', reason: 'not on a Friday', payload_sha256: denied.sha },
    });
    expect(byId.get(cancelled.id)).toMatchObject({
      type: 'request.cancelled',
      data: { status: 'cancelled', reason: 'pipeline aborted', decided_by: 'client:ci' },
    });
    expect(byId.get(expired.id)).toMatchObject({ type: 'request.expired', data: { status: 'expired' } });
  });

  it('retries after a 500 and a 302 (not followed) with the same webhook-id until a 2xx', async () => {
    const h = await harness();
    const rx = await receiver();
    rx.failWith({ status: 500 }, { status: 302, headers: { location: `${rx.url}/redirected` } });
    const { id, sha } = await create(h, requestBody({ callback_url: rx.hook }));
    await h.api.cancel(id, 'rolled back');

    await waitFor(() => rx.accepted(), 'the callback after two failures', 10_000);
    expect(rx.deliveries.map((d) => d.answered)).toEqual([500, 302, 200]);
    const ids = new Set(rx.deliveries.map((d) => d.headers['webhook-id']));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^msg_/);
    // Every attempt is signed afresh and verifies; the body is the same bytes each time.
    for (const d of rx.deliveries) expect(verified(d).data).toMatchObject({ id, payload_sha256: sha });
    expect(new Set(rx.deliveries.map((d) => d.body)).size).toBe(1);
    // The redirect was a failure and was not followed.
    expect(rx.elsewhere).toEqual([]);
    // The first retry comes within 2 s (CONTRACT §3).
    const [first, second] = rx.deliveries as [Delivery, Delivery];
    expect(second.at - first.at).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 150));
    expect(rx.deliveries).toHaveLength(3);
  });

  it('keeps retrying a failing receiver for 24 hours, then gives up and audits it', async () => {
    let skew = 0;
    const h = await harness({ now: () => Date.now() + skew });
    const rx = await receiver();
    rx.failWith(...Array.from({ length: 10 }, () => ({ status: 500 })));
    const { id } = await create(h, requestBody({ callback_url: rx.hook }));
    await h.api.cancel(id);
    await waitFor(() => rx.deliveries.length === 1, 'the first attempt');

    skew = 23 * 3_600_000; // 23 hours later: still retrying
    await waitFor(() => rx.deliveries.length === 2, 'a retry 23 hours later', 10_000);
    let seen: { type: string; data: string }[] = [];
    const events = () => seen;
    const read = async () => {
      seen = await sqlRows<{ type: string; data: string }>(
        h.server,
        'SELECT type, data FROM audit_events WHERE request_id = ? AND type LIKE ?',
        id,
        'callback.%',
      );
      return seen;
    };
    await waitFor(async () => (await h.server.approvals.outbox.openCount()) === 1, 'the row scheduled again');
    expect(await read()).toEqual([]);

    skew = 24 * 3_600_000 + 60_000; // past the 24-hour window: one last attempt, then given up
    await waitFor(async () => (await read()).length === 1, 'callback.given_up', 10_000);
    expect(events()[0]?.type).toBe('callback.given_up');
    expect(JSON.parse(events()[0]?.data ?? '{}')).toMatchObject({ url: rx.hook, attempts: 3 });
    expect(rx.deliveries).toHaveLength(3);
    expect(new Set(rx.deliveries.map((d) => d.headers['webhook-id'])).size).toBe(1);
    expect(await h.server.approvals.outbox.openCount()).toBe(0);
  });

  it('still delivers when the server restarts between attempts', async () => {
    const slack = await new SlackEmulator().start();
    for (const p of Object.values(PEOPLE)) slack.addUser(p);
    cleanup.push(() => slack.stop());
    const dir = mkdtempSync(join(tmpdir(), 'countersign-callback-restart-'));
    cleanup.push(async () => {
      rmSync(dir, { recursive: true, force: true });
      await dropStoreFor(dir);
    });
    const rx = await receiver();
    rx.failWith({ status: 503 });

    const first = await startHarness({ slack, dir });
    const { id, sha } = await create(first, requestBody({ callback_url: rx.hook }));
    await first.api.cancel(id, 'stopping the deploy');
    await waitFor(() => rx.deliveries.length === 1, 'the first (failed) attempt');
    await first.stop({ keepSlack: true, keepDir: true });
    expect(rx.deliveries).toHaveLength(1);

    const second = await startHarness({ slack, dir });
    cleanup.push(() => second.stop({ keepSlack: true, keepDir: true }));
    const delivered = await waitFor(() => rx.accepted(), 'the callback after the restart', 10_000);
    expect(rx.deliveries.map((d) => d.answered)).toEqual([503, 200]);
    expect(delivered.headers['webhook-id']).toBe(rx.deliveries[0]?.headers['webhook-id']);
    expect(verified(delivered)).toMatchObject({
      type: 'request.cancelled',
      data: { id, payload_sha256: sha },
    });
  });

  it('refuses a callback_url outside COUNTERSIGN_CALLBACK_ALLOW with 400', async () => {
    const h = await harness({
      env: { COUNTERSIGN_CALLBACK_ALLOW: 'https://hooks.example.com,http://127.0.0.1' },
    });
    const refused = [
      'https://attacker.example/hook',
      'https://hooks.example.com.attacker.net/hook',
      'http://127.0.0.1.attacker.net/hook',
      'http://127.0.0.1:80@attacker.net/hook',
      'http://hooks.example.com/hook',
    ];
    for (const url of refused) {
      const res = await h.api.create(requestBody({ callback_url: url }));
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
      expect(res.body).toMatchObject({
        error: 'invalid_request',
        issues: [expect.objectContaining({ path: 'callback_url' })],
      });
    }
    const allowed = ['https://hooks.example.com/ci', 'https://hooks.example.com', 'http://127.0.0.1:8080/x'];
    for (const url of allowed) {
      const res = await h.api.create(requestBody({ callback_url: url }));
      expect({ url, status: res.status }).toEqual({ url, status: 201 });
    }
  });
});
