import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, requestBody, sqlValue, startHarness } from '../support/harness.js';
import {
  dropStoreFor,
  schemaFor,
  storeEnvFor,
  TEST_DATABASE_URL,
  urlForSchema,
} from '../support/test-store.js';

/**
 * PostgreSQL going away under a running server (a restart, a failover): the API answers 503 with
 * Retry-After and records nothing of the refused call; once the database is back, it serves
 * again. The database is reached through a TCP relay this test cuts and restores.
 */
class Relay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async open(port = 0): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Refuses new connections and drops every open one, as a database going down does. */
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

let h: Harness;
let relay: Relay;
let dir: string;

beforeAll(async () => {
  const target = new URL(TEST_DATABASE_URL);
  relay = new Relay(target.hostname, Number(target.port || 5432));
  await relay.open();
  dir = mkdtempSync(join(tmpdir(), 'countersign-pgdown-'));
  await storeEnvFor(dir); // creates the schema
  const via = new URL(urlForSchema(schemaFor(dir)));
  via.host = `127.0.0.1:${relay.port}`;
  h = await startHarness({ dir, env: { DATABASE_URL: via.toString() } });
});
afterAll(async () => {
  await h?.stop({ keepDir: true });
  await relay.cut();
  rmSync(dir, { recursive: true, force: true });
  await dropStoreFor(dir);
});

describe('PostgreSQL unreachable', () => {
  it('answers 503 with Retry-After, writes nothing, and serves again once it is back', async () => {
    expect((await h.api.create(requestBody({ title: 'Before' }))).status).toBe(201);
    await relay.cut();
    const refused = await fetch(`${h.server.url}/api/v1/requests`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...h.api.headers('msg_while_down', JSON.stringify(requestBody({ title: 'While down' }))),
      },
      body: JSON.stringify(requestBody({ title: 'While down' })),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ error: 'unavailable' });

    await relay.open(relay.port);
    // The pipeline's retry, with the same webhook-id: created now, once.
    const retried = await h.api.create(requestBody({ title: 'While down' }), { id: 'msg_while_down' });
    expect(retried.status).toBe(201);
    expect(
      await sqlValue<number>(h.server, "SELECT count(*) FROM requests WHERE webhook_id = 'msg_while_down'"),
    ).toBe(1);
    expect(await sqlValue<number>(h.server, 'SELECT count(*) FROM requests')).toBe(2);
  });
});
