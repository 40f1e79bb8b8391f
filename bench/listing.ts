import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebClient } from '@slack/web-api';
import { createLogger } from '../src/log.js';
import { SlackEmulator } from '../src/sandbox/slack-emulator.js';
import { type CommandDeps, runCommand } from '../src/slack/commands.js';
import { Identity } from '../src/slack/identity.js';
import { authTest } from '../src/slack/workspace.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { seedWorkspace } from '../test/support/harness.js';
import { PEOPLE } from './lib/env.js';
import { HOUR, Seeder } from './lib/seed.js';
import { type LatencySummary, Samples } from './lib/stats.js';

export interface ListingConfig {
  pending: number;
  /** Calls measured per command (after a few unmeasured ones that warm the caches). */
  calls: number;
}

export interface ListingFigures {
  pending: number;
  seedMs: number;
  list: LatencySummary;
  /** `list <n>` on pages spread over the whole listing (OFFSET grows with the page). */
  listDeep: LatencySummary;
  mine: LatencySummary;
  /** What `mine` finds for Bob (a sanity check that the work was done). */
  mineWaiting: number;
  mineRequested: number;
}

/**
 * `/approvals list` and `/approvals mine` with `pending` requests waiting: `runCommand`, the code
 * behind the slash command (member check, channel visibility, the listing queries, the votes of
 * each line, rendering the blocks), with a real Identity over the fake Slack (its caches warm, as on
 * a server that is in use). Only Bolt's ack and the response_url post are left out. The requests
 * are spread over the last 24 hours; 1 in 50 is Bob's, the rest Alice's.
 */
export async function benchListing(cfg: ListingConfig): Promise<ListingFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-listing-'));
  const path = join(dir, 'countersign.db');
  const slack = await new SlackEmulator().start();
  seedWorkspace(slack);
  const database = openSqliteStore(path);
  try {
    const now = Date.now();
    const seeder = await Seeder.create(database, path, now);
    const seedStart = performance.now();
    const bobs = Math.floor(cfg.pending / 50);
    const alices = cfg.pending - 1 - bobs;
    const window = 24 * HOUR;
    const expiresAt = now + 24 * HOUR;
    seeder.requests(alices, { createdAt: now - window, stepMs: window / alices, expiresAt }, 'alice');
    seeder.requests(
      bobs,
      { createdAt: now - window, stepMs: window / bobs, expiresAt, requesterSlackId: PEOPLE.bob.id },
      'bob',
    );
    const seedMs = performance.now() - seedStart;
    database.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    database.sqlite.pragma('optimize');

    const client = new WebClient('xoxb-bench-token', { slackApiUrl: slack.url });
    const { workspace } = await authTest(client);
    seeder.approvals.workspace = workspace;
    const log = createLogger('error', () => {});
    const deps: CommandDeps = {
      approvals: seeder.approvals,
      identity: new Identity(client),
      now: () => now,
      log,
      listing: database.listing,
      stats: database.stats,
      admins: [],
      verifyAudit: async () => ({ ok: true, text: 'not measured here' }),
    };
    const people = [PEOPLE.bob, PEOPLE.carol, PEOPLE.dave];
    const run = async (text: (i: number) => string, samples: Samples | null, n: number) => {
      for (let i = 0; i < n; i++) {
        const person = people[i % people.length] ?? PEOPLE.bob;
        const actor = { id: person.id, teamId: workspace.teamId, enterpriseId: null };
        const start = performance.now();
        await runCommand(deps, { actor, text: text(i) });
        samples?.add(performance.now() - start);
      }
    };
    await run(() => 'list', null, 10);
    await run(() => 'mine', null, 10);
    const list = new Samples();
    const listDeep = new Samples();
    const mine = new Samples();
    const pages = Math.ceil(cfg.pending / 10);
    await run(() => 'list', list, cfg.calls);
    await run((i) => `list ${1 + Math.floor((i * pages) / cfg.calls)}`, listDeep, cfg.calls);
    await run(() => 'mine', mine, cfg.calls);
    const bob = { id: PEOPLE.bob.id, teamId: workspace.teamId, enterpriseId: null };
    const reply = await runCommand(deps, { actor: bob, text: 'mine' });
    // "N requests waiting for your vote; you requested M" (the reply's text for the last caller).
    const text = reply?.text ?? '';
    return {
      pending: cfg.pending,
      seedMs,
      list: list.summary(),
      listDeep: listDeep.summary(),
      mine: mine.summary(),
      mineWaiting: Number(/([\d,]+) requests? waiting/.exec(text)?.[1]?.replace(/,/g, '') ?? Number.NaN),
      mineRequested: Number(/you requested ([\d,]+)/.exec(text)?.[1]?.replace(/,/g, '') ?? Number.NaN),
    };
  } finally {
    await database.close();
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
