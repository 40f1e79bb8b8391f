import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScheduledTask } from 'node-cron';
import { consumeRequest } from './approvals/consume.js';
import { items } from './approvals/outbox-items.js';
import { Approvals } from './approvals/service.js';
import { AuditLog } from './audit/audit-log.js';
import { CHECKPOINT_INTERVAL_MS, Checkpointer } from './audit/checkpoints.js';
import { auditKeyWarning, loadSigningKey } from './audit/keys.js';
import { publishedKeys } from './audit/published-keys.js';
import type { Config } from './config.js';
import type { Policy } from './core/policy.js';
import type { Resolver } from './egress/pinned-post.js';
import { apiRoutes } from './http/api-routes.js';
import { cliFileRoute } from './http/cli-file.js';
import { jwksRoute } from './http/jwks-route.js';
import type { HttpLimits } from './http/limits.js';
import { createHttpServer } from './http/listener.js';
import { RefusalAudit } from './http/refusal-audit.js';
import type { Route } from './http/router.js';
import { WebhookIdUses } from './http/webhook-id-uses.js';
import { Identity as CallerIdentity } from './identity/identity.js';
import { DEADLINE_POLL_MS, ExpiryTimer } from './jobs/expiry-timer.js';
import { scheduleSweep, sweepOnce } from './jobs/sweep.js';
import { createLogger, type Level, type Logger } from './log.js';
import { Metrics } from './metrics/metrics.js';
import { instrumentRoutes, metricsRoute } from './metrics/routes.js';
import { slackFetch } from './metrics/slack-fetch.js';
import { storeMetricsSource } from './metrics/store-source.js';
import type { CallbackLimits } from './outbox/callback-gate.js';
import { SlackDelivery } from './outbox/slack-delivery.js';
import { OutboxWorker } from './outbox/worker.js';
import { loadPolicyFile } from './policy-file.js';
import { registerActions } from './slack/actions.js';
import { createSlackApp } from './slack/app.js';
import { registerCommands } from './slack/commands.js';
import { auditVerifier } from './slack/commands-audit.js';
import { registerHome } from './slack/home.js';
import { Identity } from './slack/identity.js';
import { registerInputGuard } from './slack/input-guard.js';
import { manifestBotScopes } from './slack/manifest-scopes.js';
import { registerViews } from './slack/views.js';
import { authTest } from './slack/workspace.js';
import { configuredChannels, logWorkspaceProblems } from './slack/workspace-checks.js';
import { databaseModeWarning } from './store/file-modes.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

export interface ServerOptions {
  now?: () => number;
  log?: Logger;
  logLevel?: Level;
  /** Outbox timer period (tests shorten it). */
  outboxPollMs?: number;
  callbackTimeoutMs?: number;
  /** Callback attempts in flight: in all, per client, per receiver host (src/outbox/callback-gate.ts). */
  callbackLimits?: Partial<CallbackLimits>;
  /** Resolves callback hosts (tests inject one; the system resolver by default). */
  callbackResolver?: Resolver;
  /** HTTP timeouts, connection cap and body budget (src/http/limits.ts; tests shorten them). */
  httpLimits?: Partial<HttpLimits>;
  /** Period of the audit checkpoint timer (default 10 minutes; tests shorten it). */
  checkpointIntervalMs?: number;
  /** More routes on the same port (after the API's and Slack's), e.g. the sandbox page. */
  routes?: Route[];
  /** Socket Mode: the WebSocket ping/pong timeout (tests shorten it so reconnects come sooner). */
  socketPingTimeoutMs?: number;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  approvals: Approvals;
  store: Store;
  worker: OutboxWorker;
  audit: AuditLog;
  /** Signed audit checkpoints: taken periodically and on stop; `take()` for one now. */
  checkpoints: Checkpointer;
  /** Re-reads the policy file; on error keeps the old policy and returns the problems. */
  reloadPolicy(): Promise<string[]>;
  /** Stops accepting, stops the cron, finishes in-flight work, drains the outbox briefly, closes the DB. */
  stop(opts?: { drainMs?: number }): Promise<void>;
}

/** The composition root: everything wired together and listening. */
export async function startServer(config: Config, opts: ServerOptions = {}): Promise<RunningServer> {
  const now = opts.now ?? Date.now;
  const level = opts.logLevel ?? 'info';
  const log = opts.log ?? createLogger(level);
  let policy: Policy | null = null;
  if (config.policyPath) {
    const loaded = loadPolicyFile(config.policyPath);
    if ('errors' in loaded)
      throw new Error(`The policy file is invalid:\n${loaded.errors.map((e) => `  - ${e}`).join('\n')}`);
    policy = loaded.policy;
  }
  if (config.defaultChannel === null && policy?.defaults.channel == null) {
    throw new Error(
      'no Slack channel for requests that match no rule: set COUNTERSIGN_DEFAULT_CHANNEL or defaults.channel in the policy file',
    );
  }
  const metrics = new Metrics({ now });
  // The bot token first: a wrong one stops the start with the fix (before anything is opened).
  const slackApp = createSlackApp({
    config,
    log,
    level,
    now,
    fetch: slackFetch(metrics),
    onSocketState: (connected) => metrics.socketState(connected),
    ...(opts.socketPingTimeoutMs !== undefined ? { socketPingTimeoutMs: opts.socketPingTimeoutMs } : {}),
  });
  const { app } = slackApp;
  registerInputGuard(app, log);
  // Who may vote: members of the workspace the token belongs to (the start stops when it is unusable).
  const { workspace, scopes: grantedScopes } = await authTest(app.client);
  // Checked before anything is created: only what an operator made (or an older version left) is named.
  const modeWarning = config.databaseUrl === null ? databaseModeWarning(config.databasePath) : null;
  if (modeWarning !== null) log.warn(modeWarning);
  const key = loadSigningKey(config.auditSigningKey, config.databasePath);
  const keyWarning = auditKeyWarning(key, config.databasePath, config.auditChannel);
  if (keyWarning !== null) log.warn(keyWarning);
  const store = await openStore(config);
  metrics.useSource(storeMetricsSource(store));
  const audit = new AuditLog(key);
  try {
    await store.transaction(async (t) => {
      await audit.registerKey(t, now());
      await audit.recordPolicyInForce(
        t,
        policy && config.policyPath ? { path: config.policyPath, hash: policy.hash } : null,
        now(),
      );
    });
  } catch (err) {
    await store.close();
    throw err;
  }

  // OIDC callers on the way in, attestations of approvals on the way out (CONTRACT §11, §12).
  const callers = new CallerIdentity(
    { oidcIssuers: config.oidcIssuers, oidcAudience: config.oidcAudience, publicUrl: config.publicUrl },
    key,
    { now },
  );
  const approvals = new Approvals({
    store,
    audit,
    defaultChannel: config.defaultChannel,
    policy,
    workspace,
    attestor: callers,
  });
  approvals.onDecided = (r) => metrics.decided(r);
  const refusals = new RefusalAudit(async (event) => {
    await store
      .transaction((t) => audit.append(t, event, now()))
      .catch((err: unknown) => {
        log.error('could not record an audit event', { type: event.type, error: err });
      });
  }, now);
  let accepting = true;
  const routes = apiRoutes({
    approvals,
    clients: config.clients,
    oidc: callers.oidc,
    refusals,
    webhookIds: new WebhookIdUses(),
    consume: (id, by, at) => consumeRequest({ store, audit }, id, by, at),
    callbackAllow: config.callbackAllow,
    now,
    log,
    accepting: () => accepting,
  });
  const identity = new Identity(app.client, { now });
  const voteDeps = { approvals, identity, now, log };
  const readDeps = {
    ...voteDeps,
    listing: store.listing,
    stats: store.stats,
    admins: config.admins,
  };
  const home = registerHome(app, readDeps);
  registerActions(app, voteDeps, home);
  registerViews(app, voteDeps);
  registerCommands(app, { ...readDeps, verifyAudit: auditVerifier(store, log) });

  const slack = new SlackDelivery({ client: app.client, approvals, audit, identity, log, now });
  const worker = new OutboxWorker({
    approvals,
    store,
    audit,
    slack,
    clients: config.clients,
    callbackAllow: config.callbackAllow,
    ...(opts.callbackResolver ? { callbackResolver: opts.callbackResolver } : {}),
    log,
    now,
    ...(opts.outboxPollMs !== undefined ? { pollMs: opts.outboxPollMs } : {}),
    ...(opts.callbackTimeoutMs !== undefined ? { callbackTimeoutMs: opts.callbackTimeoutMs } : {}),
    ...(opts.callbackLimits ? { callbackLimits: opts.callbackLimits } : {}),
    onCallback: (ok) => metrics.callbackResult(ok),
  });
  approvals.onOutbox = () => worker.wake();
  const auditChannel = config.auditChannel;
  const checkpoints = new Checkpointer({
    store,
    audit,
    ...(auditChannel
      ? { onCheckpoint: (t, cp) => t.outbox.enqueue([items.checkpoint(auditChannel, cp)], cp.at) }
      : {}),
  });

  try {
    await slackApp.start();
  } catch (err) {
    await store.close();
    throw err;
  }
  const slackRoutes = slackApp.route ? [slackApp.route] : [];
  const server = createHttpServer({
    routes: [
      ...instrumentRoutes(routes, metrics),
      metricsRoute(metrics, config.metricsToken),
      cliFileRoute(),
      jwksRoute({ keys: () => publishedKeys(store), now, log }),
      ...slackRoutes,
      ...(opts.routes ?? []),
    ],
    log,
    ...(opts.httpLimits ? { limits: opts.httpLimits } : {}),
  });
  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  const sweepDeps = { approvals, log, now };
  // Requests that fell due while the server was down are expired at once, not a tick later.
  await sweepOnce(sweepDeps);
  const task: ScheduledTask = scheduleSweep(config.expiryCron, sweepDeps);
  // Expiry at the deadline itself; the cron above is the safety sweep.
  // With PostgreSQL other replicas create requests too (and may die before their deadline): every
  // replica polls the next deadline, so each request expires on time whichever replica is left.
  const expiry = new ExpiryTimer({
    ...sweepDeps,
    nextDeadline: () => store.requests.nextPendingDeadline(),
    ...(store.dialect === 'postgres' ? { pollMs: DEADLINE_POLL_MS } : {}),
  });
  approvals.onPending = (r) => expiry.arm(r.expiresAt);
  expiry.start();
  worker.start();
  const checkpointTimer = checkpoints.schedule({
    intervalMs: opts.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS,
    now,
    onError: (err) => log.error('audit checkpoint failed', { error: err }),
    afterTake: () => worker.wake(),
  });
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  // Channels that do not exist or lack the bot, and missing scopes: logged now, with the fix.
  const workspaceChecked = logWorkspaceProblems({
    client: app.client,
    log,
    channels: configuredChannels(config, policy),
    scopes: { granted: grantedScopes, wanted: manifestBotScopes },
  });
  log.info(`countersign listening on ${config.host}:${port} (pid ${process.pid})`, {
    port,
    host: config.host,
    pid: process.pid,
    slack: config.slackAppToken !== null ? 'socket mode' : 'http',
    team: workspace.teamId,
    signingKey: key.keyId,
    policy: policy?.hash ?? null,
  });

  let stopping: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    approvals,
    store,
    worker,
    audit,
    checkpoints,
    async reloadPolicy() {
      if (!config.policyPath) return ['COUNTERSIGN_POLICY is not set; there is no policy file to reload'];
      const loaded = loadPolicyFile(config.policyPath);
      const errors =
        'errors' in loaded
          ? loaded.errors
          : config.defaultChannel === null && loaded.policy.defaults.channel === null
            ? [
                `${config.policyPath}: defaults.channel is required while COUNTERSIGN_DEFAULT_CHANNEL is not set`,
              ]
            : [];
      if ('errors' in loaded || errors.length > 0) {
        log.error('policy reload refused; the previous policy stays in force', { errors });
        return errors;
      }
      approvals.policy = loaded.policy;
      void logWorkspaceProblems({
        client: app.client,
        log,
        channels: configuredChannels(config, loaded.policy),
      });
      await store.transaction((t) =>
        audit.append(
          t,
          {
            type: 'config.policy_reloaded',
            actor: 'system',
            data: { path: config.policyPath, hash: loaded.policy.hash },
          },
          now(),
        ),
      );
      log.info('policy reloaded', { hash: loaded.policy.hash });
      return [];
    },
    stop(stopOpts = {}) {
      stopping ??= (async () => {
        accepting = false;
        await workspaceChecked;
        // Slack sends new interactions to another connection (or replica) from now on.
        await slackApp.stop();
        checkpointTimer.stop();
        await task.stop();
        expiry.stop();
        approvals.decisions.notifyAll();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const left = await worker.drain(stopOpts.drainMs ?? 3000);
        await worker.stop();
        server.closeAllConnections();
        await closed;
        await refusals.flush(); // no call can be refused any more
        // Nothing records events any more, so the final checkpoint covers the whole log; post it
        // to the audit channel before exiting (the worker runs once more, briefly).
        try {
          if ((await checkpoints.take(now(), 'shutdown')) && auditChannel) {
            worker.start();
            await worker.drain(stopOpts.drainMs ?? 3000);
            await worker.stop();
          }
        } catch (err) {
          log.error('final audit checkpoint failed', { error: err });
        }
        if (left > 0) log.warn('outbox rows left for the next start', { rows: left });
        await store.close();
        log.info('countersign stopped');
      })();
      return stopping;
    },
  };
}
