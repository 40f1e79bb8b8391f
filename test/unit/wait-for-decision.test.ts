import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAt, type ServiceFixture, serviceFixture } from '../support/service.js';

/**
 * `waitForDecision` behind `GET ...?wait=N`: a decision that no announcement reached this process
 * (taken on another replica while this one was not yet listening, or while its LISTEN connection
 * was down) must still end the wait. The decision is written straight into the table here, so no
 * announcement is made at all.
 */
let f: ServiceFixture;

beforeEach(async () => {
  f = await serviceFixture();
});

afterEach(async () => {
  await f.close();
});

const decideUnannounced = (id: string) =>
  f.store.query("UPDATE requests SET status = 'approved', decided_at = ? WHERE id = ?", [Date.now(), id]);

/** Settles `p` into a flag, to look at whether it has settled without waiting for it. */
function track<T>(p: Promise<T>): { settled: () => boolean; value: () => T | undefined } {
  let done = false;
  let value: T | undefined;
  void p.then((v) => {
    done = true;
    value = v;
  });
  return { settled: () => done, value: () => value };
}

/** Lets pending promise callbacks and I/O run (the store's reads) without any timer having to fire. */
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('waitForDecision', () => {
  it('sees a decision made after the caller read the request but before it listened', async () => {
    const id = await createAt(f, Date.now());
    await decideUnannounced(id);
    // 60 s: only the read made after the waiter listens can end this wait within the test.
    const waiting = track(f.approvals.waitForDecision(id, 60_000));
    await turns();
    expect(waiting.settled()).toBe(true);
    expect(waiting.value()).toBe(true);
  });

  it('goes on waiting while the request is pending, and answers an announced decision', async () => {
    const id = await createAt(f, Date.now());
    const waiting = track(f.approvals.waitForDecision(id, 60_000));
    await turns();
    expect(waiting.settled()).toBe(false);
    f.approvals.decisions.notify(id);
    await turns();
    expect(waiting.value()).toBe(true);
  });

  it('re-reads every waited-on request when the store reports missed announcements', async () => {
    const pendingId = await createAt(f, Date.now());
    const decidedId = await createAt(f, Date.now());
    const stillPending = track(f.approvals.waitForDecision(pendingId, 60_000));
    const decided = track(f.approvals.waitForDecision(decidedId, 60_000));
    await turns();
    expect(decided.settled()).toBe(false);

    await decideUnannounced(decidedId);
    await turns();
    expect(decided.settled()).toBe(false); // nothing announced it
    f.approvals.decisions.recheckAll();
    await turns();
    expect(decided.value()).toBe(true);
    // The one still pending re-read too, and waits on.
    expect(stillPending.settled()).toBe(false);
    expect(f.approvals.decisions.size).toBe(1);
    f.approvals.decisions.notify(pendingId);
    await turns();
    expect(stillPending.value()).toBe(true);
  });

  it('returns false when the caller goes away, and leaves no waiter behind', async () => {
    const id = await createAt(f, Date.now());
    const gone = new AbortController();
    const waiting = track(f.approvals.waitForDecision(id, 60_000, gone.signal));
    await turns();
    gone.abort();
    await turns();
    expect(waiting.value()).toBe(false);
    expect(f.approvals.decisions.size).toBe(0);
  });
});
