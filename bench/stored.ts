import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child } from './lib/child.js';
import { serverEnv } from './lib/env.js';
import { type LoadResult, runLoad } from './lib/load.js';

export interface StoredConfig {
  /** Requests already stored before each intake run, e.g. [0, 1_000_000]; the first is the reference. */
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
 * per entry of `cfg.stored`, back to back so the VM's drift weighs alike. The history is seeded by
 * a child process straight into the tables, not through the API (a million requests through the
 * API would take ~5 minutes).
 */
export async function benchStored(cfg: StoredConfig): Promise<StoredRun[]> {
  const runs: StoredRun[] = [];
  for (const stored of cfg.stored) {
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
      });
      const cpu = ((await server.stats()).cpuUs ?? Number.NaN) - cpu0;
      runs.push({ stored, seedMs, load, cpuPerRequestUs: cpu / load.sent });
    } finally {
      for (const child of children.reverse()) await child.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return runs;
}
