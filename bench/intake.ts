import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Child } from './lib/child.js';
import { approveClick } from './lib/click.js';
import { PEOPLE, serverEnv } from './lib/env.js';
import { call, type LoadResult, mergeLoads, runLoad, signedHeaders } from './lib/load.js';
import { type LatencySummary, Samples, sleep } from './lib/stats.js';

export interface IntakeConfig {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Pause between two Approve clicks (one click at a time). */
  clickEveryMs: number;
}

export interface ClickFigures {
  latency: LatencySummary;
  /**
   * From sending the click until a `GET ?wait=30` on the same request, opened just before the
   * click, returns with the outcome (what a waiting pipeline sees).
   */
  outcome: LatencySummary;
  outcomeErrors: number;
  errors: number;
  firstError: string | null;
  /** Of the clicked requests, how many were approved shortly after the run (the vote went through). */
  approved: number;
  checked: number;
}

/** PostgreSQL instead of SQLite: the server's URL (a fresh schema is made in it) and how many replicas. */
export interface IntakeStore {
  url: string;
  replicas: number;
}

export interface IntakeFigures {
  baseline: LoadResult;
  countersign: LoadResult;
  /** CPU time (user + system, all threads) each server process spent per request it answered. */
  cpuPerRequestUs: { baseline: number; countersign: number };
  clicks: ClickFigures;
  server: Record<string, number>;
  /** The server's highest RSS, sampled every 250 ms from the start of the load to its end. */
  rssPeakBytes: number;
}

const APPROVERS = [PEOPLE.bob.id, PEOPLE.carol.id, PEOPLE.dave.id];

/** GET the request (long-polling `wait` seconds when given) and read its status. */
async function statusOf(base: URL, agent: Agent, id: string, wait = 0): Promise<string | null> {
  const path = `/api/v1/requests/${id}${wait > 0 ? `?wait=${wait}` : ''}`;
  // One webhook-id per call: the server refuses an id reused for another target (the ?wait and the
  // plain GET of one request are two calls).
  const headers = signedHeaders(`msg_bench_get_${id}_${wait}`, path);
  delete headers['content-type'];
  delete headers['content-length'];
  const res = await call(base, { method: 'GET', path, headers, agent });
  return /"status":"([a-z]+)"/.exec(res.body)?.[1] ?? null;
}

/** Approve clicks, one at a time, on the newest request, while `busy()`; measured only while `measuring()`. */
class Clicker {
  readonly samples = new Samples();
  readonly outcome = new Samples();
  outcomeErrors = 0;
  readonly clicked: string[] = [];
  /** The long polls (one per click) wait on their own connections. */
  private readonly waitAgent = new Agent({ keepAlive: true, maxSockets: 4 });
  errors = 0;
  firstError: string | null = null;
  /** Ids created in the measured window, newest last. */
  readonly fresh: string[] = [];
  private n = 0;

  constructor(
    private readonly base: URL,
    private readonly agent: Agent,
    private readonly everyMs: number,
  ) {}

  async run(busy: () => boolean, measuring: () => boolean): Promise<void> {
    while (busy()) {
      await sleep(this.everyMs);
      const id = this.fresh.pop();
      if (!measuring() || id === undefined || !busy()) continue;
      this.fresh.length = 0; // always the newest request: created a moment ago
      const user = APPROVERS[this.n++ % APPROVERS.length] ?? '';
      let answeredAt = 0;
      const outcome = statusOf(this.base, this.waitAgent, id, 30).then((status) => {
        answeredAt = performance.now();
        return status;
      });
      const sentAt = performance.now();
      const res = await approveClick(this.base, this.agent, user, id);
      const status = await outcome;
      if (!busy()) break; // answered after the window: not counted
      this.samples.add(res.ms);
      if (status === 'approved') this.outcome.add(answeredAt - sentAt);
      else this.outcomeErrors++;
      this.clicked.push(id);
      if (res.status !== 200) {
        this.errors++;
        this.firstError ??= `${res.status} ${res.body.slice(0, 300)}`;
      }
    }
    this.waitAgent.destroy();
  }
}

/**
 * The bare baseline, then Countersign (server and fake Slack each in a child process) with Approve
 * clicks alongside, then the baseline again: the baseline's figure is its two half windows together,
 * taken on either side of Countersign's, so a drift of this VM's speed (tens of percent between
 * minutes) weighs on both alike. Nothing else runs during a window: the baseline idles while
 * Countersign is loaded, and Countersign (whose outbox would go on posting cards) is stopped before
 * the second baseline window.
 */
export async function benchIntake(cfg: IntakeConfig, pgStore?: IntakeStore): Promise<IntakeFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-intake-'));
  const children: Child[] = [];
  const schema = pgStore ? `cs_bench_${randomBytes(6).toString('hex')}` : null;
  let proxy: { url: string; close(): Promise<void> } | null = null;
  try {
    const baseline = await Child.start('../baseline-child.js', {
      name: 'baseline',
      env: { DATABASE_PATH: join(dir, 'baseline.db') },
    });
    children.push(baseline);
    const baseSamples = new Samples();
    const half = { concurrency: cfg.concurrency, durationMs: cfg.durationMs / 2, samples: baseSamples };
    const baseCpu0 = (await baseline.stats()).cpuUs ?? Number.NaN;
    const before = await runLoad({ base: baseline.url, ...half, warmupMs: cfg.warmupMs });

    const slack = await Child.start('../slack-child.js', { name: 'fake slack' });
    children.push(slack);
    const servers: Child[] = [];
    let url: string;
    if (pgStore && schema) {
      // Replicas of one product: the same database and signing key, behind the example balancer.
      const key = generateKeyPairSync('ed25519')
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      const env = {
        ...serverEnv(join(dir, 'countersign.db'), slack.url),
        DATABASE_URL: await createSchema(pgStore.url, schema),
        AUDIT_SIGNING_KEY: key,
      };
      for (let i = 0; i < pgStore.replicas; i++)
        servers.push(await Child.start('../server-child.js', { name: `countersign ${i + 1}`, env }));
      children.push(...servers);
      if (servers.length > 1) {
        proxy = await startProxy(servers.map((c) => c.url));
        url = proxy.url;
      } else url = (servers[0] as Child).url;
    } else {
      servers.push(
        await Child.start('../server-child.js', {
          name: 'countersign',
          env: serverEnv(join(dir, 'countersign.db'), slack.url),
        }),
      );
      children.push(...servers);
      url = (servers[0] as Child).url;
    }
    const server = servers[0] as Child;
    const cpuOf = async () => {
      let total = 0;
      for (const c of servers) total += (await c.stats()).cpuUs ?? Number.NaN;
      return total;
    };
    const base = new URL(url);
    const clickAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const clicker = new Clicker(base, clickAgent, cfg.clickEveryMs);
    let loading = true;
    let measuring = false;
    const csCpu0 = await cpuOf();
    let rssPeakBytes = server.rssBytes();
    const sampler = setInterval(() => {
      rssPeakBytes = Math.max(rssPeakBytes, server.rssBytes());
    }, 250);
    const clicking = clicker.run(
      () => loading,
      () => measuring,
    );
    const countersign = await runLoad({
      base: url,
      concurrency: cfg.concurrency,
      warmupMs: cfg.warmupMs,
      durationMs: cfg.durationMs,
      onCreated: (id, measured) => {
        if (measured) clicker.fresh.push(id);
      },
      onMeasureStart: () => {
        measuring = true;
      },
    });
    loading = false;
    clearInterval(sampler);
    await clicking;
    const csCpu = (await cpuOf()) - csCpu0;
    // The vote itself runs after the ack; give it a moment, then check that the clicks counted.
    await sleep(1500);
    const sample = clicker.clicked.slice(0, 50);
    let approved = 0;
    for (const id of sample) if ((await statusOf(base, clickAgent, id)) === 'approved') approved++;
    clickAgent.destroy();
    const stats = await server.stats();
    await proxy?.close();
    proxy = null;
    for (const c of servers) await c.stop();
    await slack.stop();

    const after = await runLoad({ base: baseline.url, ...half, warmupMs: Math.min(cfg.warmupMs, 1000) });
    // The baseline idles between its two windows, so its CPU time over both is the time they took.
    const baseCpu = ((await baseline.stats()).cpuUs ?? Number.NaN) - baseCpu0;
    return {
      baseline: mergeLoads([before, after], baseSamples),
      countersign,
      cpuPerRequestUs: {
        baseline: baseCpu / (before.sent + after.sent),
        countersign: csCpu / (countersign.sent + clicker.samples.count),
      },
      clicks: {
        latency: clicker.samples.summary(),
        outcome: clicker.outcome.summary(),
        outcomeErrors: clicker.outcomeErrors,
        errors: clicker.errors,
        firstError: clicker.firstError,
        approved,
        checked: sample.length,
      },
      server: stats,
      rssPeakBytes,
    };
  } finally {
    await proxy?.close();
    for (const child of children.reverse()) await child.stop();
    rmSync(dir, { recursive: true, force: true });
    if (pgStore && schema) await dropSchema(pgStore.url, schema);
  }
}

/** Makes `schema` on the server at `url`; returns a DATABASE_URL that uses it. */
async function createSchema(url: string, schema: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** The round-robin balancer of examples/replicas, in this process. */
async function startProxy(upstreams: string[]): Promise<{ url: string; close(): Promise<void> }> {
  const path = '../../examples/replicas/proxy.mjs';
  const { startProxy: start } = (await import(path)) as {
    startProxy(port: number, upstreams: string[]): Promise<{ url: string; close(): Promise<void> }>;
  };
  return start(0, upstreams);
}
