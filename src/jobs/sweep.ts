import cron, { type ScheduledTask } from 'node-cron';
import type { Approvals } from '../approvals/service.js';
import type { Logger } from '../log.js';

export interface SweepDeps {
  approvals: Approvals;
  log: Logger;
  now: () => number;
}

/**
 * Requests expired per transaction; the event loop is given back between chunks. A chunk of 50
 * holds the loop ~9 ms on the bench machine (500 held it ~90 ms, and a Slack click, which needs
 * a few turns of the loop before its ack, waited 225 ms behind the chunks; see BENCHMARKS.md).
 */
export const SWEEP_CHUNK = 50;

/**
 * One tick: expire what is due, then remind. The cron only calls this; tests call it directly.
 * A large backlog is expired chunk by chunk, yielding in between, so clicks and API calls are
 * still answered at once while thousands of requests expire.
 */
export async function sweepOnce(deps: SweepDeps): Promise<{ expired: number; reminded: number }> {
  const now = deps.now();
  let expired = 0;
  for (;;) {
    const n = await deps.approvals.expireChunk(now, SWEEP_CHUNK);
    expired += n;
    if (n < SWEEP_CHUNK) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const reminded = await deps.approvals.remindDue(now);
  if (expired > 0 || reminded > 0) deps.log.info('sweep', { expired, reminded });
  return { expired, reminded };
}

/** Schedules the sweep on `EXPIRY_CRON`; ticks never overlap. */
export function scheduleSweep(expression: string, deps: SweepDeps): ScheduledTask {
  return cron.schedule(
    expression,
    async () => {
      try {
        await sweepOnce(deps);
      } catch (err) {
        deps.log.error('expiry sweep failed; it will run again on the next tick', { error: err });
      }
    },
    { name: 'expiry-sweep', noOverlap: true },
  );
}
