import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { Child } from './lib/child.js';
import { approveClick } from './lib/click.js';
import { PEOPLE, serverEnv } from './lib/env.js';
import { Cloner, HOUR, Seeder } from './lib/seed.js';
import { type LatencySummary, Samples, sleep } from './lib/stats.js';

export interface ExpiryClicksConfig {
  pending: number;
  due: number;
  /** Pause between two Approve clicks (one click at a time). */
  clickEveryMs: number;
}

export interface ExpiryClicksFigures {
  due: number;
  /** The sweep tick in the server process, timed there. */
  tickMs: number;
  expired: number;
  clicks: LatencySummary;
  clickErrors: number;
}

const APPROVERS = [PEOPLE.bob.id, PEOPLE.carol.id, PEOPLE.dave.id];

/**
 * A sweep tick expiring `due` requests in the server process (the real server child, asked over
 * IPC to run `sweepOnce` as the cron does) while Approve clicks arrive on other pending requests
 * through Bolt, one at a time: the tick's duration and the acks of the clicks sent while it ran.
 * `pending` requests are seeded before the server starts; the `due` ones are added while it runs
 * (straight into the table from another connection, as if their deadline had just passed).
 */
export async function benchExpiryClicks(cfg: ExpiryClicksConfig): Promise<ExpiryClicksFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-expiry-clicks-'));
  const path = join(dir, 'countersign.db');
  const children: Child[] = [];
  try {
    const now = Date.now();
    const database = openSqliteStore(path);
    const ids = (await Seeder.create(database, path, now)).requests(
      cfg.pending - 1,
      { createdAt: now - HOUR, stepMs: HOUR / cfg.pending, expiresAt: now + 23 * HOUR },
      'pending',
    );
    await database.close();
    const slack = await Child.start('../slack-child.js', { name: 'fake slack' });
    children.push(slack);
    const server = await Child.start('../server-child.js', {
      name: 'countersign',
      env: serverEnv(path, slack.url),
    });
    children.push(server);

    const sqlite = new Database(path);
    sqlite.pragma('busy_timeout = 5000');
    Cloner.fromDatabase(sqlite).requests(
      cfg.due,
      { createdAt: now - 2 * HOUR, expiresAt: now - HOUR },
      'due',
    );
    sqlite.close();

    const base = new URL(server.url);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // Warm Bolt's path and the identity cache first (not measured).
    for (let i = 0; i < 3; i++) await approveClick(base, agent, APPROVERS[i] ?? '', ids.pop() ?? '');
    const samples = new Samples();
    let errors = 0;
    let sweeping = true;
    const clicking = (async () => {
      for (let n = 0; sweeping; n++) {
        const id = ids.pop();
        if (id === undefined) break;
        const res = await approveClick(base, agent, APPROVERS[n % APPROVERS.length] ?? '', id);
        if (!sweeping) break; // answered after the tick: not counted
        samples.add(res.ms);
        if (res.status !== 200) errors++;
        await sleep(cfg.clickEveryMs);
      }
    })();
    const tick = await server.run('sweep');
    sweeping = false;
    await clicking;
    agent.destroy();
    return {
      due: cfg.due,
      tickMs: tick.ms ?? Number.NaN,
      expired: tick.expired ?? 0,
      clicks: samples.summary(),
      clickErrors: errors,
    };
  } finally {
    for (const child of children.reverse()) await child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
