import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { WebClient } from '@slack/web-api';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { manifestBotScopes } from '../slack/manifest-scopes.js';
import {
  type CheckResult,
  checkAppToken,
  checkChannel,
  checkClock,
  checkPerson,
  checkScopes,
  checkToken,
  configuredChannels,
  configuredPeople,
} from '../slack/workspace-checks.js';
import { checkPolicy, checkPostgres, checkSigningKey, checkSqlite } from './doctor-local.js';

export interface DoctorIo {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: NodeJS.WritableStream;
}

const HELP = `Usage: countersign doctor

Checks the server's configuration (environment and ./.env, as npm start reads them) against Slack
and this machine, one line per check with the fix for each failure: the bot token, its scopes
against manifest.yml, Socket Mode's app-level token, every configured channel (exists, bot is a
member), admins and policy approvers, the policy file, the database (writable, migrated), the
audit signing key, and the clock. Exit 0 when every check passes, 1 otherwise.
`;

/** The environment as the server sees it: ./.env under the real environment (which wins). */
function serverEnv(io: DoctorIo): Record<string, string | undefined> {
  const file = resolve(io.cwd, '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...io.env };
}

function line(r: CheckResult): string {
  const mark = { pass: 'ok  ', fail: 'FAIL', skip: 'skip' }[r.status];
  return `${mark}  ${r.name}: ${r.detail}${r.fix ? ` — fix: ${r.fix}` : ''}`;
}

/** Every check against one configuration, in the order a person would fix them. */
export async function runChecks(config: Config, emit: (r: CheckResult) => void): Promise<void> {
  const mode =
    config.slackAppToken !== null
      ? 'Socket Mode (no public URL needed)'
      : 'HTTP (Slack posts to /slack/events, verified with SLACK_SIGNING_SECRET)';
  emit({ name: 'configuration', status: 'pass', detail: `every variable is valid; Slack over ${mode}` });
  const { result: policyResult, policy } = checkPolicy(config.policyPath);
  emit(policyResult);
  emit(config.databaseUrl ? await checkPostgres(config.databaseUrl) : await checkSqlite(config.databasePath));
  emit(checkSigningKey(config.auditSigningKey, config.databasePath));

  const client = new WebClient(config.slackBotToken, {
    slackApiUrl: config.slackApiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
  });
  const token = await checkToken(client);
  emit(token.result);
  const slackChecks: { name: string; run: () => Promise<CheckResult> | CheckResult }[] = [
    { name: 'slack scopes', run: () => checkScopes(token.scopes, manifestBotScopes()) },
    ...configuredChannels(config, policy).map((c) => ({
      name: `channel ${c.id}`,
      run: () => checkChannel(client, c.id, c.roles),
    })),
    ...configuredPeople(config.admins, policy).map((p) => ({
      name: `${p.id.startsWith('S') ? 'user group' : 'user'} ${p.id}`,
      run: () => checkPerson(client, p.id, p.roles),
    })),
  ];
  for (const check of slackChecks) {
    if (token.workspace === null) {
      emit({
        name: check.name,
        status: 'skip',
        detail: 'not checked: the bot token does not work (see above)',
      });
    } else {
      emit(await check.run());
    }
  }
  if (config.slackAppToken !== null) emit(await checkAppToken(config.slackApiUrl, config.slackAppToken));
  emit(await checkClock(config.slackApiUrl));
}

export async function doctorCommand(argv: string[], io?: DoctorIo): Promise<number> {
  const out = io ?? { env: process.env, cwd: process.cwd(), stdout: process.stdout };
  const write = (text: string) => out.stdout.write(`${text}\n`);
  if (argv.includes('--help') || argv.includes('-h')) {
    out.stdout.write(HELP);
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig(serverEnv(out));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) {
      write(
        line({
          name: 'configuration',
          status: 'fail',
          detail: problem,
          fix: 'set it in the environment or .env (.env.example explains each variable)',
        }),
      );
    }
    write(`\n${err.problems.length} configuration problem(s); the other checks need a valid configuration.`);
    return 1;
  }
  let failed = 0;
  let total = 0;
  await runChecks(config, (r) => {
    total += 1;
    if (r.status !== 'pass') failed += 1;
    write(line(r));
  });
  write(failed === 0 ? `\nAll ${total} checks passed.` : `\n${failed} of ${total} checks did not pass.`);
  return failed === 0 ? 0 : 1;
}
