import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Readings that need the database, taken at scrape time. The composition root provides them (one
 * implementation per store); with several replicas every replica reports the same shared values,
 * so aggregate them with max(), not sum().
 */
export interface MetricsSource {
  /** Requests waiting for a decision now. */
  pendingRequests(): number | Promise<number>;
  /** Outbox rows not yet delivered (nor given up), and when the oldest of them was queued (ms). */
  outbox():
    | { rows: number; oldestCreatedAt: number | null }
    | Promise<{ rows: number; oldestCreatedAt: number | null }>;
}

/** A request leaving `pending`, as the metrics need it. */
export interface DecidedRequest {
  status: string;
  createdAt: number;
  decidedAt: number | null;
  /** `policy` for an auto-approval (no person decided: left out of the time to decision). */
  decidedBy: string | null;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const DECISION_SECONDS = [10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400, 604800];

/**
 * The server's Prometheus metrics (prom-client, one registry per server): what operators alert on
 * (docs/operations.md), plus the process and Node.js defaults.
 */
export class Metrics {
  readonly registry = new Registry();
  private source: MetricsSource | null = null;
  private readonly decisions: Counter<'outcome'>;
  private readonly timeToDecision: Histogram<'outcome'>;
  readonly http: Histogram<'route' | 'method' | 'status'>;
  readonly slackCalls: Histogram<'method' | 'status'>;
  readonly slackRateLimited: Counter<'method'>;
  private readonly callbackFailures: Counter;
  private readonly socketConnected: Gauge;
  private readonly socketReconnects: Counter;

  constructor(opts: { now?: () => number } = {}) {
    const now = opts.now ?? Date.now;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const metrics = this;
    new Gauge({
      name: 'countersign_requests_pending',
      help: 'Requests waiting for a decision (read from the database at scrape time)',
      registers,
      async collect() {
        if (metrics.source) this.set(await metrics.source.pendingRequests());
      },
    });
    const backlog = new Gauge({
      name: 'countersign_outbox_backlog',
      help: 'Slack posts, card updates and callbacks queued and not yet delivered',
      registers,
    });
    new Gauge({
      name: 'countersign_outbox_oldest_age_seconds',
      help: 'Age of the oldest undelivered outbox row (0 when the outbox is empty)',
      registers,
      async collect() {
        if (!metrics.source) return;
        const { rows, oldestCreatedAt } = await metrics.source.outbox();
        backlog.set(rows);
        this.set(oldestCreatedAt === null ? 0 : Math.max(0, (now() - oldestCreatedAt) / 1000));
      },
    });
    this.decisions = new Counter({
      name: 'countersign_decisions_total',
      help: 'Requests that left pending in this process, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.timeToDecision = new Histogram({
      name: 'countersign_time_to_decision_seconds',
      help: 'From a request to its outcome (auto-approvals by policy left out), by outcome',
      labelNames: ['outcome'],
      buckets: DECISION_SECONDS,
      registers,
    });
    this.http = new Histogram({
      name: 'countersign_http_request_duration_seconds',
      help: 'Pipeline API calls by route (POST /api/v1/requests is intake), method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: SECONDS,
      registers,
    });
    this.slackCalls = new Histogram({
      name: 'countersign_slack_api_call_duration_seconds',
      help: 'Slack Web API calls by method and HTTP status (network_error when there was no answer)',
      labelNames: ['method', 'status'],
      buckets: SECONDS,
      registers,
    });
    this.slackRateLimited = new Counter({
      name: 'countersign_slack_rate_limited_total',
      help: 'Slack Web API calls answered 429 (rate limited), by method',
      labelNames: ['method'],
      registers,
    });
    this.callbackFailures = new Counter({
      name: 'countersign_callback_failures_total',
      help: 'Callback deliveries that failed (each is retried until its 24-hour window ends)',
      registers,
    });
    this.socketConnected = new Gauge({
      name: 'countersign_slack_socket_connected',
      help: 'Socket Mode: 1 while the WebSocket to Slack is open, 0 otherwise (absent over HTTP)',
      registers: [],
    });
    this.socketReconnects = new Counter({
      name: 'countersign_slack_socket_reconnects_total',
      help: 'Socket Mode: connections to Slack opened again after one was lost',
      registers: [],
    });
  }

  /** Where the database readings come from (set once the store is open). */
  useSource(source: MetricsSource): void {
    this.source = source;
  }

  decided(r: DecidedRequest): void {
    this.decisions.inc({ outcome: r.status });
    if (r.decidedBy !== 'policy' && r.decidedAt !== null) {
      this.timeToDecision.observe({ outcome: r.status }, Math.max(0, (r.decidedAt - r.createdAt) / 1000));
    }
  }

  callbackResult(ok: boolean): void {
    if (!ok) this.callbackFailures.inc();
  }

  private socketSeen = false;
  /** Socket Mode state changes (the gauges appear only in Socket Mode). */
  socketState(connected: boolean): void {
    if (!this.socketSeen) {
      this.socketSeen = true;
      this.registry.registerMetric(this.socketConnected);
      this.registry.registerMetric(this.socketReconnects);
    } else if (connected) {
      this.socketReconnects.inc();
    }
    this.socketConnected.set(connected ? 1 : 0);
  }
}
