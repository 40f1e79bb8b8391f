import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScheduledTask } from 'node-cron';
import { items } from './approvals/outbox-items.js';
import { Approvals } from './approvals/service.js';
import { AuditLog } from './audit/audit-log.js';
import { CHECKPOINT_INTERVAL_MS, Checkpointer } from './audit/checkpoints.js';
import { loadSigningKey } from './audit/keys.js';
import type { Config } from './config.js';
import type { Policy } from './core/policy.js';
import { apiRoutes } from './http/api-routes.js';
import { scheduleSweep, sweepOnce } from './jobs/sweep.js';
import { createLogger, type Level, type Logger } from './log.js';
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
import { registerViews } from './slack/views.js';
import { pinWorkspace } from './slack/workspace.js';
import { type OpenDatabase, openDatabase } from './store/db.js';
import { ListingRepo } from './store/listing-repo.js';
import { StatsRepo } from './store/stats-repo.js';

export interface ServerOptions {
  now?: () => number;
  log?: Logger;
  logLevel?: Level;
  /** Outbox timer period (tests shorten it). */
  outboxPollMs?: number;
  callbackTimeoutMs?: number;
  /** Period of the audit checkpoint timer (default 10 minutes; tests shorten it). */
  checkpointIntervalMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  approvals: Approvals;
  database: OpenDatabase;
  worker: OutboxWorker;
  audit: AuditLog;
  /** Signed audit checkpoints: taken periodically and on stop; `take()` for one now. */
  checkpoints: Checkpointer;
  /** Re-reads the policy file; on error keeps the old policy and returns the problems. */
  reloadPolicy(): string[];
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
  const key = loadSigningKey(config.auditSigningKey, config.databasePath);
  const database = openDatabase(config.databasePath);
  const audit = new AuditLog(database.db, key);
  database.tx(() => {
    audit.registerKey(now());
    audit.recordPolicyInForce(
      policy && config.policyPath ? { path: config.policyPath, hash: policy.hash } : null,
      now(),
    );
  });

  const approvals = new Approvals({ database, audit, defaultChannel: config.defaultChannel, policy });
  let accepting = true;
  const routes = apiRoutes({
    approvals,
    clients: config.clients,
    callbackAllow: config.callbackAllow,
    now,
    log,
    accepting: () => accepting,
  });
  const { app } = createSlackApp({ config, routes, log, level, now });
  registerInputGuard(app, log);
  // Who may vote: members of the workspace the token belongs to (nobody until this is known).
  try {
    approvals.workspace = await pinWorkspace(app.client);
  } catch (err) {
    database.close();
    throw err;
  }
  const identity = new Identity(app.client, { now });
  const voteDeps = { approvals, identity, now, log };
  const readDeps = {
    ...voteDeps,
    listing: new ListingRepo(database.db),
    stats: new StatsRepo(database.db),
    admins: config.admins,
  };
  const home = registerHome(app, readDeps);
  registerActions(app, voteDeps, home);
  registerViews(app, voteDeps);
  registerCommands(app, { ...readDeps, verifyAudit: auditVerifier(database, log) });

  const slack = new SlackDelivery({ client: app.client, approvals, database, audit, identity, log, now });
  const worker = new OutboxWorker({
    approvals,
    database,
    audit,
    slack,
    clients: config.clients,
    log,
    now,
    ...(opts.outboxPollMs !== undefined ? { pollMs: opts.outboxPollMs } : {}),
    ...(opts.callbackTimeoutMs !== undefined ? { callbackTimeoutMs: opts.callbackTimeoutMs } : {}),
  });
  approvals.onOutbox = () => worker.wake();
  const auditChannel = config.auditChannel;
  const checkpoints = new Checkpointer({
    database,
    audit,
    ...(auditChannel
      ? { onCheckpoint: (cp) => approvals.outbox.enqueue([items.checkpoint(auditChannel, cp)], cp.at) }
      : {}),
  });

  const server = (await app.start({ port: config.port, host: config.host })) as Server;
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  const sweepDeps = { approvals, log, now };
  // Requests that fell due while the server was down are expired at once, not a tick later.
  await sweepOnce(sweepDeps);
  const task: ScheduledTask = scheduleSweep(config.expiryCron, sweepDeps);
  worker.start();
  const checkpointTimer = checkpoints.schedule({
    intervalMs: opts.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS,
    now,
    onError: (err) => log.error('audit checkpoint failed', { error: err }),
    afterTake: () => worker.wake(),
  });
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  log.info('countersign listening', {
    port,
    host: config.host,
    signingKey: key.keyId,
    policy: policy?.hash ?? null,
  });

  let stopping: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    approvals,
    database,
    worker,
    audit,
    checkpoints,
    reloadPolicy() {
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
      database.tx(() =>
        audit.append(
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
        checkpointTimer.stop();
        await task.stop();
        approvals.decisions.notifyAll();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const left = await worker.drain(stopOpts.drainMs ?? 3000);
        await worker.stop();
        server.closeAllConnections();
        await closed;
        // Nothing records events any more, so the final checkpoint covers the whole log; post it
        // to the audit channel before exiting (the worker runs once more, briefly).
        try {
          if (checkpoints.take(now(), 'shutdown') && auditChannel) {
            worker.start();
            await worker.drain(stopOpts.drainMs ?? 3000);
            await worker.stop();
          }
        } catch (err) {
          log.error('final audit checkpoint failed', { error: err });
        }
        if (left > 0) log.warn('outbox rows left for the next start', { rows: left });
        database.close();
        log.info('countersign stopped');
      })();
      return stopping;
    },
  };
}
