import { describe, expect, it } from 'vitest';
import { WebhookIdUses } from '../../src/http/webhook-id-uses.js';

const T0 = 1_800_000_000_000;
const S = 1000;

describe('WebhookIdUses: one webhook-id, one call, for 300 s', () => {
  it('refuses the id for another method or target, lets the same call and other clients through', () => {
    const uses = new WebhookIdUses();
    expect(uses.claim('ci', 'msg_1', 'POST /api/v1/requests/req_A/cancel', T0)).toBe(true);
    expect(uses.claim('ci', 'msg_1', 'POST /api/v1/requests/req_A/cancel', T0 + S)).toBe(true);
    expect(uses.claim('ci', 'msg_1', 'POST /api/v1/requests/req_B/cancel', T0 + S)).toBe(false);
    expect(uses.claim('ci', 'msg_1', 'POST /api/v1/requests/req_A/consume', T0 + S)).toBe(false);
    expect(uses.claim('ci', 'msg_1', 'GET /api/v1/requests/req_A/cancel', T0 + S)).toBe(false);
    expect(uses.claim('agent', 'msg_1', 'POST /api/v1/requests/req_B/cancel', T0 + S)).toBe(true);
  });

  it('holds an id for 300 s after its last use, then lets it go', () => {
    const uses = new WebhookIdUses();
    uses.claim('ci', 'msg_1', 'GET /a', T0);
    uses.claim('ci', 'msg_1', 'GET /a', T0 + 200 * S);
    expect(uses.claim('ci', 'msg_1', 'GET /b', T0 + 500 * S)).toBe(false);
    expect(uses.claim('ci', 'msg_1', 'GET /b', T0 + 501 * S)).toBe(true);
    expect(uses.claim('ci', 'msg_1', 'GET /a', T0 + 502 * S)).toBe(false);
  });

  it('holds an id signed ahead of the server clock until its signature is stale', () => {
    const uses = new WebhookIdUses();
    // Signed 300 s ahead: the signature stays fresh until T0 + 600 s.
    uses.claim('ci', 'msg_1', 'GET /a', T0, T0 + 300 * S);
    expect(uses.claim('ci', 'msg_1', 'GET /b', T0 + 599 * S)).toBe(false);
    expect(uses.claim('ci', 'msg_1', 'GET /b', T0 + 601 * S)).toBe(true);
  });

  it('forgets expired ids and stays within its capacity', () => {
    const uses = new WebhookIdUses(100);
    for (let i = 0; i < 1000; i++) uses.claim('ci', `msg_${i}`, 'GET /a', T0);
    expect(uses.size).toBe(100);
    uses.claim('ci', 'late', 'GET /a', T0 + 301 * S);
    expect(uses.size).toBe(1);
  });

  it('keeps an id retried more often than its capacity, while its older uses leave the ring', () => {
    const uses = new WebhookIdUses(3);
    for (let i = 0; i < 10; i++) expect(uses.claim('ci', 'msg_1', 'GET /a', T0 + i * S)).toBe(true);
    expect(uses.size).toBe(1);
    expect(uses.claim('ci', 'msg_1', 'GET /b', T0 + 10 * S)).toBe(false);
    // Other ids push it out only once it is the oldest use left.
    uses.claim('ci', 'msg_2', 'GET /a', T0 + 11 * S);
    uses.claim('ci', 'msg_3', 'GET /a', T0 + 11 * S);
    expect(uses.claim('ci', 'msg_1', 'GET /b', T0 + 11 * S)).toBe(false);
    uses.claim('ci', 'msg_4', 'GET /a', T0 + 11 * S);
    expect(uses.size).toBe(3);
    expect(uses.claim('ci', 'msg_1', 'GET /b', T0 + 12 * S)).toBe(true);
  });
});
