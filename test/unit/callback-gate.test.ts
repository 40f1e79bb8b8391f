import { describe, expect, it } from 'vitest';
import { CallbackGate, callbackLane, hostDelay, isCallbackLane } from '../../src/outbox/callback-gate.js';

const A = 'https://a.example/hook';
const B = 'https://b.example:8443/hook';

describe('callback lanes', () => {
  it('are one per client and receiver (host and port), and earlier rows in `callback` still count', () => {
    expect(callbackLane('ci', A)).toBe('callback:ci/a.example');
    expect(callbackLane('ci', B)).toBe('callback:ci/b.example:8443');
    expect(isCallbackLane(callbackLane('agent', A))).toBe(true);
    expect(isCallbackLane('callback')).toBe(true);
    expect(isCallbackLane('slack:C0APPROVALS')).toBe(false);
  });
});

describe('CallbackGate', () => {
  it('caps attempts in flight per receiver, per client and in all', () => {
    const gate = new CallbackGate({ total: 4, perClient: 3, perHost: 2 }, () => 0);
    const ciA = callbackLane('ci', A);
    const ciB = callbackLane('ci', B);
    const a1 = gate.acquire(ciA, A);
    expect(a1).not.toBeNull();
    expect(gate.acquire(ciA, A)).not.toBeNull();
    expect(gate.acquire(ciA, A)).toBeNull(); // host a.example is at 2
    expect(gate.blockedLanes()).toEqual([ciA]);
    expect(gate.acquire(ciB, B)).not.toBeNull();
    expect(gate.acquire(ciB, B)).toBeNull(); // client ci is at 3
    // Another client to the same receivers: the receiver cap holds, the client cap does not apply.
    expect(gate.acquire(callbackLane('agent', A), A)).toBeNull();
    expect(gate.acquire(callbackLane('agent', B), B)).not.toBeNull();
    expect(gate.acquire(callbackLane('agent', 'https://c.example/'), 'https://c.example/')).toBeNull(); // 4 in all
    expect(gate.full).toBe(true);
    gate.release(a1 as NonNullable<typeof a1>);
    expect(gate.full).toBe(false);
    expect(gate.blockedLanes()).not.toContain(ciA);
    expect(gate.acquire(ciA, A)).not.toBeNull();
  });

  it('backs a receiver off as a whole when it cannot be reached, then lets one probe through', () => {
    let now = 1_000_000;
    const gate = new CallbackGate({ perHost: 4 }, () => now);
    const lane = callbackLane('ci', A);
    const slots = [gate.acquire(lane, A), gate.acquire(lane, A), gate.acquire(lane, A)].map((s) => {
      if (!s) throw new Error('no slot');
      return s;
    });
    // The first failure pauses the host; the others, already in flight, add nothing.
    expect(gate.settle(slots[0] as never, 'unreachable')).toBe(hostDelay(1));
    expect(gate.settle(slots[1] as never, 'unreachable')).toBeNull();
    expect(gate.settle(slots[2] as never, 'unreachable')).toBeNull();
    for (const s of slots) gate.release(s);
    expect(gate.backingOff('a.example')).toBe(true);
    expect(gate.acquire(lane, A)).toBeNull();
    // Every lane to that host waits, whichever client.
    expect(gate.acquire(callbackLane('agent', A), A)).toBeNull();
    expect(gate.acquire(callbackLane('ci', B), B)).not.toBeNull();

    now += hostDelay(1);
    const probe = gate.acquire(lane, A);
    expect(probe).not.toBeNull();
    expect(gate.acquire(lane, A)).toBeNull(); // one probe at a time
    expect(gate.settle(probe as never, 'unreachable')).toBe(hostDelay(2));
    gate.release(probe as never);

    now += hostDelay(2);
    const again = gate.acquire(lane, A);
    expect(gate.settle(again as never, 'reached')).toBeNull();
    gate.release(again as never);
    expect(gate.backingOff('a.example')).toBe(false);
    expect([gate.acquire(lane, A), gate.acquire(lane, A)].every((s) => s !== null)).toBe(true);
  });

  it('pauses 1 s doubling to 5 minutes', () => {
    expect([1, 2, 3, 9, 10, 40].map(hostDelay)).toEqual([1000, 2000, 4000, 256_000, 300_000, 300_000]);
  });
});
