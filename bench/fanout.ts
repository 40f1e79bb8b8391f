import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Message, SlackEmulator } from '../src/sandbox/slack-emulator.js';
import { Child } from './lib/child.js';
import { CHANNEL, PEOPLE, serverEnv } from './lib/env.js';
import { runLoad } from './lib/load.js';
import { sleep } from './lib/stats.js';

export interface FanoutConfig {
  requests: number;
  /** The fake Slack's allowance of chat.postMessage per channel per second (429 + Retry-After past it). */
  rate: number;
}

export interface FanoutFigures {
  requests: number;
  rate: number;
  /** Submitting all of them through the API. */
  submitMs: number;
  apiErrors: number;
  posted: number;
  lost: number;
  duplicates: number;
  /** Cards posted before a card of a request created earlier (0 = strict FIFO). */
  orderViolations: number;
  /** First card to last card. */
  spanMs: number;
  /** The least that span can be at this rate: (n - 1) / rate. */
  idealSpanMs: number;
  /** First API call to last card posted. */
  totalMs: number;
  /** The most any card k was posted after first card + k / rate, and which card that was. */
  maxLatenessMs: number;
  maxLatenessCard: number;
  /**
   * Whether every card k was posted within its allowance: first card + k / rate, plus one
   * Retry-After (1 s, Slack's granularity) plus 10% (each pause can only start at the 429 that
   * ends a burst, so a client that obeys Retry-After loses the burst's own duration per second).
   */
  withinAllowance: boolean;
  rateLimited: number;
  timedOut: boolean;
}

/**
 * `requests` requests for one channel while the fake Slack lets `rate` posts per second through and
 * answers the rest with 429 + Retry-After. Every card must be posted once, in order of creation, and
 * card k about when the rate allows it (first card + k / rate; see `withinAllowance`).
 */
export async function benchFanout(cfg: FanoutConfig): Promise<FanoutFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-fanout-'));
  const slack = await new SlackEmulator().start();
  for (const p of Object.values(PEOPLE)) slack.addUser(p);
  slack.postsPerSecondPerChannel = cfg.rate;
  // When each message was accepted (the fake keeps messages in order, not their times).
  const postedAt: number[] = [];
  const push = slack.messages.push.bind(slack.messages);
  slack.messages.push = (...items: Message[]) => {
    for (const _ of items) postedAt.push(Date.now());
    return push(...items);
  };
  let server: Child | null = null;
  try {
    server = await Child.start('../server-child.js', {
      name: 'countersign',
      env: serverEnv(join(dir, 'countersign.db'), slack.url),
    });
    const ids: string[] = [];
    const started = Date.now();
    const submitted = await runLoad({
      base: server.url,
      concurrency: 8,
      total: cfg.requests,
      deadlineMs: 60_000,
      onCreated: (id) => ids.push(id),
    });
    const submitMs = Date.now() - started;
    // Request ids are ULIDs from one monotonic source: sorted, they are in order of creation.
    const rank = new Map([...ids].sort().map((id, i) => [id, i]));
    const idealSpanMs = ((cfg.requests - 1) / cfg.rate) * 1000;
    const deadline = Date.now() + idealSpanMs * 2 + 30_000;
    let timedOut = false;
    while (slack.cards(CHANNEL).length < ids.length) {
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
      await sleep(50);
    }
    await sleep(200); // anything posted twice would show now
    const cards = slack.cards(CHANNEL);
    const times = slack.messages
      .map((m, i) => ({ m, at: postedAt[i] ?? Number.NaN }))
      .filter((x) => !x.m.thread_ts);
    const order = cards.map((c) => {
      const id = /req_[0-9A-HJKMNP-TV-Z]{26}/.exec(JSON.stringify(c.blocks ?? []) + c.text)?.[0];
      return id !== undefined ? (rank.get(id) ?? -1) : -1;
    });
    const seen = new Set(order.filter((r) => r >= 0));
    let violations = 0;
    for (let k = 1; k < order.length; k++) if ((order[k] ?? 0) < (order[k - 1] ?? 0)) violations++;
    const first = times[0]?.at ?? Number.NaN;
    let maxLateness = 0;
    let maxLatenessCard = 0;
    let withinAllowance = true;
    times.forEach((t, k) => {
      const ideal = (k * 1000) / cfg.rate;
      const late = t.at - first - ideal;
      if (late > maxLateness) {
        maxLateness = late;
        maxLatenessCard = k;
      }
      if (late > 1000 + 0.1 * ideal) withinAllowance = false;
    });
    const posts = slack.callsOf('chat.postMessage').filter((c) => !c.args.thread_ts).length;
    return {
      requests: cfg.requests,
      rate: cfg.rate,
      submitMs,
      apiErrors: submitted.errors,
      posted: cards.length,
      lost: ids.length - seen.size + submitted.errors,
      duplicates: cards.length - seen.size,
      orderViolations: violations,
      spanMs: (times.at(-1)?.at ?? Number.NaN) - first,
      idealSpanMs,
      totalMs: (times.at(-1)?.at ?? Number.NaN) - started,
      maxLatenessMs: maxLateness,
      maxLatenessCard,
      withinAllowance,
      rateLimited: posts - cards.length,
      timedOut,
    };
  } finally {
    await server?.stop();
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
