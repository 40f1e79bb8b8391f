import { runSandbox } from '../sandbox/run.js';
import { effectiveEnv, SandboxUsageError, sandboxPort } from '../sandbox/start-rules.js';

export const SANDBOX_HELP = `countersign sandbox — the whole flow on this machine, with no Slack workspace

Usage: countersign sandbox [--port N]

Runs the real server together with an emulated Slack, on 127.0.0.1 only, and serves a page at
http://127.0.0.1:<port>/sandbox that shows the approvals channel, the App Home tab and /approvals.
Data goes to ./data/sandbox/ (its own database, audit key and policy file). While it runs,
"countersign request" and "countersign mcp" in this folder need no COUNTERSIGN_URL or
COUNTERSIGN_SECRET: they read ./data/sandbox/connection.json.

Options:
  --port N     the port to listen on (default: PORT from the environment or .env, else 3000)
  -h, --help   show this help

"npm start" runs the sandbox too when none of SLACK_BOT_TOKEN, SLACK_APP_TOKEN and
SLACK_SIGNING_SECRET is set; "countersign sandbox" runs it whatever is set.
`;

/** `countersign sandbox [--port N]`: -1 while it runs (it stops on a signal), else the exit code. */
export async function sandboxCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(SANDBOX_HELP);
    return 0;
  }
  const unknown = args.filter(
    (a, i) => !(a === '--port' || a.startsWith('--port=') || args[i - 1] === '--port'),
  );
  if (unknown.length > 0) {
    process.stderr.write(`countersign sandbox: unknown argument "${unknown[0]}"\n\n${SANDBOX_HELP}`);
    return 4;
  }
  const env = effectiveEnv(process.env, process.cwd());
  let port: number;
  try {
    port = sandboxPort(args, env);
  } catch (err) {
    if (!(err instanceof SandboxUsageError)) throw err;
    process.stderr.write(`countersign sandbox: ${err.message}\n`);
    return 4;
  }
  const code = await runSandbox({ cwd: process.cwd(), port, env });
  return code ?? -1;
}
