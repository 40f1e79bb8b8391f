import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '../../src/audit/open-readonly.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { type RunningServer, startServer } from '../../src/server.js';
import {
  ApiClient,
  CHANNEL,
  CI_SECRET,
  type Harness,
  PEOPLE,
  requestBody,
  SIGNING_SECRET,
  startHarness,
} from '../support/harness.js';
import { cardOf, click, submitDeny, waitFor } from '../support/slack-user.js';

interface Row {
  seq: number;
  type: string;
  request_id: string | null;
  actor: string;
  data: string;
  key_id: string | null;
  signature: string | null;
}

function auditRows(server: RunningServer, requestId?: string): (Row & { d: Record<string, unknown> })[] {
  const rows = (
    requestId
      ? server.database.sqlite
          .prepare('SELECT * FROM audit_events WHERE request_id = ? ORDER BY seq')
          .all(requestId)
      : server.database.sqlite.prepare('SELECT * FROM audit_events ORDER BY seq').all()
  ) as Row[];
  return rows.map((r) => ({ ...r, d: JSON.parse(r.data) as Record<string, unknown> }));
}

describe('the trail of a request through the real server', () => {
  let h: Harness;
  let hooks: Server;
  let hookUrl = '';
  beforeAll(async () => {
    h = await startHarness();
    hooks = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', () => r()));
    hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await h.stop();
    hooks.closeAllConnections();
    await new Promise<void>((r) => hooks.close(() => r()));
  });

  it('records creation, card, refusal, vote, decision and callback, each once, in order', async () => {
    const created = await h.api.create(requestBody({ callback_url: hookUrl }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await waitFor(() => cardOf(h, id), 'the card');
    await waitFor(() => auditRows(h.server, id).some((e) => e.type === 'card.posted'), 'card.posted');
    await click(h, PEOPLE.alice.id, id, 'approve'); // the requester: refused
    await waitFor(() => h.slack.ephemerals(PEOPLE.alice.id).length > 0, 'the refusal');
    await click(h, PEOPLE.bob.id, id, 'approve');
    await waitFor(
      () => auditRows(h.server, id).some((e) => e.type === 'callback.delivered'),
      'callback.delivered',
    );
    const trail = auditRows(h.server, id);
    expect(trail.map((e) => e.type)).toEqual([
      'request.created',
      'card.posted',
      'vote.refused',
      'vote.recorded',
      'request.approved',
      'attestation.issued',
      'callback.delivered',
    ]);
    const [createdEv, posted, refused, vote, approved, attested, delivered] = trail;
    // The attestation of the approval, in the same transaction; the event holds its hash, not the token.
    expect(attested).toMatchObject({ actor: 'system', signature: null });
    expect(attested?.d).toMatchObject({ key_id: h.server.audit.keyId, approvers: [PEOPLE.bob.id] });
    expect(createdEv).toMatchObject({ actor: 'client:ci', signature: null });
    expect(createdEv?.d).toMatchObject({
      client: 'ci',
      requester: { slack_user_id: PEOPLE.alice.id },
      payload_sha256: created.body.payload_sha256,
      created_at: created.body.created_at,
      expires_at: created.body.expires_at,
    });
    expect(posted?.d).toMatchObject({ channel: CHANNEL, ts: cardOf(h, id)?.ts });
    expect(refused).toMatchObject({ actor: PEOPLE.alice.id, signature: null });
    expect(refused?.d).toMatchObject({ refusal: 'requester', decision: 'approve' });
    expect(vote).toMatchObject({ actor: PEOPLE.bob.id, key_id: h.server.audit.keyId });
    expect(vote?.signature).not.toBeNull();
    expect(vote?.d.user).toEqual({
      id: PEOPLE.bob.id,
      team_id: 'T0FAKE',
      enterprise_id: null,
      name: PEOPLE.bob.name,
    });
    expect(delivered?.d).toMatchObject({ url: hookUrl, status: 204, attempts: 1 });

    // The decision record auditors ask for.
    const final = (await h.api.request(id)).body;
    expect(approved).toMatchObject({ actor: PEOPLE.bob.id, key_id: h.server.audit.keyId });
    expect(approved?.signature).not.toBeNull();
    expect(approved?.d).toEqual({
      client: 'ci',
      requester: { slack_user_id: PEOPLE.alice.id, name: 'Alice Asker' },
      requester_slack_id: PEOPLE.alice.id,
      action: 'db.export',
      title: 'Export the customers table to the analytics bucket',
      payload_sha256: created.body.payload_sha256,
      approvers: [{ source: 'policy', users: [], groups: [] }],
      min_approvals: 1,
      threshold_met: '1 of 1 approvals',
      votes: [
        {
          user_id: PEOPLE.bob.id,
          team_id: 'T0FAKE',
          enterprise_id: null,
          name: PEOPLE.bob.name,
          decision: 'approve',
          reason: null,
          at: (final.votes as { at: string }[])[0]?.at,
        },
      ],
      reason: null,
      policy_rule: null,
      policy_hash: null,
      created_at: final.created_at,
      decided_at: final.decided_at,
      expires_at: final.expires_at,
    });
  });

  it('records a denial with its reason and a cancellation, both signed, and the log verifies while serving', async () => {
    const denied = (await h.api.create(requestBody())).body.id as string;
    await waitFor(() => cardOf(h, denied), 'the card');
    await submitDeny(h, PEOPLE.carol.id, denied, 'not during the freeze');
    await waitFor(async () => (await h.api.request(denied)).body.status === 'denied', 'the denial');
    const cancelled = (await h.api.create(requestBody())).body.id as string;
    expect((await h.api.cancel(cancelled, 'superseded')).status).toBe(200);

    const denial = auditRows(h.server, denied).find((e) => e.type === 'request.denied');
    expect(denial?.d).toMatchObject({
      threshold_met: 'one deny denies',
      reason: 'not during the freeze',
      votes: [
        expect.objectContaining({ user_id: PEOPLE.carol.id, decision: 'deny', name: PEOPLE.carol.name }),
      ],
    });
    expect(denial?.signature).not.toBeNull();
    const cancel = auditRows(h.server, cancelled).find((e) => e.type === 'request.cancelled');
    expect(cancel).toMatchObject({ actor: 'client:ci' });
    expect(cancel?.d).toMatchObject({ threshold_met: 'cancelled', reason: 'superseded' });
    expect(cancel?.signature).not.toBeNull();

    const result = await verifyAuditFile(h.env.DATABASE_PATH as string);
    expect(result).toMatchObject({ ok: true, summary: { keys: 1 } });
  });
});

describe('checkpoints', () => {
  const AUDIT_CHANNEL = 'C0AUDIT';
  let slack: SlackEmulator;
  let dir: string;
  let server: RunningServer | null = null;
  beforeAll(async () => {
    slack = await new SlackEmulator().start();
    for (const p of Object.values(PEOPLE)) slack.addUser(p);
    dir = mkdtempSync(join(tmpdir(), 'countersign-audit-cp-'));
  });
  afterEach(async () => {
    await server?.stop({ drainMs: 200 });
    server = null;
  });
  afterAll(async () => {
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(intervalMs: number): Promise<RunningServer> {
    const config = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_PATH: join(dir, 'countersign.db'),
      COUNTERSIGN_CLIENTS: `ci=${CI_SECRET}`,
      COUNTERSIGN_DEFAULT_CHANNEL: CHANNEL,
      COUNTERSIGN_AUDIT_CHANNEL: AUDIT_CHANNEL,
      EXPIRY_CRON: '0 0 1 1 *',
    });
    server = await startServer(config, {
      log: createLogger('error', () => {}),
      outboxPollMs: 50,
      checkpointIntervalMs: intervalMs,
    });
    return server;
  }

  const posted = () =>
    slack.cards(AUDIT_CHANNEL).map((m) => {
      const match =
        /^Audit checkpoint #(\d+): head ([0-9a-f]{64}) at (\S+) \(key ([0-9a-f]{16}), signature (\S+)\)$/.exec(
          m.text,
        );
      if (!match) throw new Error(`unexpected checkpoint message: ${m.text}`);
      return { seq: Number(match[1]), hash: match[2] as string, keyId: match[4], signature: match[5] };
    });

  it('are signed, stored, posted to the audit channel, and taken only after new events', async () => {
    const s = await start(100);
    const api = new ApiClient(s.url, CI_SECRET);
    const id = (await api.create(requestBody())).body.id as string;
    const first = await waitFor(() => posted()[0], 'a checkpoint in the audit channel');
    const row = s.database.sqlite.prepare('SELECT * FROM audit_checkpoints ORDER BY id LIMIT 1').get() as {
      seq: number;
      head_hash: string;
      key_id: string;
      signature: string;
    };
    expect(first).toEqual({ seq: row.seq, hash: row.head_hash, keyId: row.key_id, signature: row.signature });
    const event = s.database.sqlite.prepare('SELECT * FROM audit_events WHERE seq = ?').get(row.seq) as Row;
    expect(event).toMatchObject({ type: 'audit.checkpoint', signature: row.signature });
    expect(JSON.parse(event.data)).toMatchObject({ reason: 'periodic' });

    // The posted copy is an outside checkpoint the CLI takes as --checkpoint.
    expect(await verifyAuditFile(join(dir, 'countersign.db'), { checkpoint: first })).toMatchObject({
      ok: true,
      summary: { outsideCheckpoint: true },
    });

    // Once a checkpoint covers the head (card.posted included), idle ticks add nothing.
    await waitFor(
      () =>
        s.database.sqlite
          .prepare("SELECT 1 FROM audit_events WHERE type = 'card.posted' AND request_id = ?")
          .get(id),
      'card.posted',
    );
    const covered = () =>
      s.database.sqlite
        .prepare('SELECT (SELECT max(seq) FROM audit_checkpoints) = (SELECT max(seq) FROM audit_events)')
        .pluck()
        .get() === 1;
    await waitFor(covered, 'a checkpoint covering the head');
    const count = () =>
      s.database.sqlite.prepare('SELECT count(*) FROM audit_checkpoints').pluck().get() as number;
    const settled = count();
    await new Promise((r) => setTimeout(r, 450));
    expect(count()).toBe(settled);
    await waitFor(() => posted().length === settled, 'every checkpoint posted');
  });

  it('a final one is taken and posted on shutdown, covering the whole log', async () => {
    const s = await start(60 * 60 * 1000);
    const before = posted().length;
    const api = new ApiClient(s.url, CI_SECRET);
    const id = (await api.create(requestBody())).body.id as string;
    await waitFor(() => cardOf({ slack } as Harness, id), 'the card');
    await s.stop({ drainMs: 1000 });
    server = null;
    const after = posted();
    expect(after).toHaveLength(before + 1);
    const result = await verifyAuditFile(join(dir, 'countersign.db'));
    if (!result.ok) throw new Error(JSON.stringify(result.problem));
    expect(after.at(-1)).toMatchObject({ seq: result.summary.head.seq, hash: result.summary.head.hash });
  });
});

describe('key rotation across restarts', () => {
  it('registers the new key, keeps the old one, and the whole log still verifies', async () => {
    const slack = await new SlackEmulator().start();
    for (const p of Object.values(PEOPLE)) slack.addUser(p);
    const dir = mkdtempSync(join(tmpdir(), 'countersign-audit-rot-'));
    try {
      const approve = async (h: Harness) => {
        const id = (await h.api.create(requestBody())).body.id as string;
        await waitFor(() => cardOf(h, id), 'the card');
        await click(h, PEOPLE.bob.id, id, 'approve');
        await waitFor(async () => (await h.api.request(id)).body.status === 'approved', 'approval');
      };
      const h1 = await startHarness({ slack, dir });
      const keyA = h1.server.audit.keyId;
      await approve(h1);
      await h1.stop({ keepSlack: true, keepDir: true });

      const pemB = generateKeyPairSync('ed25519')
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      const h2 = await startHarness({ slack, dir, env: { AUDIT_SIGNING_KEY: pemB } });
      const keyB = h2.server.audit.keyId;
      expect(keyB).not.toBe(keyA);
      await approve(h2);
      const registered = auditRows(h2.server).filter((e) => e.type === 'audit.key_registered');
      expect(registered.map((e) => e.d.key_id)).toEqual([keyA, keyB]);
      expect(registered[1]?.d).toMatchObject({ previous_key_id: keyA, source: 'AUDIT_SIGNING_KEY' });
      const approvals = auditRows(h2.server).filter((e) => e.type === 'request.approved');
      expect(approvals.map((e) => e.key_id)).toEqual([keyA, keyB]);
      await h2.stop({ keepSlack: true, keepDir: true });

      const result = await verifyAuditFile(join(dir, 'countersign.db'));
      expect(result).toMatchObject({ ok: true, summary: { keys: 2 } });
    } finally {
      await slack.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
