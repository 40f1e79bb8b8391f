import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { sweepOnce } from '../src/jobs/sweep.js';
import { createLogger } from '../src/log.js';
import { startServer } from '../src/server.js';
import { reportStartFailure, serveChild } from './lib/child.js';

/**
 * The product server in a process of its own (so the load generator does not share its event loop),
 * configured from the environment like `npm start`, with a quiet logger that counts warnings and
 * errors and shows the first few of them.
 */
const counts = { warn: 0, error: 0 };
let shown = 0;
const log = createLogger('warn', (line) => {
  const error = line.includes('"level":"error"');
  if (error) counts.error++;
  else counts.warn++;
  // At stop the outbox backlog is reported; expected here (the benches end with cards queued).
  if (line.includes('outbox rows left for the next start')) return;
  // Every bench database keeps its signing key beside it, as a first start does: known, not shown.
  if (line.includes('The audit signing key') && line.includes('beside the database')) return;
  if (shown < 5) {
    shown++;
    process.stderr.write(`[server] ${line.length > 600 ? `${line.slice(0, 600)}...\n` : line}`);
  }
});

// How long the event loop was held up (what a Slack ack waiting its turn feels).
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

try {
  const server = await startServer(loadConfig(process.env), { log, logLevel: 'warn' });
  serveChild({
    url: server.url,
    collect: async () => {
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      return {
        cpuUs: cpu.user + cpu.system,
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        heapTotal: mem.heapTotal,
        external: mem.external,
        outboxOpen: await server.approvals.outbox.openCount(),
        warnings: counts.warn,
        errors: counts.error,
        loopDelayP50Ms: loopDelay.percentile(50) / 1e6,
        loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        loopDelayMaxMs: loopDelay.max / 1e6,
      };
    },
    stop: () => server.stop({ drainMs: 200 }),
    commands: {
      // One sweep tick now, in this process (what the cron runs), timed.
      sweep: async () => {
        const start = performance.now();
        const result = await sweepOnce({ approvals: server.approvals, log, now: Date.now });
        return { ms: performance.now() - start, expired: result.expired, reminded: result.reminded };
      },
    },
  });
} catch (err) {
  reportStartFailure(err);
}
