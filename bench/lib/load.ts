import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { CI_KEY, PEOPLE } from './env.js';
import { type LatencySummary, Samples } from './stats.js';

/** One body per call (every body differs, every webhook-id is new), ~600 bytes like a CI pipeline's. */
export function requestBody(n: number): string {
  return JSON.stringify({
    action: 'db.export',
    title: `Export the customers table to the analytics bucket (run ${n})`,
    requester: { slack_user_id: PEOPLE.alice.id, name: PEOPLE.alice.name },
    summary: `Nightly export job *${n}* asks to copy \`customers\` (PII columns masked) to \`s3://analytics-exports\`.`,
    resource: 'postgres://prod/customers',
    environment: 'production',
    risk: 'high',
    context: { pipeline: 'nightly-export', run: n, commit: '3f2a9c1e5b7d', dry_run: false },
    links: [{ text: 'Pipeline run', url: `https://ci.example.com/runs/${n}` }],
    ttl_seconds: 3600,
  });
}

/** Standard Webhooks headers for one call, signed with the `ci` client's key. */
export function signedHeaders(id: string, body: string): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', CI_KEY).update(`${id}.${ts}.`).update(body).digest('base64');
  return {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': `v1,${sig}`,
  };
}

export interface HttpResult {
  status: number;
  body: string;
  ms: number;
}

/** One HTTP call on `agent`; resolves with status 0 on a network error. */
export function call(
  url: URL,
  opts: { method: string; path: string; headers: Record<string, string>; body?: string; agent: Agent },
): Promise<HttpResult> {
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: opts.method,
        path: opts.path,
        headers: opts.headers,
        agent: opts.agent,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text,
            ms: Number(process.hrtime.bigint() - start) / 1e6,
          }),
        );
        res.on('error', (err) =>
          resolve({ status: 0, body: String(err), ms: Number(process.hrtime.bigint() - start) / 1e6 }),
        );
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout after 10 s')));
    req.on('error', (err) =>
      resolve({ status: 0, body: String(err), ms: Number(process.hrtime.bigint() - start) / 1e6 }),
    );
    req.end(opts.body);
  });
}

export interface LoadResult {
  /** Calls completed inside the measured window. */
  completed: number;
  /** Of those, answers other than 201 (and network errors). */
  errors: number;
  statuses: Record<string, number>;
  firstError: string | null;
  windowMs: number;
  rps: number;
  latency: LatencySummary;
  /** Every call sent, warm-up included. */
  sent: number;
}

export interface LoadOptions {
  base: string;
  concurrency: number;
  /** Time-bounded: warm up, then measure for `durationMs`. */
  warmupMs?: number;
  durationMs?: number;
  /** Count-bounded: exactly `total` calls (all measured); `deadlineMs` caps the time. */
  total?: number;
  deadlineMs?: number;
  /** Called with each created request id (201 answers). */
  onCreated?: (id: string, measured: boolean) => void;
  /** Called when the measured window opens. */
  onMeasureStart?: () => void;
  idPrefix?: string;
  /** Latencies are also added here (to merge several windows into one distribution). */
  samples?: Samples;
}

/**
 * A closed-loop load generator: `concurrency` callers on a keep-alive agent with as many sockets, each
 * sending a signed `POST /api/v1/requests` as soon as its previous one is answered.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const url = new URL(opts.base);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const samples = opts.samples ?? new Samples();
  const statuses: Record<string, number> = {};
  const prefix = opts.idPrefix ?? `msg_bench_${process.pid}_${Date.now()}`;
  let firstError: string | null = null;
  let errors = 0;
  let completed = 0;
  let sent = 0;
  const started = Date.now();
  const timeBound = opts.total === undefined;
  const measureFrom = timeBound ? started + (opts.warmupMs ?? 0) : started;
  const measureUntil = timeBound
    ? measureFrom + (opts.durationMs ?? 10_000)
    : started + (opts.deadlineMs ?? 600_000);
  let measuring = !timeBound;
  if (measuring) opts.onMeasureStart?.();
  let lastCompletion = measureFrom;

  const worker = async () => {
    for (;;) {
      const now = Date.now();
      if (now >= measureUntil) return;
      if (!timeBound && sent >= (opts.total ?? 0)) return;
      if (!measuring && now >= measureFrom) {
        measuring = true;
        opts.onMeasureStart?.();
      }
      const n = sent++;
      const body = requestBody(n);
      const res = await call(url, {
        method: 'POST',
        path: '/api/v1/requests',
        headers: signedHeaders(`${prefix}_${n}`, body),
        body,
        agent,
      });
      const doneAt = Date.now();
      // Time-bounded: a call counts when it is answered inside the window (throughput by completions).
      const counted = timeBound ? doneAt >= measureFrom && doneAt <= measureUntil : true;
      if (res.status === 201 && opts.onCreated) {
        const id = /"id":"([^"]+)"/.exec(res.body)?.[1];
        if (id) opts.onCreated(id, counted);
      }
      if (!counted) continue;
      completed++;
      lastCompletion = doneAt;
      samples.add(res.ms);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status !== 201) {
        errors++;
        firstError ??= `${res.status} ${res.body.slice(0, 300)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  agent.destroy();
  const windowMs = timeBound ? measureUntil - measureFrom : lastCompletion - started;
  return {
    completed,
    errors,
    statuses,
    firstError,
    windowMs,
    rps: (completed / windowMs) * 1000,
    latency: samples.summary(),
    sent,
  };
}

/** Several measured windows of one server as one result (latencies from the shared `samples`). */
export function mergeLoads(parts: LoadResult[], samples: Samples): LoadResult {
  const statuses: Record<string, number> = {};
  for (const p of parts)
    for (const [k, n] of Object.entries(p.statuses)) statuses[k] = (statuses[k] ?? 0) + n;
  const completed = parts.reduce((n, p) => n + p.completed, 0);
  const windowMs = parts.reduce((n, p) => n + p.windowMs, 0);
  return {
    completed,
    errors: parts.reduce((n, p) => n + p.errors, 0),
    statuses,
    firstError: parts.find((p) => p.firstError !== null)?.firstError ?? null,
    windowMs,
    rps: (completed / windowMs) * 1000,
    latency: samples.summary(),
    sent: parts.reduce((n, p) => n + p.sent, 0),
  };
}
