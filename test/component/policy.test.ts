import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestObject } from '../../src/core/request-object.js';
import { type Harness, PEOPLE, requestBody, sqlRows, startHarness } from '../support/harness.js';
import { buttonsOf, cardOf, click, waitFor } from '../support/slack-user.js';

const POLICY = `version: 1
defaults:
  min_approvals: 1
rules:
  - name: no-prod-drop
    match: { action: "db.drop*", environment: production }
    outcome: deny
  - name: prod-db-export
    match: { action: "db.export*", environment: production }
    channel: C0PRODDATA1
    approvers: { groups: [S0DBA000001] }
    min_approvals: 2
    max_ttl_seconds: 3600
  - name: staging-deploy
    match: { action: "deploy.*", environment: staging, risk: low }
    outcome: auto_approve
    channel: C0DEPLOYS01
`;

let h: Harness;
let policyPath: string;
const received: { headers: Record<string, unknown>; body: string }[] = [];
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    received.push({ headers: req.headers, body });
    res.writeHead(204).end();
  });
});

beforeAll(async () => {
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const dir = mkdtempSync(join(tmpdir(), 'countersign-policy-'));
  policyPath = join(dir, 'policy.yml');
  writeFileSync(policyPath, POLICY);
  h = await startHarness({ dir, env: { COUNTERSIGN_POLICY: policyPath } });
  h.slack.groups.set('S0DBA000001', [PEOPLE.dave.id, PEOPLE.carol.id]);
});
afterAll(async () => {
  await h.stop();
  receiver.close();
});

const status = async (id: string) => (await h.api.request(id)).body as unknown as RequestObject;

describe('policy outcomes through the real server', () => {
  it('sends a production db.export to the rule’s channel, needing two approvers from its group', async () => {
    const res = await h.api.create(
      requestBody({ action: 'db.export', environment: 'production', min_approvals: 1, ttl_seconds: 86_400 }),
    );
    expect(res.status).toBe(201);
    const body = res.body as unknown as RequestObject;
    expect(body).toMatchObject({
      min_approvals: 2,
      policy: { rule: 'prod-db-export', hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(Date.parse(body.expires_at) - Date.parse(body.created_at)).toBe(3_600_000);
    const card = await waitFor(() => cardOf(h, body.id), 'the card');
    expect(card.channel).toBe('C0PRODDATA1');
    expect(JSON.stringify(card.blocks)).toContain('prod-db-export');

    await click(h, PEOPLE.bob.id, body.id, 'approve');
    await waitFor(() => h.slack.ephemerals(PEOPLE.bob.id).length > 0, 'bob refused: not in the DBA group');
    await click(h, PEOPLE.dave.id, body.id, 'approve');
    await waitFor(async () => (await status(body.id)).votes.length === 1, 'dave’s vote');
    expect((await status(body.id)).status).toBe('pending');
    await click(h, PEOPLE.carol.id, body.id, 'approve');
    await waitFor(async () => (await status(body.id)).status === 'approved', 'approval by two DBAs');
  });

  it('approves a low-risk staging deploy at once, shows it without buttons and tells the pipeline', async () => {
    const res = await h.api.create(
      requestBody({
        action: 'deploy.web',
        environment: 'staging',
        risk: 'low',
        callback_url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      }),
    );
    expect(res.status).toBe(201);
    const body = res.body as unknown as RequestObject;
    expect(body).toMatchObject({
      status: 'approved',
      decided_by: 'policy',
      policy: { rule: 'staging-deploy' },
    });
    const card = await waitFor(() => cardOf(h, body.id), 'the card');
    expect(card.channel).toBe('C0DEPLOYS01');
    expect(buttonsOf(card.blocks)).toEqual([]);
    expect(JSON.stringify(card.blocks)).toMatch(/staging-deploy/);
    const hook = await waitFor(() => received.find((r) => r.body.includes(body.id)), 'the callback');
    expect(JSON.parse(hook.body)).toMatchObject({
      type: 'request.approved',
      data: { id: body.id, status: 'approved' },
    });
  });

  it('refuses a denied action at intake with a 403 naming the rule, and records it', async () => {
    const res = await h.api.create(requestBody({ action: 'db.drop_table', environment: 'production' }));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'denied_by_policy', rule: 'no-prod-drop' });
    const [row] = await sqlRows<{ data: string }>(
      h.server,
      "SELECT data FROM audit_events WHERE type = 'request.refused_by_policy' ORDER BY seq DESC LIMIT 1",
    );
    if (!row) throw new Error('no refusal recorded');
    expect(JSON.parse(row.data)).toMatchObject({ rule: 'no-prod-drop', action: 'db.drop_table' });
  });

  it('applies the defaults when no rule matches', async () => {
    const res = await h.api.create(requestBody({ action: 'iam.role.attach', environment: 'production' }));
    expect(res.body).toMatchObject({ min_approvals: 1, policy: { rule: null } });
    const card = await waitFor(() => cardOf(h, res.body.id as string), 'the card');
    expect(card.channel).toBe('C0APPROVALS');
  });

  it('reloads the file; a bad file is refused and the old policy stays', async () => {
    writeFileSync(policyPath, 'version: 1\nrules:\n  - name: broken\n    min_approvals: eleven\n');
    const errors = await h.server.reloadPolicy();
    expect(errors.join('\n')).toMatch(/policy\.yml:\d+: /);
    const still = await h.api.create(requestBody({ action: 'db.drop_table', environment: 'production' }));
    expect(still.status).toBe(403);

    writeFileSync(policyPath, `${POLICY.replace('outcome: deny', 'outcome: review')}`);
    expect(await h.server.reloadPolicy()).toEqual([]);
    const now = await h.api.create(requestBody({ action: 'db.drop_table', environment: 'production' }));
    expect(now.status).toBe(201);
    expect(now.body).toMatchObject({ policy: { rule: 'no-prod-drop' } });
  });
});
