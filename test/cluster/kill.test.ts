import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '../../src/audit/open-readonly.js';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { type Captured, spawnCaptured } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import {
  ApiClient,
  CHANNEL,
  CI_SECRET,
  type Harness,
  requestBody,
  SIGNING_SECRET,
  seedWorkspace,
  sendToSlackEndpoint,
} from '../support/harness.js';
import { cardOf, click, waitFor } from '../support/slack-user.js';
import { dropStoreFor, storeEnvFor, storeRefFor } from '../support/test-store.js';

/**
 * The cluster test of CONTRACT §9: three server processes on one PostgreSQL database behind the
 * round-robin balancer of examples/replicas, requests and clicks spread over them, one replica
 * killed with SIGKILL in the middle of intake and fan-out (Slack rate-limits the channel, so
 * cards are still being posted). Afterwards every accepted request has exactly one card, every
 * vote is counted once, every callback is delivered, the audit chain verifies and nothing is left
 * pending. Runs in the `postgres` project only; needs `npm run build` (npm test builds first).
 */
const MAIN = join(import.meta.dirname, '../../dist/src/main.js');
const PROXY = join(import.meta.dirname, '../../examples/replicas/proxy.mjs');
const REQUESTS = 36;

let slack: SlackEmulator;
let rx: CallbackReceiver;
let dir: string;
let proxy: { url: string; close(): Promise<void> };
const replicas: { proc: Captured; url: string }[] = [];

async function healthy(url: string): Promise<boolean> {
  return (
    (await fetch(`${url}/healthz`).then(
      (r) => r.status,
      () => 0,
    )) === 200
  );
}

beforeAll(async () => {
  slack = await new SlackEmulator().start();
  seedWorkspace(slack);
  slack.postsPerSecondPerChannel = 15;
  rx = await new CallbackReceiver().start();
  dir = mkdtempSync(join(tmpdir(), 'countersign-cluster-'));
  const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const store = await storeEnvFor(dir);
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const proc = spawnCaptured(process.execPath, [MAIN], {
      cwd: tmpdir(),
      env: {
        PATH: process.env.PATH ?? '',
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: store.DATABASE_URL as string,
        AUDIT_SIGNING_KEY: key,
        COUNTERSIGN_CLIENTS: `ci=${CI_SECRET}`,
        COUNTERSIGN_DEFAULT_CHANNEL: CHANNEL,
        COUNTERSIGN_CALLBACK_ALLOW: 'http://127.0.0.1',
        LOG_LEVEL: 'error',
      },
    });
    replicas.push({ proc, url: `http://127.0.0.1:${port}` });
  }
  for (const r of replicas)
    await waitFor(() => healthy(r.url), `replica ${r.url} to start`, 40_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${r.proc.out()}${r.proc.err()}`);
    });
  const { startProxy } = (await import(PROXY)) as {
    startProxy(port: number, upstreams: string[]): Promise<{ url: string; close(): Promise<void> }>;
  };
  proxy = await startProxy(
    0,
    replicas.map((r) => r.url),
  );
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  for (const r of replicas) {
    if (r.proc.child.exitCode === null && r.proc.child.signalCode === null) r.proc.child.kill('SIGTERM');
    await r.proc.done;
  }
  await rx.stop();
  await slack.stop();
  rmSync(dir, { recursive: true, force: true });
  await dropStoreFor(dir);
}, 60_000);

describe('three replicas, one killed mid-flight', () => {
  it('loses nothing: one card each, votes counted once, callbacks delivered, one chain', async () => {
    const api = new ApiClient(proxy.url, CI_SECRET);
    // Clicks reach "Slack's request URL": the balancer.
    const viaProxy = {
      slack,
      deliver: (_type: string, body: Record<string, unknown>) =>
        sendToSlackEndpoint(proxy.url, { payload: JSON.stringify(body) }),
    } as unknown as Harness;
    /** Creates through the balancer, retrying with the same webhook-id as a pipeline would. */
    const create = async (i: number): Promise<string> => {
      const id = `msg_cluster_${i}`;
      const body = requestBody({ title: `Cluster ${i}`, callback_url: rx.hook });
      for (;;) {
        const res = await api.create(body, { id }).catch(() => null);
        if (res && (res.status === 201 || res.status === 200)) return res.body.id as string;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const vote = async (id: string) => {
      for (;;) {
        const res = await click(viaProxy, 'UBOB', id, 'approve').catch(() => null);
        if (res?.status === 200) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    const ids: string[] = [];
    const first = await Promise.all(Array.from({ length: REQUESTS / 2 }, (_, i) => create(i)));
    ids.push(...first);
    // Cards are being posted (15 a second): kill a replica now, in the middle of intake and fan-out.
    const victim = replicas[0] as { proc: Captured };
    const more = Promise.all(Array.from({ length: REQUESTS / 2 }, (_, i) => create(REQUESTS / 2 + i)));
    victim.proc.child.kill('SIGKILL');
    ids.push(...(await more));
    expect(new Set(ids).size).toBe(REQUESTS);

    // Within the lease (15 s) the survivors take over what the dead replica had claimed.
    await waitFor(() => ids.every((id) => cardOf(viaProxy, id)), 'a card for every request', 45_000);
    await Promise.all(ids.map(vote));
    await waitFor(
      async () => {
        const all = await Promise.all(ids.map((id) => api.request(id).catch(() => null)));
        return all.every((r) => r?.body.status === 'approved');
      },
      'every request approved',
      30_000,
    ).catch(async (err) => {
      const all = await Promise.all(ids.map((id) => api.request(id).catch(() => null)));
      console.error(
        all.map((r) => `${r?.status} ${r?.body.status} ${JSON.stringify(r?.body.votes)}`).join('\n'),
      );
      console.error(
        slack
          .ephemerals()
          .map((c) => String(c.args.text))
          .join('\n'),
      );
      console.error(
        replicas
          .map((r) => r.proc.err())
          .join('\n----\n')
          .slice(-3000),
      );
      throw err;
    });
    await waitFor(
      () => new Set(rx.deliveries.map((d) => d.headers['webhook-id'])).size >= REQUESTS,
      'every callback',
      45_000,
    );

    for (const id of ids) {
      expect(slack.cards(CHANNEL).filter((m) => JSON.stringify(m.blocks ?? []).includes(id))).toHaveLength(1);
      const r = await api.request(id);
      expect(r.body.status).toBe('approved');
      expect(r.body.votes).toHaveLength(1);
    }
    const hooks = new Set(rx.deliveries.map((d) => d.headers['webhook-id']));
    expect(ids.every((id) => hooks.has(`msg_${id}_approved`))).toBe(true);
    // Nothing left behind: no request pending, no outbox row undelivered (nor given up).
    const db = new pg.Client({ connectionString: storeRefFor(dir) });
    await db.connect();
    try {
      const left = async () =>
        (
          await db.query<{ pending: string; open: string; failed: string }>(
            "SELECT (SELECT count(*) FROM requests WHERE status = 'pending') AS pending, (SELECT count(*) FROM outbox WHERE done_at IS NULL AND gave_up_at IS NULL) AS open, (SELECT count(*) FROM outbox WHERE gave_up_at IS NOT NULL) AS failed",
          )
        ).rows[0];
      await waitFor(async () => (await left())?.open === '0', 'the outbox to drain', 30_000);
      expect(await left()).toEqual({ pending: '0', open: '0', failed: '0' });
    } finally {
      await db.end();
    }
    const result = await verifyAuditFile(storeRefFor(dir));
    if (!result.ok) throw new Error(JSON.stringify(result.problem));
    expect(result.summary.events).toBeGreaterThan(REQUESTS * 4);
  }, 180_000);
});
