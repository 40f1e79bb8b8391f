import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchAudit } from './audit.js';
import { benchExpiry } from './expiry.js';
import { benchExpiryClicks } from './expiry-clicks.js';
import { latenessSection } from './expiry-lateness-row.js';
import { benchFanout } from './fanout.js';
import { benchIntake } from './intake.js';
import { postgresProblem, redactUrl } from './lib/pg-probe.js';
import { fmt, type LatencySummary } from './lib/stats.js';
import { benchListing } from './listing.js';
import { benchMemory } from './memory.js';
import { benchStored } from './stored.js';

/**
 * `npm run bench`: every figure of issues #10 and #19 on this machine, as a table with targets.
 * Bounded in time (a watchdog ends the run) and local only (127.0.0.1). Knobs, all optional:
 *   BENCH_ONLY=intake,intake-pg,fanout,expiry,lateness,memory,audit,stored,listing   run some sections only;
 *                                                  intake-pg is the intake on PostgreSQL, one replica and
 *                                                  three behind a round-robin balancer; by default it
 *                                                  runs when PostgreSQL answers, and is skipped (said so)
 *                                                  when it does not
 *   BENCH_DATABASE_URL=postgres://...               the server intake-pg uses (a schema is made and
 *                                                  dropped); default postgres://root@127.0.0.1:5432/test
 *   BENCH_DURATION_S=10 BENCH_WARMUP_S=2           intake window
 *   BENCH_FANOUT_RATE=10 BENCH_FANOUT_REQUESTS=500 fake Slack posts/s per channel (1 = Slack's real rate)
 *   BENCH_MEMORY_REQUESTS=100000 BENCH_AUDIT_EVENTS=100000
 *   BENCH_STORED=0,1000000                          requests stored before each intake run (first = reference)
 *   BENCH_LISTING_PENDING=100000
 *   BENCH_CPU_PROF=<dir>                            --cpu-prof the product server processes
 *   BENCH_STRICT=1                                  exit 1 when a target is missed
 */
const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? '');
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const SECTIONS = [
  'intake',
  'intake-pg',
  'fanout',
  'expiry',
  'lateness',
  'memory',
  'audit',
  'stored',
  'listing',
];
const only = new Set((process.env.BENCH_ONLY ?? SECTIONS.join(',')).split(',').map((s) => s.trim()));
const unknown = [...only].filter((s) => !SECTIONS.includes(s));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: BENCH_ONLY names unknown sections (${unknown.join(', ')}); known: ${SECTIONS.join(', ')}\n`,
  );
  process.exit(4);
}
const list = (name: string, fallback: number[]) => {
  const v = (process.env[name] ?? '')
    .split(',')
    .filter((x) => x.trim() !== '')
    .map(Number);
  return v.length > 0 && v.every((n) => Number.isSafeInteger(n) && n >= 0) ? v : fallback;
};
const cfg = {
  intake: {
    concurrency: 32,
    warmupMs: num('BENCH_WARMUP_S', 2) * 1000,
    durationMs: num('BENCH_DURATION_S', 10) * 1000,
    clickEveryMs: 50,
  },
  fanout: { requests: num('BENCH_FANOUT_REQUESTS', 500), rate: num('BENCH_FANOUT_RATE', 10) },
  expiry: { pending: 100_000, due: 10_000, ticks: 50, clickEveryMs: 20 },
  memory: { requests: num('BENCH_MEMORY_REQUESTS', 100_000), concurrency: 32 },
  audit: { events: num('BENCH_AUDIT_EVENTS', 100_000) },
  stored: {
    stored: list('BENCH_STORED', [0, 1_000_000]),
    concurrency: 32,
    warmupMs: num('BENCH_WARMUP_S', 2) * 1000,
    durationMs: num('BENCH_DURATION_S', 10) * 1000,
  },
  listing: { pending: num('BENCH_LISTING_PENDING', 100_000), calls: 100 },
};

// The whole run is bounded: 480 s by default, plus whatever a slower fan-out rate needs.
const fanoutExtraMs = only.has('fanout')
  ? Math.max(0, (cfg.fanout.requests / cfg.fanout.rate) * 2000 - 100_000)
  : 0;
const watchdog = setTimeout(
  () => {
    process.stderr.write('\nbench: the time budget ran out; stopping every child process\n');
    process.exit(2);
  },
  480_000 + fanoutExtraMs + (only.has('intake-pg') ? 120_000 : 0),
);
watchdog.unref();

interface Row {
  figure: string;
  value: string;
  target: string;
  result: 'pass' | 'FAIL' | '';
  baseline: string;
}
const rows: Row[] = [];
const row = (figure: string, value: string, target = '', ok: boolean | null = null, baseline = '') =>
  rows.push({ figure, value, target, result: ok === null ? '' : ok ? 'pass' : 'FAIL', baseline });

const MB = 1024 * 1024;
const section = (name: string) => process.stderr.write(`bench: ${name}...\n`);
const results: Record<string, unknown> = {};
const p99 = (l: LatencySummary) =>
  `${fmt(l.p99, 2)} ms (p50 ${fmt(l.p50, 2)}, max ${fmt(l.max, 1)}, ${l.count} calls)`;
const started = Date.now();

if (only.has('intake')) {
  section(
    `intake (concurrency ${cfg.intake.concurrency}, ${cfg.intake.warmupMs / 1000} s warm-up + ${cfg.intake.durationMs / 1000} s, baseline then Countersign)`,
  );
  const r = await benchIntake(cfg.intake);
  results.intake = r;
  const { baseline: b, countersign: c, clicks } = r;
  const ratio = c.rps / b.rps;
  row(
    'intake: baseline (bare node:http + HMAC + JSON + 1 insert)',
    `${fmt(b.rps, 0)} req/s`,
    '',
    null,
    '1.00',
  );
  row(
    'intake: Countersign throughput',
    `${fmt(c.rps, 0)} req/s`,
    '>= 50% of baseline',
    ratio >= 0.5,
    fmt(ratio, 2),
  );
  row(
    'intake: Countersign p50 latency',
    `${fmt(c.latency.p50, 2)} ms`,
    '',
    null,
    `${fmt(c.latency.p50 / b.latency.p50, 1)}x (${fmt(b.latency.p50, 2)} ms)`,
  );
  row(
    'intake: Countersign p99 latency',
    `${fmt(c.latency.p99, 2)} ms`,
    '< 25 ms',
    c.latency.p99 < 25,
    `${fmt(c.latency.p99 / b.latency.p99, 1)}x (${fmt(b.latency.p99, 2)} ms)`,
  );
  const cpu = r.cpuPerRequestUs;
  row(
    'intake: server CPU time per request (all threads)',
    `${fmt(cpu.countersign, 0)} µs`,
    '',
    null,
    `${fmt(cpu.countersign / cpu.baseline, 1)}x (${fmt(cpu.baseline, 0)} µs)`,
  );
  row(
    'intake: errors',
    `${c.errors} of ${c.completed}${c.firstError ? ` (${c.firstError.slice(0, 60)})` : ''}`,
    '0',
    c.errors === 0 && b.errors === 0,
    `${b.errors} of ${b.completed}`,
  );
  row('click to ack under intake load: p50', `${fmt(clicks.latency.p50, 2)} ms`, '', null);
  row(
    'click to ack under intake load: p99',
    `${fmt(clicks.latency.p99, 2)} ms (${clicks.latency.count} clicks, max ${fmt(clicks.latency.max, 1)})`,
    '< 50 ms',
    clicks.latency.p99 < 50 && clicks.errors === 0 && clicks.latency.count > 0,
  );
  row(
    'click → ?wait returns the outcome, p99 (under intake load)',
    `${p99(clicks.outcome)}${clicks.outcomeErrors > 0 ? `, ${clicks.outcomeErrors} not approved` : ''}`,
    '< 100 ms',
    clicks.outcome.p99 < 100 && clicks.outcomeErrors === 0 && clicks.outcome.count > 0,
  );
  row(
    'server RSS peak during the intake run',
    `${fmt(r.rssPeakBytes / MB, 0)} MB`,
    '< 200 MB',
    r.rssPeakBytes < 200 * MB,
  );
  row(
    'clicks that counted (approved after the run)',
    `${clicks.approved} of ${clicks.checked} checked, ${clicks.errors} errors`,
    'all',
    clicks.approved === clicks.checked && clicks.errors === 0,
  );
}

const pgUrl = process.env.BENCH_DATABASE_URL?.trim() || 'postgres://root@127.0.0.1:5432/test';
const pgProblem = only.has('intake-pg') ? await postgresProblem(pgUrl) : null;
if (pgProblem !== null) {
  // Asked for by name: a missing PostgreSQL is an error. By default: said, and skipped.
  const asked = process.env.BENCH_ONLY?.split(',').some((s) => s.trim() === 'intake-pg') ?? false;
  process.stderr.write(
    `bench: PostgreSQL at ${redactUrl(pgUrl)} does not answer (${pgProblem}); ${asked ? 'set BENCH_DATABASE_URL' : 'intake-pg skipped (set BENCH_DATABASE_URL to run it)'}\n`,
  );
  if (asked) process.exit(4);
  only.delete('intake-pg');
}
if (only.has('intake-pg')) {
  const sqlite = results.intake as Awaited<ReturnType<typeof benchIntake>> | undefined;
  for (const replicas of [1, 3]) {
    section(
      `intake on PostgreSQL, ${replicas} replica${replicas > 1 ? 's behind a round-robin balancer' : ''}`,
    );
    const r = await benchIntake(cfg.intake, { url: pgUrl, replicas });
    const { countersign: c, clicks } = r;
    const label = `PostgreSQL ×${replicas}`;
    results[`intakePg${replicas}`] = r;
    const vsSqlite = sqlite ? `; ${fmt(c.rps / sqlite.countersign.rps, 2)} × SQLite's` : '';
    row(
      `intake (${label}): throughput`,
      `${fmt(c.rps, 0)} req/s${vsSqlite}`,
      '',
      null,
      fmt(c.rps / r.baseline.rps, 2),
    );
    row(
      `intake (${label}): p50 / p99 latency`,
      `${fmt(c.latency.p50, 2)} / ${fmt(c.latency.p99, 2)} ms`,
      '',
      null,
    );
    row(
      `intake (${label}): server CPU per request (all replicas)`,
      `${fmt(r.cpuPerRequestUs.countersign, 0)} µs`,
      '',
      null,
    );
    row(`intake (${label}): errors`, `${c.errors} of ${c.completed}`, '0', c.errors === 0);
    row(
      `click to ack (${label}): p50 / p99`,
      `${fmt(clicks.latency.p50, 2)} / ${fmt(clicks.latency.p99, 2)} ms (${clicks.latency.count} clicks)`,
      '',
      null,
    );
    row(
      `clicks that counted (${label})`,
      `${clicks.approved} of ${clicks.checked} checked, ${clicks.errors} errors`,
      'all',
      clicks.approved === clicks.checked && clicks.errors === 0,
    );
  }
}

if (only.has('fanout')) {
  section(
    `fan-out (${cfg.fanout.requests} requests to one channel, fake Slack at ${cfg.fanout.rate} posts/s per channel)`,
  );
  const f = await benchFanout(cfg.fanout);
  results.fanout = f;
  row(
    `fan-out @ ${f.rate}/s: cards posted / lost / duplicated`,
    `${f.posted} / ${f.lost} / ${f.duplicates}`,
    `${f.requests} / 0 / 0`,
    f.posted === f.requests && f.lost === 0 && f.duplicates === 0 && !f.timedOut,
  );
  row('fan-out: order violations (FIFO)', String(f.orderViolations), '0', f.orderViolations === 0);
  row(
    'fan-out: first to last card',
    `${fmt(f.spanMs / 1000, 1)} s`,
    `~${fmt(f.idealSpanMs / 1000, 1)} s ideal`,
    null,
    `${fmt(f.spanMs / f.idealSpanMs, 2)}x ideal`,
  );
  row(
    'fan-out: lateness of card k vs first card + k/rate',
    `max ${fmt(f.maxLatenessMs, 0)} ms (card ${f.maxLatenessCard}, due at ${fmt(f.maxLatenessCard / f.rate, 1)} s)`,
    'every card <= 1 s + 10% late',
    f.withinAllowance,
  );
  row('fan-out: 429 answers taken', String(f.rateLimited), '', null);
}

if (only.has('expiry')) {
  section(
    `expiry (${cfg.expiry.pending.toLocaleString('en-US')} pending, then ${cfg.expiry.due.toLocaleString('en-US')} due)`,
  );
  global.gc?.();
  const e = await benchExpiry(cfg.expiry);
  results.expiry = e;
  row(
    `sweep tick, ${e.pending.toLocaleString('en-US')} pending, none due (median of ${cfg.expiry.ticks})`,
    `${fmt(e.idleTickMedianMs, 3)} ms (max ${fmt(e.idleTickMaxMs, 3)}, first ${fmt(e.firstIdleTickMs, 3)})`,
    '< 5 ms',
    e.idleTickMaxMs < 5,
  );
  row(
    `sweep tick expiring ${e.due.toLocaleString('en-US')} due, in the bench process alone`,
    `${fmt(e.dueTickMs, 0)} ms (${e.expired} expired)`,
    '',
    null,
  );
  global.gc?.();
  const c = await benchExpiryClicks(cfg.expiry);
  results.expiryClicks = c;
  row(
    `sweep tick expiring ${c.due.toLocaleString('en-US')} due, in the server (clicks arriving)`,
    `${fmt(c.tickMs, 0)} ms (${c.expired} expired)`,
    '< 2000 ms',
    c.tickMs < 2000 && c.expired === c.due,
  );
  row(
    '… clicks acked meanwhile, p99',
    `${p99(c.clicks)}${c.clickErrors > 0 ? `, ${c.clickErrors} errors` : ''}`,
    '< 50 ms',
    c.clicks.p99 < 50 && c.clickErrors === 0 && c.clicks.count > 0,
  );
  // Room for the expiry lateness after expires_at (p99 < 2 s), measured in its own file.
}

if (only.has('lateness')) await latenessSection(section, row);

if (only.has('memory')) {
  section(`memory (${cfg.memory.requests.toLocaleString('en-US')} requests through the API)`);
  const m = await benchMemory(cfg.memory);
  results.memory = m;
  row(
    `server RSS after ${m.requests.toLocaleString('en-US')} API requests`,
    `${fmt(m.rssAfterBytes / MB, 0)} MB (settled ${fmt(m.rssSettledBytes / MB, 0)}, peak ${fmt(m.rssPeakBytes / MB, 0)}, start ${fmt(m.rssStartBytes / MB, 0)}; ${fmt(m.rps, 0)} req/s)`,
    '< 170 MB',
    m.rssAfterBytes < 170 * MB && m.created === m.requests,
  );
}

if (only.has('audit')) {
  section(`audit verify (${cfg.audit.events.toLocaleString('en-US')} events)`);
  const a = await benchAudit(cfg.audit);
  results.audit = a;
  row(
    `audit verify, ${a.events.toLocaleString('en-US')} events (${a.signed.toLocaleString('en-US')} signed), whole command`,
    `${fmt(a.eventsPerSecond, 0)} events/s (${fmt(a.verifyMs / 1000, 2)} s, exit ${a.exitCode})`,
    '>= 50,000 events/s, exit 0',
    a.exitCode === 0 && a.eventsPerSecond >= 50_000,
  );
}

if (only.has('stored')) {
  const counts = cfg.stored.stored.map((n) => n.toLocaleString('en-US')).join(', then ');
  section(`intake with requests already stored (${counts})`);
  const runs = await benchStored(cfg.stored);
  results.stored = runs;
  const ref = runs[0];
  for (const run of runs) {
    const ratio = ref ? run.load.rps / ref.load.rps : Number.NaN;
    const judged = ref !== undefined && run !== ref && run.stored >= 1_000_000;
    row(
      `intake with ${run.stored.toLocaleString('en-US')} requests stored`,
      `${fmt(run.load.rps, 0)} req/s, p99 ${fmt(run.load.latency.p99, 2)} ms, ${fmt(run.cpuPerRequestUs, 0)} µs CPU/req, ${run.load.errors} errors${run.seedMs > 0 ? ` (seeded in ${fmt(run.seedMs / 1000, 1)} s)` : ''}`,
      judged ? `>= 0.9 x ${ref?.stored.toLocaleString('en-US')} stored` : '',
      judged ? ratio >= 0.9 && run.load.errors === 0 : null,
      run === ref || !ref
        ? '1.00'
        : `${fmt(ratio, 2)} (CPU/req ${fmt(run.cpuPerRequestUs / ref.cpuPerRequestUs, 2)}x)`,
    );
  }
}

if (only.has('listing')) {
  section(`/approvals list and mine (${cfg.listing.pending.toLocaleString('en-US')} pending)`);
  const l = await benchListing(cfg.listing);
  results.listing = l;
  const n = l.pending.toLocaleString('en-US');
  row(`/approvals list, ${n} pending, p99`, p99(l.list), '< 50 ms', l.list.p99 < 50);
  row(
    `/approvals list <page> over all pages, ${n} pending, p99`,
    p99(l.listDeep),
    '< 50 ms',
    l.listDeep.p99 < 50,
  );
  row(
    `/approvals mine, ${n} pending, p99`,
    `${p99(l.mine)}; Bob: ${l.mineWaiting} waiting, ${l.mineRequested} requested`,
    '< 50 ms',
    l.mine.p99 < 50,
  );
}

// ---- the table ----
const totalS = (Date.now() - started) / 1000;
const pkg = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'),
) as {
  version: string;
};
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const header = ['figure', 'value', 'target', 'result', 'vs baseline'];
const table = [header, ...rows.map((r) => [r.figure, r.value, r.target, r.result, r.baseline])];
const widths = header.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
const out = [
  '',
  `Countersign ${pkg.version} benchmarks: ${new Date().toISOString()}, Node ${process.version}, ${availableParallelism()} CPUs (${cpu}), ${fmt(totalmem() / 1024 ** 3, 1)} GiB RAM; ${fmt(totalS, 0)} s`,
  '',
  line(header),
  `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
  ...rows.map((r) => line([r.figure, r.value, r.target, r.result, r.baseline])),
  '',
];
process.stdout.write(out.join('\n'));
const audit = results.audit as Awaited<ReturnType<typeof benchAudit>> | undefined;
if (audit && audit.exitCode !== 0) process.stdout.write(`audit verify said:\n${audit.output}\n`);
const intake = results.intake as Awaited<ReturnType<typeof benchIntake>> | undefined;
if (intake?.server) {
  const s = intake.server;
  process.stdout.write(
    `server after the intake run: ${s.warnings} warnings, ${s.errors} errors logged, ${s.outboxOpen} outbox rows still open (cards wait for the serial channel lane)\n`,
  );
}

const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = `${dir}bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(
  file,
  JSON.stringify({ at: new Date().toISOString(), seconds: totalS, config: cfg, rows, results }, null, 2),
);
process.stdout.write(`raw figures: ${file}\n`);
const judged = rows.filter((r) => r.result !== '');
const missed = judged.filter((r) => r.result === 'FAIL');
process.stdout.write(`${judged.length - missed.length} of ${judged.length} targets met\n`);
clearTimeout(watchdog);
// A missed target is a finding, not a crash; BENCH_STRICT=1 makes it fail the command (for CI).
process.exitCode = process.env.BENCH_STRICT === '1' && missed.length > 0 ? 1 : 0;
