import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CALLBACK_RETRY_WINDOW_MS, callbackDelay } from '../../src/outbox/backoff.js';

const HOUR = 3_600_000;

describe('callback retry schedule (CONTRACT §3)', () => {
  it('retries first within 2 s, never more than doubles, caps at 1 hour', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (seed) => {
        let prev = 0;
        for (let attempt = 1; attempt <= 60; attempt++) {
          const d = callbackDelay(seed, attempt);
          expect(d).toBeGreaterThan(0);
          expect(d).toBeLessThanOrEqual(HOUR);
          if (attempt === 1) expect(d).toBeLessThanOrEqual(2000);
          else expect(d).toBeLessThanOrEqual(prev * 2);
          prev = d;
        }
      }),
    );
  });

  it('grows exponentially before the cap and reaches about an hour', () => {
    const delays = Array.from({ length: 20 }, (_, i) => callbackDelay('msg_req_x_approved', i + 1));
    for (let i = 1; i < 12; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1] as number);
    expect(delays[19]).toBeGreaterThan(0.75 * HOUR);
  });

  it('keeps retrying for at least 24 hours before giving up', () => {
    expect(CALLBACK_RETRY_WINDOW_MS).toBeGreaterThanOrEqual(24 * HOUR);
    // The worker gives up only once 24 h passed since the row was queued; the schedule has
    // attempts all through that window (no gap longer than an hour).
    let t = 0;
    let attempts = 1;
    while (t < CALLBACK_RETRY_WINDOW_MS) t += callbackDelay('seed', attempts++);
    expect(attempts).toBeGreaterThan(24);
  });

  it('is deterministic per webhook-id (every process computes the same schedule) and jittered across ids', () => {
    expect(callbackDelay('msg_a', 5)).toBe(callbackDelay('msg_a', 5));
    const spread = new Set(Array.from({ length: 20 }, (_, i) => callbackDelay(`msg_${i}`, 5)));
    expect(spread.size).toBeGreaterThan(10);
  });
});
