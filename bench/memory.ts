import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child } from './lib/child.js';
import { serverEnv } from './lib/env.js';
import { runLoad } from './lib/load.js';
import { sleep } from './lib/stats.js';

export interface MemoryConfig {
  requests: number;
  concurrency: number;
}

export interface MemoryFigures {
  requests: number;
  created: number;
  errors: number;
  loadMs: number;
  rps: number;
  /** RSS at start (ready, idle). */
  rssStartBytes: number;
  /** Highest RSS seen while the load ran (sampled every 250 ms). */
  rssPeakBytes: number;
  /** RSS right after the last answer. */
  rssAfterBytes: number;
  /** RSS after 2 s idle and a full GC. */
  rssSettledBytes: number;
  heapUsedSettledBytes: number;
  outboxOpenAfter: number;
}

/**
 * The resident memory of the server process after `requests` requests through the signed API
 * (everything real: Bolt receiver, SQLite, audit chain, the outbox posting cards to a fake Slack).
 */
export async function benchMemory(cfg: MemoryConfig): Promise<MemoryFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-memory-'));
  const slack = await Child.start('../slack-child.js', { name: 'fake slack' });
  let server: Child | null = null;
  try {
    server = await Child.start('../server-child.js', {
      name: 'countersign',
      env: serverEnv(join(dir, 'countersign.db'), slack.url),
      execArgv: ['--expose-gc'],
    });
    const s = server;
    await sleep(500);
    const rssStartBytes = s.rssBytes();
    let rssPeakBytes = rssStartBytes;
    const sampler = setInterval(() => {
      rssPeakBytes = Math.max(rssPeakBytes, s.rssBytes());
    }, 250);
    let created = 0;
    const started = Date.now();
    const result = await runLoad({
      base: s.url,
      concurrency: cfg.concurrency,
      total: cfg.requests,
      deadlineMs: 180_000,
      onCreated: () => {
        created++;
      },
    });
    const loadMs = Date.now() - started;
    clearInterval(sampler);
    const rssAfterBytes = s.rssBytes();
    rssPeakBytes = Math.max(rssPeakBytes, rssAfterBytes);
    await sleep(2000);
    const settled = await s.stats({ gc: true });
    return {
      requests: cfg.requests,
      created,
      errors: result.errors,
      loadMs,
      rps: result.rps,
      rssStartBytes,
      rssPeakBytes,
      rssAfterBytes,
      rssSettledBytes: settled.rss ?? Number.NaN,
      heapUsedSettledBytes: settled.heapUsed ?? Number.NaN,
      outboxOpenAfter: settled.outboxOpen ?? Number.NaN,
    };
  } finally {
    await server?.stop();
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
