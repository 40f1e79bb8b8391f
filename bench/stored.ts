import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child } from './lib/child.js';
import { serverEnv } from './lib/env.js';
import { type LoadResult, mergeLoads, runLoad } from './lib/load.js';
import { Samples } from './lib/stats.js';

export interface StoredConfig {
  /**
   * Requests already stored before each intake run, e.g. [0, 1_000_000]. The first is the
   * reference: measured in two half windows, before and after the others, as the intake bench
   * does with its baseline, so a drift of the VM's speed weighs on both sides alike.
   */
  stored: number[];
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export interface StoredRun {
  stored: number;
  seedMs: number;
  load: LoadResult;
  cpuPerRequestUs: number;
}

/** Runs bench/seed-child.js on `path` and waits for it (killed with the run if the bench stops). */
function seed(path: string, requests: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./seed-child.js', import.meta.url), [], {
      env: { ...process.env, SEED_DATABASE: path, SEED_REQUESTS: String(requests) },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.once('exit', (code) => {
      process.off('exit', kill);
      if (code !== 0) reject(new Error(`seeding ${requests} requests failed (exit ${code})`));
      else resolve((JSON.parse(out) as { ms: number }).ms);
    });
  });
}

/**
 * Intake as in the intake bench (closed loop, same window, same server and fake Slack children),
 * on a database that already holds `stored` requests (with as many delivered outbox rows), one run
 * per entry of `cfg.stored` (the first split around the others). The history is seeded by
 * a child process straight into the tables, not through the API (a million requests through the
 * API would take ~5 minutes).
 */
export async function benchStored(cfg: StoredConfig): Promise<StoredRun[]> {
  const [reference, ...others] = cfg.stored;
  if (reference === undefined) return [];
  const samples = new Samples();
  const half = { ...cfg, durationMs: cfg.durationMs / 2 };
  const before = await intakeOn(reference, half, samples);
  const runs: StoredRun[] = [];
  for (const stored of others) runs.push(await intakeOn(stored, cfg));
  const after = await intakeOn(reference, half, samples);
  const sent = before.load.sent + after.load.sent;
  runs.unshift({
    stored: reference,
    seedMs: before.seedMs + after.seedMs,
    load: mergeLoads([before.load, after.load], samples),
    cpuPerRequestUs:
      (before.cpuPerRequestUs * before.load.sent + after.cpuPerRequestUs * after.load.sent) / sent,
  });
  return runs;
}

/** One intake window on a fresh database holding `stored` requests. */
async function intakeOn(stored: number, cfg: StoredConfig, samples?: Samples): Promise<StoredRun> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-stored-'));
  const children: Child[] = [];
  try {
    const path = join(dir, 'countersign.db');
    const seedMs = stored > 0 ? await seed(path, stored) : 0;
    const slack = await Child.start('../slack-child.js', { name: 'fake slack' });
    children.push(slack);
    const server = await Child.start('../server-child.js', {
      name: 'countersign',
      env: serverEnv(path, slack.url),
      timeoutMs: 60_000,
    });
    children.push(server);
    const cpu0 = (await server.stats()).cpuUs ?? Number.NaN;
    const load = await runLoad({
      base: server.url,
      concurrency: cfg.concurrency,
      warmupMs: cfg.warmupMs,
      durationMs: cfg.durationMs,
      ...(samples ? { samples } : {}),
    });
    const cpu = ((await server.stats()).cpuUs ?? Number.NaN) - cpu0;
    return { stored, seedMs, load, cpuPerRequestUs: cpu / load.sent };
  } finally {
    for (const child of children.reverse()) await child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
