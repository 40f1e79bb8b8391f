import { parseArgs } from 'node:util';
import { Countersign, CountersignError } from '../client/index.js';
import { ConnectionError, resolveConnection } from './connection.js';
import { EXIT, outcome } from './request-display.js';

export const CANCEL_HELP = `countersign cancel — withdraw a pending approval request

Usage:
  countersign cancel <request id> [--reason <text>] [--json]

  The card in Slack shows that it was cancelled (and why), and the request's callback, if any,
  is sent. Only the client that created the request may cancel it.

Options:
  --reason <text>   why (shown on the card; up to 500 characters)
  --json            print the request object as JSON on stdout
  --url <url>       the server's base URL (overrides COUNTERSIGN_URL)
  -h, --help        show this help

Environment (also read from ./.env when present; the environment wins):
  COUNTERSIGN_URL, COUNTERSIGN_SECRET, as for countersign request.

Exit codes:
  0  cancelled (also when this client had already cancelled it)
  1  too late: the request was already approved, denied, expired or cancelled by someone else
  4  usage error, unknown request, bad configuration or a server error
`;

export interface CancelIo {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  fetch?: typeof fetch;
}

export async function cancelCommand(argv: string[], io?: CancelIo): Promise<number> {
  const out: CancelIo = io ?? {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
  };
  const err = (line: string) => out.stderr.write(`${line}\n`);
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (e) {
    err(`countersign cancel: ${(e as Error).message}`);
    err('Run "countersign cancel --help" for usage.');
    return EXIT.error;
  }
  if (args.values.help) {
    out.stdout.write(CANCEL_HELP);
    return 0;
  }
  const [id, ...extra] = args.positionals;
  if (!id || extra.length > 0) {
    err(
      'countersign cancel: give exactly one request id, e.g. countersign cancel req_01J... --reason "not needed"',
    );
    return EXIT.error;
  }
  try {
    const { url, secret } = resolveConnection(out.env, out.cwd, args.values.url);
    const client = new Countersign({ url, secret, retries: 4, ...(out.fetch ? { fetch: out.fetch } : {}) });
    const r = await client.cancel(id, args.values.reason);
    if (args.values.json) out.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    err(`Cancelled ${id}${r.reason ? `: ${r.reason}` : ''}.`);
    return 0;
  } catch (e) {
    if (e instanceof CountersignError && e.code === 'already_decided' && e.request) {
      err(`Too late to cancel: ${id} is already ${e.request.status}.`);
      if (e.request.status !== 'pending') {
        for (const line of outcome(e.request as Parameters<typeof outcome>[0]).lines) err(line);
      }
      if (args.values.json) out.stdout.write(`${JSON.stringify(e.request, null, 2)}\n`);
      return 1;
    }
    if (e instanceof CountersignError && e.code === 'not_found') {
      err(`countersign cancel: no request ${id} for this client (check the id and COUNTERSIGN_SECRET)`);
      return EXIT.error;
    }
    if (e instanceof ConnectionError) {
      err(`countersign cancel: ${e.message}`);
      return EXIT.error;
    }
    err(`countersign cancel: ${(e as Error).message}`);
    return EXIT.error;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      reason: { type: 'string' },
      json: { type: 'boolean' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
