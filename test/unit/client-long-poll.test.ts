import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Countersign } from '../../src/client/index.js';
import { CI_SECRET, type Harness, PEOPLE, requestBody, startHarness } from '../support/harness.js';
import { cardOf, click, waitFor } from '../support/slack-user.js';

// A functional check that `GET ...?wait=N` is woken by the decision (DecisionBus), not a benchmark:
// each answer must come on the decision, long before the 30 s wait would have ended on its own (how
// fast is measured by `npm run bench`, never here).
const WAIT_S = 30;
/** Comfortably less than the wait: an answer this early can only have been woken by the decision. */
const WOKEN_BEFORE_MS = (WAIT_S - 10) * 1000;
let h: Harness;
let decidedAt = 0;
beforeAll(async () => {
  h = await startHarness();
  // Record the moment each decision is announced to waiters (right after its transaction commits).
  const bus = h.server.approvals.decisions;
  const notify = bus.notify.bind(bus);
  bus.notify = (id: string) => {
    decidedAt = performance.now();
    notify(id);
  };
});
afterAll(async () => {
  await h.stop();
});

async function pending(over: Record<string, unknown> = {}): Promise<string> {
  const res = await h.api.create(requestBody(over));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** Starts a held GET, checks it is held (one waiter, no answer) for `holdMs`, and returns it. */
async function heldGet(id: string, holdMs = 300) {
  let answeredAt = 0;
  const started = performance.now();
  const res = h.api.request(id, WAIT_S).then((r) => {
    answeredAt = performance.now();
    return r;
  });
  await waitFor(() => h.server.approvals.decisions.size === 1, 'the long poll to be waiting');
  await new Promise((r) => setTimeout(r, holdMs));
  expect(answeredAt).toBe(0);
  return { res, started, answered: () => answeredAt };
}

describe('GET /api/v1/requests/:id?wait=N', () => {
  it('answers on a cancel through the API', async () => {
    const id = await pending();
    const get = await heldGet(id);
    const before = performance.now();
    await h.api.cancel(id, 'no longer needed');
    const res = await get.res;
    expect(res.body.status).toBe('cancelled');
    expect(get.answered() - before).toBeLessThan(WOKEN_BEFORE_MS);
    expect(get.answered() - get.started).toBeGreaterThanOrEqual(300);
    expect(h.server.approvals.decisions.size).toBe(0);
  });

  it('answers on an approval clicked in Slack', async () => {
    const id = await pending();
    await waitFor(() => cardOf(h, id), 'the card');
    const get = await heldGet(id);
    await click(h, PEOPLE.bob.id, id, 'approve');
    const res = await get.res;
    expect(res.body).toMatchObject({
      status: 'approved',
      votes: [expect.objectContaining({ user_id: 'UBOB' })],
    });
    expect(get.answered() - get.started).toBeLessThan(WOKEN_BEFORE_MS);
    expect(get.answered()).toBeGreaterThanOrEqual(decidedAt);
  });

  it('answers on an expiry by the sweep', async () => {
    const id = await pending({ ttl_seconds: 10 });
    const get = await heldGet(id);
    const before = performance.now();
    expect(await h.server.approvals.expireDue(Date.now() + 20_000)).toBe(1);
    const res = await get.res;
    expect(res.body.status).toBe('expired');
    expect(get.answered() - before).toBeLessThan(WOKEN_BEFORE_MS);
  });

  it('the typed client’s waitForDecision resolves on the decision too', async () => {
    const client = new Countersign({ url: h.server.url, secret: CI_SECRET });
    const id = await pending();
    let resolvedAt = 0;
    const waiting = client.waitForDecision(id).then((r) => {
      resolvedAt = performance.now();
      return r;
    });
    await waitFor(() => h.server.approvals.decisions.size === 1, 'the client to be waiting');
    await new Promise((r) => setTimeout(r, 200));
    expect(resolvedAt).toBe(0);
    const before = performance.now();
    await h.api.cancel(id);
    expect((await waiting).status).toBe('cancelled');
    expect(resolvedAt - before).toBeLessThan(WOKEN_BEFORE_MS);
  });
});
