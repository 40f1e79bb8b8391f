import cron, { type ScheduledTask } from 'node-cron';
import type { Approvals } from '../approvals/service.js';
import type { Logger } from '../log.js';

export interface SweepDeps {
  approvals: Approvals;
  log: Logger;
  now: () => number;
}

/** One tick: expire what is due, then remind. The cron only calls this; tests call it directly. */
export function sweepOnce(deps: SweepDeps): { expired: number; reminded: number } {
  const now = deps.now();
  const expired = deps.approvals.expireDue(now);
  const reminded = deps.approvals.remindDue(now);
  if (expired > 0 || reminded > 0) deps.log.info('sweep', { expired, reminded });
  return { expired, reminded };
}

/** Schedules the sweep on `EXPIRY_CRON`; ticks never overlap. */
export function scheduleSweep(expression: string, deps: SweepDeps): ScheduledTask {
  return cron.schedule(
    expression,
    () => {
      try {
        sweepOnce(deps);
      } catch (err) {
        deps.log.error('expiry sweep failed; it will run again on the next tick', { error: err });
      }
    },
    { name: 'expiry-sweep', noOverlap: true },
  );
}
