import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAt, person, type ServiceFixture, serviceFixture } from '../support/service.js';

const T0 = 1_800_000_000_000;
let f: ServiceFixture;
beforeEach(async () => {
  f = await serviceFixture();
});
afterEach(() => f.close());

const statusOf = async (id: string) => (await f.approvals.requests.get(id))?.status;
const outbox = (id: string) =>
  f.store.sqlite
    .prepare('SELECT kind FROM outbox WHERE request_id = ? ORDER BY id')
    .all(id)
    .map((r) => (r as { kind: string }).kind);

describe('expireDue(now) with a fake clock', () => {
  it('expires a request whose deadline has passed, as expired and never denied', async () => {
    const id = await createAt(f, T0, { ttl_seconds: 60 });
    expect(await f.approvals.expireDue(T0 + 60_000)).toBe(1);
    const r = await f.approvals.requests.get(id);
    expect(r).toMatchObject({ status: 'expired', decidedAt: T0 + 60_000, decidedBy: 'system' });
    expect(r?.reason).not.toMatch(/den/i);
    expect(outbox(id)).toEqual(['slack.post_card', 'slack.update_card', 'slack.thread_outcome']);
    const types = f.store.sqlite
      .prepare('SELECT type, signature FROM audit_events WHERE request_id = ? ORDER BY seq')
      .all(id) as { type: string; signature: string | null }[];
    expect(types.map((t) => t.type)).toEqual(['request.created', 'request.expired']);
    expect(types[1]?.signature).toEqual(expect.any(String));
  });

  it('leaves a request that is not yet due', async () => {
    const id = await createAt(f, T0, { ttl_seconds: 60 });
    expect(await f.approvals.expireDue(T0 + 59_999)).toBe(0);
    expect(await statusOf(id)).toBe('pending');
  });

  it('leaves requests already decided', async () => {
    const approved = await createAt(f, T0, { ttl_seconds: 60 });
    const cancelled = await createAt(f, T0, { ttl_seconds: 60 });
    expect(
      (await f.approvals.vote(approved, person('UBOB'), { decision: 'approve' }, T0 + 1000)).outcome.ok,
    ).toBe(true);
    expect((await f.approvals.cancel(cancelled, 'client:ci', null, T0 + 1000)).kind).toBe('cancelled');
    expect(await f.approvals.expireDue(T0 + 120_000)).toBe(0);
    expect(await statusOf(approved)).toBe('approved');
    expect(await statusOf(cancelled)).toBe('cancelled');
  });

  it('handles a large due batch in bounded chunks', async () => {
    const ids = await Promise.all(Array.from({ length: 25 }, () => createAt(f, T0, { ttl_seconds: 10 })));
    expect(await f.approvals.expireDue(T0 + 10_000, 7)).toBe(25);
    expect(await Promise.all(ids.map(statusOf))).toEqual(ids.map(() => 'expired'));
  });

  it('refuses a vote at or after the deadline even before the sweep ran', async () => {
    const id = await createAt(f, T0, { ttl_seconds: 60 });
    const result = await f.approvals.vote(id, person('UBOB'), { decision: 'approve' }, T0 + 60_000);
    expect(result.outcome).toEqual({ ok: false, refusal: 'expired' });
    expect(await statusOf(id)).toBe('pending');
  });

  it('is woken: a long poll waiting on the request returns when it expires', async () => {
    const id = await createAt(f, T0, { ttl_seconds: 60 });
    const waiting = f.approvals.decisions.wait(id, 5000);
    await f.approvals.expireDue(T0 + 60_000);
    expect(await waiting).toBe(true);
  });
});

describe('remindDue(now)', () => {
  it('reminds at each point once, in order, and never after the deadline', async () => {
    const id = await createAt(f, T0, { ttl_seconds: 100 });
    expect(await f.approvals.remindDue(T0 + 49_000)).toBe(0);
    expect(await f.approvals.remindDue(T0 + 50_000)).toBe(1);
    expect(await f.approvals.remindDue(T0 + 60_000)).toBe(0);
    expect(await f.approvals.remindDue(T0 + 90_000)).toBe(1);
    expect(await f.approvals.remindDue(T0 + 99_000)).toBe(0);
    expect(outbox(id).filter((k) => k === 'slack.thread_reminder')).toHaveLength(2);
  });

  it('sends one reminder, not two, when both points fell due while the server was down', async () => {
    const id = await createAt(f, T0, { ttl_seconds: 100 });
    expect(await f.approvals.remindDue(T0 + 95_000)).toBe(1);
    expect(await f.approvals.remindDue(T0 + 95_000)).toBe(0);
    expect(await f.approvals.remindDue(T0 + 99_000)).toBe(0);
    expect(outbox(id).filter((k) => k === 'slack.thread_reminder')).toHaveLength(1);
  });
});
