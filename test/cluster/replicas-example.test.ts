import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { type Captured, spawnCaptured } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import {
  ApiClient,
  CHANNEL,
  CI_SECRET,
  type Harness,
  PEOPLE,
  requestBody,
  SIGNING_SECRET,
  seedWorkspace,
  sendToSlackEndpoint,
} from '../support/harness.js';
import { cardOf, click, waitFor } from '../support/slack-user.js';
import { dropStoreFor, storeEnvFor } from '../support/test-store.js';

/**
 * examples/replicas/run.sh as a reader would run it: three replicas of the built server on one
 * PostgreSQL schema and the round-robin balancer in front, every call through the balancer, then
 * SIGTERM to the script stops all four processes. Runs in the `postgres` project only; needs
 * `npm run build` (npm test builds first).
 */
const RUN = join(import.meta.dirname, '../../examples/replicas/run.sh');

const status = (url: string) =>
  fetch(url).then(
    (r) => r.status,
    () => 0,
  );

let slack: SlackEmulator | undefined;
let script: Captured | undefined;
const dir = mkdtempSync(join(tmpdir(), 'countersign-replicas-example-'));
afterAll(async () => {
  if (script && script.child.exitCode === null && script.child.signalCode === null) {
    script.child.kill('SIGTERM');
    await script.done;
  }
  await slack?.stop();
  rmSync(dir, { recursive: true, force: true });
  await dropStoreFor(dir);
}, 60_000);

describe('examples/replicas/run.sh', () => {
  it('serves the contract through its balancer from three replicas, and stops them all on SIGTERM', async () => {
    slack = await new SlackEmulator().start();
    seedWorkspace(slack);
    const store = await storeEnvFor(dir);
    const ports = await Promise.all([0, 1, 2, 3].map(() => freePort()));
    const [balancer, ...replicaPorts] = ports;
    const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    script = spawnCaptured('bash', [RUN], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: store.DATABASE_URL as string,
        AUDIT_SIGNING_KEY: key,
        PORT: String(balancer),
        REPLICA_PORTS: replicaPorts.join(' '),
        HOST: '127.0.0.1',
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.url,
        COUNTERSIGN_CLIENTS: `ci=${CI_SECRET}`,
        COUNTERSIGN_DEFAULT_CHANNEL: CHANNEL,
        LOG_LEVEL: 'error',
      },
    });
    const base = `http://127.0.0.1:${balancer}`;
    const running = script;
    await waitFor(
      async () => (await status(`${base}/healthz`)) === 200 && running.child.exitCode === null,
      'the balancer',
      40_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${running.out()}${running.err()}`);
    });
    for (const port of replicaPorts)
      await waitFor(
        async () => (await status(`http://127.0.0.1:${port}/healthz`)) === 200,
        `replica ${port}`,
        40_000,
      );

    // A pipeline and Slack reach only the balancer.
    const api = new ApiClient(base, CI_SECRET);
    const viaBalancer = {
      slack,
      deliver: (_type: string, body: Record<string, unknown>) =>
        sendToSlackEndpoint(base, { payload: JSON.stringify(body) }),
    } as unknown as Harness;
    const created = await api.create(requestBody({ title: 'Through the example balancer' }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await waitFor(() => cardOf(viaBalancer, id), 'the card', 20_000);
    const poll = api.request(id, 20);
    expect((await click(viaBalancer, PEOPLE.bob.id, id, 'approve')).status).toBe(200);
    expect((await poll).body.status).toBe('approved');
    // Each of the three replicas answers for the same request.
    for (const port of replicaPorts) {
      const r = await new ApiClient(`http://127.0.0.1:${port}`, CI_SECRET).request(id);
      expect(r.body.status).toBe('approved');
    }

    running.child.kill('SIGTERM');
    const { code } = await running.done;
    expect(code, running.err()).toBe(0);
    for (const port of ports) expect(await status(`http://127.0.0.1:${port}/healthz`)).toBe(0);
  }, 90_000);
});
