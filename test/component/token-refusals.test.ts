import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSALS_RECORDED_PER_MINUTE } from '../../src/http/refusal-audit.js';
import { auditData, type Harness, startHarness } from '../support/harness.js';
import { bearerCall } from '../support/oidc-api.js';
import { b64json, type LocalIssuer, startOidcIssuer } from '../support/oidc-issuer.js';

// Refused bearer tokens are audited, but they arrive before any authentication: a flood of them
// must not fill the permanent audit trail (nor queue on its chain), and no part of a refused token
// is stored at more than a bounded length.

let issuer: LocalIssuer;
let h: Harness;
let dir: string;
let clock = Date.now();
const audit = (type: string) => auditData(h.server, type);

beforeAll(async () => {
  issuer = await startOidcIssuer();
  await issuer.addKey('RS256');
  dir = mkdtempSync(join(tmpdir(), 'countersign-refusals-'));
  h = await startHarness({ dir, now: () => clock, env: { COUNTERSIGN_OIDC: `github=${issuer.url}` } });
});
afterAll(async () => {
  await h?.stop();
  await issuer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('refused bearer tokens in the audit trail', () => {
  it('records each refusal up to a rate, then counts the rest in one summary event', async () => {
    const flood = REFUSALS_RECORDED_PER_MINUTE + 15;
    for (let i = 0; i < flood; i++) {
      const res = await bearerCall(h.server.url, `junk${i}`, 'GET', '/api/v1/requests/req_x');
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid_token', reason: 'malformed' });
    }
    expect(await audit('api.token_refused')).toHaveLength(REFUSALS_RECORDED_PER_MINUTE);
    expect(await audit('api.token_refused_summary')).toHaveLength(0);

    // A minute later the next refusal first records what was counted, then itself.
    clock += 61_000;
    const next = await bearerCall(h.server.url, 'junk-after', 'GET', '/api/v1/requests/req_x');
    expect(next.status).toBe(401);
    const summary = await audit('api.token_refused_summary');
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({
      count: 15,
      reasons: { malformed: 15 },
      recorded_one_by_one_per_minute: REFUSALS_RECORDED_PER_MINUTE,
    });
    expect(Date.parse(String(summary[0]?.to))).toBeGreaterThanOrEqual(Date.parse(String(summary[0]?.from)));
    expect(await audit('api.token_refused')).toHaveLength(REFUSALS_RECORDED_PER_MINUTE + 1);
  });

  it('stores no more than a bounded part of what a refused token claims', async () => {
    clock += 61_000;
    const iss = 'x'.repeat(8_000);
    const forged = `${b64json({ alg: 'RS256', typ: 'JWT', kid: 'k' })}.${b64json({ iss, aud: 'countersign' })}.c2ln`;
    const res = await bearerCall(h.server.url, forged, 'GET', `/api/v1/requests/req_${'y'.repeat(1000)}`);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ reason: 'unknown_issuer' });
    const [event] = (await audit('api.token_refused')).slice(-1);
    expect(event?.reason).toBe('unknown_issuer');
    expect(String(event?.message).length).toBeLessThanOrEqual(500);
    expect(String(event?.path).length).toBeLessThanOrEqual(300);
    expect(event?.issuer).toBeNull(); // only a listed issuer is named
    // The issuer it was never asked about.
    expect(issuer.count()).toBe(0);
  });
});
