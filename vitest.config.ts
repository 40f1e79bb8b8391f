import { defineConfig, type TestProjectConfiguration } from 'vitest/config';
import { postgresProblem, redactUrl } from './bench/lib/pg-probe.js';

/**
 * The Slack component tests: they run twice, once with Slack reaching the server over HTTP
 * (`/slack/events`) and once over Socket Mode (project `socket-mode`, through the emulator's
 * WebSocket). The harness reads COUNTERSIGN_TEST_SLACK_MODE; other projects can set their own
 * variables (a store, say) the same way.
 */
export const SLACK_COMPONENT_TESTS = [
  'test/component/cards.test.ts',
  'test/component/commands.test.ts',
  'test/component/home.test.ts',
  'test/component/policy.test.ts',
  'test/component/review-rules.test.ts',
  'test/component/restart.test.ts',
  'test/component/spine.test.ts',
  'test/component/workspace.test.ts',
  'test/component/channel-visibility.test.ts',
  'test/component/requester-identity.test.ts',
  'test/component/redaction-reasons.test.ts',
  'test/component/expiry.test.ts',
  'test/component/delivery-error.test.ts',
];

/**
 * Component tests the `postgres` project leaves out, each for a reason of its own: they test the
 * SQLite file itself, or never open the product's store (the sandbox keeps its embedded SQLite;
 * the CLI and process tests talk to a server over HTTP or check local files).
 */
const NOT_ON_POSTGRES = [
  'test/component/backup.test.ts', // copies the SQLite file (PostgreSQL is backed up with pg_dump)
  'test/component/audit-cli.test.ts', // tampers with SQLite files and reads them with --database
  'test/component/doctor.test.ts', // checks a SQLite file's permissions and migrations
  'test/component/database-modes.test.ts', // the SQLite file's and folder's modes
  'test/component/redaction.test.ts', // reads the SQLite file's bytes for leaked secrets
  'test/component/process.test.ts', // child processes with their own DATABASE_PATH
  'test/component/process-signals.test.ts', // same
  'test/component/sandbox-page.test.ts', // the sandbox is the embedded SQLite default
  'test/component/sandbox-start.test.ts', // same
  'test/component/cli-bundle.test.ts', // the bundled CLI file, no store
  'test/component/cli-policy.test.ts', // policy files, no server
  'test/component/curl-example.test.ts', // request signing, same server code as the http project
  'test/component/fail-loudly.test.ts', // configuration refused before any store is opened
  'test/component/http-limits.test.ts', // HTTP edge limits, before any store call
  'test/component/examples-oidc.test.ts', // example scripts against the sandbox
];

export default defineConfig(async () => {
  // Set (as .ci/run does), PostgreSQL is required: a server that cannot be reached fails the run.
  const required = Boolean(process.env.COUNTERSIGN_TEST_DATABASE_URL?.trim());
  const url = process.env.COUNTERSIGN_TEST_DATABASE_URL?.trim() || 'postgres://root@127.0.0.1:5432/test';
  const failure = await postgresProblem(url);
  const problem = failure === null ? null : `${redactUrl(url)}: ${failure}`;
  if (problem !== null && required)
    throw new Error(`COUNTERSIGN_TEST_DATABASE_URL is set but PostgreSQL cannot be used: ${problem}`);
  // For the teardown (test/support/pg-global.ts), which runs in this process.
  process.env.COUNTERSIGN_PG_TEST_URL = url;
  if (problem !== null)
    process.stderr.write(`vitest: the postgres project is skipped: no PostgreSQL at ${problem}\n`);
  const projects: TestProjectConfiguration[] = [
    { extends: true, test: { name: 'http', include: ['test/**/*.test.ts'], exclude: ['test/cluster/**'] } },
    {
      extends: true,
      test: {
        name: 'socket-mode',
        include: SLACK_COMPONENT_TESTS,
        env: { COUNTERSIGN_TEST_SLACK_MODE: 'socket' },
      },
    },
  ];
  if (problem === null)
    projects.push({
      extends: true,
      test: {
        name: 'postgres',
        include: ['test/component/**/*.test.ts', 'test/cluster/**/*.test.ts'],
        exclude: NOT_ON_POSTGRES,
        env: { COUNTERSIGN_TEST_STORE: 'postgres', COUNTERSIGN_TEST_DATABASE_URL: url },
        globalSetup: ['test/support/pg-global.ts'],
      },
    });
  return {
    test: {
      testTimeout: 30_000,
      hookTimeout: 30_000,
      pool: 'forks',
      projects,
    },
  };
});
