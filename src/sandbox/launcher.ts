/**
 * `countersign sandbox` (and `npm start` with no Slack credentials): the real server, unchanged,
 * plus the Slack emulator it talks to through SLACK_API_URL, on 127.0.0.1 only, with its own data
 * folder, a demo client, and the `/sandbox` page on the same port.
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Countersign, CountersignError } from '../client/index.js';
import { loadConfig } from '../config.js';
import { createLogger, type Level, type Logger } from '../log.js';
import { type RunningServer, type ServerOptions, startServer } from '../server.js';
import {
  connectionPath,
  removeConnectionFile,
  SANDBOX_DIR,
  sandboxConnection,
  writeConnectionFile,
} from './connection-file.js';
import { demoRequest } from './demo-requests.js';
import { type DemoResult, sandboxRoutes } from './page-routes.js';
import { PageState } from './page-state.js';
import { ADMIN_IDS, CHANNEL, demoDirectory, populate, RILEY } from './people.js';
import { messageDomId } from './render/surfaces.js';
import { ensurePolicyFile } from './sandbox-policy.js';
import { SlackEmulator } from './slack-emulator.js';
import { WorkspaceActions } from './workspace-actions.js';
import { keepWorkspace } from './workspace-file.js';

/** The sandbox never listens anywhere else, whatever HOST says. */
export const SANDBOX_HOST = '127.0.0.1';
export const DEMO_CLIENT = 'demo';

export interface SandboxOptions {
  /** The folder the sandbox runs from: its data goes to `<cwd>/data/sandbox/`. */
  cwd: string;
  /** 0 picks a free port. */
  port: number;
  logLevel?: Level;
  log?: Logger;
  /** Extra server options (tests shorten the outbox period). */
  server?: Pick<ServerOptions, 'outboxPollMs' | 'now'>;
}

export interface RunningSandbox {
  /** `http://127.0.0.1:<port>` */
  url: string;
  pageUrl: string;
  port: number;
  dataDir: string;
  connectionFile: string;
  /** The demo client's `whsec_` secret. */
  secret: string;
  server: RunningServer;
  slack: SlackEmulator;
  stop(): Promise<void>;
}

export class SandboxError extends Error {}

/** A port on 127.0.0.1 that is free now (0: any free one). */
function claimPort(port: number): Promise<number> {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        err.code === 'EADDRINUSE'
          ? new SandboxError(
              `port ${port} on ${SANDBOX_HOST} is already in use: stop what uses it, or pick another port (PORT=3001 npm start, or npx countersign sandbox --port 3001)`,
            )
          : err,
      ),
    );
    probe.listen(port, SANDBOX_HOST, () => {
      const { port: got } = probe.address() as { port: number };
      probe.close(() => ok(got));
    });
  });
}

const whsec = () => `whsec_${randomBytes(24).toString('base64')}`;

export async function startSandbox(opts: SandboxOptions): Promise<RunningSandbox> {
  const dataDir = resolve(opts.cwd, SANDBOX_DIR);
  const existing = sandboxConnection(opts.cwd);
  if (existing.kind === 'running' && existing.connection.pid !== process.pid) {
    throw new SandboxError(
      `a sandbox already runs from this folder (process ${existing.connection.pid}, ${existing.connection.url}/sandbox); use it, or stop it first`,
    );
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const port = await claimPort(opts.port);
  const url = `http://${SANDBOX_HOST}:${port}`;
  const policyPath = join(dataDir, 'policy.yml');
  ensurePolicyFile(policyPath);

  const slack = await new SlackEmulator().start();
  populate(slack);
  let workspace: ReturnType<typeof keepWorkspace>;
  try {
    workspace = keepWorkspace(slack, join(dataDir, 'workspace.json'));
  } catch (err) {
    await slack.stop();
    throw new SandboxError((err as Error).message);
  }
  slack.permalink = (_channel, ts) => `${url}/sandbox#${messageDomId(ts)}`;
  const signingSecret = randomBytes(24).toString('hex');
  const secret = whsec();
  const level = opts.logLevel ?? 'warn';
  const log = opts.log ?? createLogger(level);
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-sandbox-emulated',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.url,
    PORT: String(port),
    HOST: SANDBOX_HOST,
    DATABASE_PATH: join(dataDir, 'countersign.db'),
    COUNTERSIGN_CLIENTS: `${DEMO_CLIENT}=${secret}`,
    COUNTERSIGN_DEFAULT_CHANNEL: CHANNEL.id,
    COUNTERSIGN_ADMINS: ADMIN_IDS.join(','),
    COUNTERSIGN_POLICY: policyPath,
    COUNTERSIGN_CALLBACK_ALLOW: `http://${SANDBOX_HOST}`,
    LOG_LEVEL: level,
  });

  const actions = new WorkspaceActions(slack, { requestUrl: `${url}/slack/events`, signingSecret });
  const client = new Countersign({ url, secret, retries: 0 });
  const submitDemo = async (key: string): Promise<DemoResult> => {
    const demo = demoRequest(key);
    if (!demo) return { ok: false, status: 400, message: `no demo request "${key}"` };
    try {
      const created = await client.requestApproval(demo.body());
      return { ok: true, id: created.id };
    } catch (err) {
      const status = err instanceof CountersignError && err.status !== null ? err.status : 502;
      return { ok: false, status: status >= 500 ? 502 : status, message: (err as Error).message };
    }
  };
  const page = sandboxRoutes({
    slack,
    actions,
    state: new PageState(slack, demoDirectory(slack)),
    port,
    submitDemo,
    log,
  });

  let server: RunningServer;
  try {
    server = await startServer(config, { log, logLevel: level, routes: page.routes, ...opts.server });
  } catch (err) {
    workspace.close();
    await slack.stop();
    throw err;
  }
  const file = connectionPath(opts.cwd);
  writeConnectionFile(file, { url, client: DEMO_CLIENT, secret, pid: process.pid });

  let stopping: Promise<void> | null = null;
  return {
    url,
    pageUrl: `${url}/sandbox`,
    port,
    dataDir,
    connectionFile: file,
    secret,
    server,
    slack,
    stop() {
      stopping ??= (async () => {
        removeConnectionFile(file, process.pid);
        page.closeStreams();
        await server.stop({ drainMs: 1000 });
        workspace.close();
        await slack.stop();
      })();
      return stopping;
    },
  };
}

/** What the sandbox prints when it is ready: what it is, where to look, how to try the CLI, how to go real. */
export function sandboxBanner(s: Pick<RunningSandbox, 'pageUrl' | 'dataDir'>, notes: string[] = []): string {
  const lines = [
    '',
    'Countersign sandbox: the real server with an emulated Slack, on this machine only.',
    '',
    `  Open ${s.pageUrl}`,
    '',
    '  No Slack workspace is involved. The page is the #approvals channel, the App Home tab and',
    '  /approvals, rendered from exactly what the server sends Slack; your clicks reach the server',
    '  signed and shaped as Slack sends them. Press "New demo request", switch "Acting as" to an',
    '  approver, and approve.',
    `  Data: ${s.dataDir} (its own database, audit key and policy.yml; delete it to start over).`,
    '',
    '  Try the CLI from this folder (no configuration needed while the sandbox runs):',
    `    npx countersign request --wait --action deploy.service --environment production \\`,
    `      --title "Deploy api 1.5.0 to production" --requester-email ${RILEY.email}`,
    '  Agents: npx countersign mcp (an MCP server on stdio, same connection), and the MCP gateway',
    '  in front of an example tool server: node examples/mcp/demo.mjs (from this folder).',
    '',
    '  Go real: create the Slack app from manifest.yml, put SLACK_BOT_TOKEN and either',
    '  SLACK_APP_TOKEN (Socket Mode: no public URL needed) or SLACK_SIGNING_SECRET (HTTP) in .env,',
    '  and run npm start again. Any Slack variable set means the real thing, never the sandbox.',
    ...notes.map((n) => `  Note: ${n}`),
    '',
    '  Ctrl-C stops the sandbox.',
    '',
  ];
  return `${lines.join('\n')}\n`;
}
