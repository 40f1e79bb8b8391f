import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Countersign, CountersignError, type RequestObject } from '../client/index.js';
import { type ClientConnection, clientFor, resolveClientConnection } from './client-auth.js';
import { ConnectionError } from './connection.js';
import {
  applyFlags,
  hasFieldFlags,
  parseRequestArgs,
  REQUEST_HELP,
  type RequestFlags,
  UsageError,
} from './request-args.js';
import { deliveryErrorLines, EXIT, what } from './request-display.js';
import { waitForOutcome } from './request-wait.js';

type Signal = 'SIGINT' | 'SIGTERM';

/** Everything `countersign request` touches outside itself, so tests can drive it in-process. */
export interface RequestIo {
  env: Record<string, string | undefined>;
  cwd: string;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Calls `handler` on Ctrl-C / SIGTERM until the returned function is called. */
  onSignal(handler: (signal: Signal) => void): () => void;
  fetch?: typeof fetch;
  /** How long to poll for the Slack link after the request is created (default 5 s). */
  linkWaitMs?: number;
}

export function processIo(): RequestIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    onSignal(handler) {
      const int = () => handler('SIGINT');
      const term = () => handler('SIGTERM');
      process.on('SIGINT', int);
      process.on('SIGTERM', term);
      return () => {
        process.off('SIGINT', int);
        process.off('SIGTERM', term);
      };
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The server and credentials for this client (see `resolveClientConnection`); a missing one is a usage error. */
function settings(io: RequestIo, flags: RequestFlags): ClientConnection {
  try {
    return resolveClientConnection(io.env, io.cwd, {
      url: flags.url,
      oidcToken: flags['oidc-token'],
      oidcAudience: flags['oidc-audience'],
    });
  } catch (err) {
    if (err instanceof ConnectionError) throw new UsageError(err.message);
    throw err;
  }
}

/** The exact JSON text to send. */
async function buildBody(io: RequestIo, flags: RequestFlags, bodyFromStdin: boolean): Promise<string> {
  const diffFromStdin = flags['diff-file'] === '-';
  const fileFromStdin = flags.file === '-' || bodyFromStdin;
  if (diffFromStdin && fileFromStdin) throw new UsageError('stdin can carry the body or the diff, not both');
  let text: string | null = null;
  let source = '';
  if (flags.file !== undefined && flags.file !== '-') {
    source = flags.file;
    text = readFileSync(resolve(io.cwd, flags.file), 'utf8');
  } else if (fileFromStdin || (!hasFieldFlags(flags) && !io.stdin.isTTY)) {
    source = 'stdin';
    text = await readAll(io.stdin);
    if (text.trim() === '' && !fileFromStdin) text = null;
  }
  let base: Record<string, unknown> = {};
  if (text !== null) {
    try {
      base = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`the body from ${source} is not valid JSON: ${(err as Error).message}`);
    }
    if (!base || typeof base !== 'object' || Array.isArray(base))
      throw new UsageError(`the body from ${source} must be a JSON object`);
  } else if (!hasFieldFlags(flags)) {
    throw new UsageError(
      'no request given: use --action, --title and --requester-email, or --file, or pipe JSON',
    );
  }
  // A body given whole (no field flags) is sent byte for byte: payload_sha256 is its SHA-256.
  if (text !== null && !hasFieldFlags(flags)) return text;
  let diff: string | undefined;
  if (flags['diff-file'] !== undefined) {
    diff = diffFromStdin
      ? await readAll(io.stdin)
      : readFileSync(resolve(io.cwd, flags['diff-file']), 'utf8');
  }
  return JSON.stringify(applyFlags(base, flags, diff));
}

/** Polls briefly until the card is posted and `slack_url` known (or the request is decided). */
async function withSlackLink(client: Countersign, r: RequestObject, ms: number): Promise<RequestObject> {
  const until = Date.now() + ms;
  let current = r;
  while (
    !current.slack_url &&
    !current.delivery_error &&
    current.status === 'pending' &&
    Date.now() < until
  ) {
    await sleep(200);
    try {
      current = await client.get(r.id);
    } catch {
      break;
    }
  }
  return current;
}

export async function requestCommand(argv: string[], io: RequestIo = processIo()): Promise<number> {
  const err = (line: string) => io.stderr.write(`${line}\n`);
  try {
    const { flags, bodyFromStdin } = parseRequestArgs(argv);
    if (flags.help) {
      io.stdout.write(REQUEST_HELP);
      return 0;
    }
    const connection = settings(io, flags);
    const body = await buildBody(io, flags, bodyFromStdin);
    const client = clientFor(connection, io.env, { retries: 4, ...(io.fetch ? { fetch: io.fetch } : {}) });
    let request = await client.requestApproval(
      body,
      flags['idempotency-key'] ? { idempotencyKey: flags['idempotency-key'] } : {},
    );
    if (!flags.json) io.stdout.write(`${request.id}\n`);
    err(`Approval requested: ${request.id} · ${what(request)}`);
    request = await withSlackLink(client, request, io.linkWaitMs ?? 5000);
    if (request.delivery_error) for (const line of deliveryErrorLines(request)) err(line);
    else err(request.slack_url ? `Slack: ${request.slack_url}` : 'Slack: the card is not posted yet');
    if (!flags.wait) {
      if (request.status !== 'pending') err(`It is already ${request.status}.`);
      if (flags.json) io.stdout.write(`${JSON.stringify(request, null, 2)}\n`);
      return 0;
    }
    return await waitForOutcome(client, request, flags, io);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`countersign request: ${e.message}`);
      err('Run "countersign request --help" for usage.');
    } else if (e instanceof CountersignError) {
      const setting =
        {
          bad_secret_format: 'COUNTERSIGN_SECRET: ',
          bad_url: 'COUNTERSIGN_URL: ',
          oidc_token_unavailable: 'OIDC: ',
        }[e.code] ?? '';
      err(`countersign request: ${setting}${e.message}`);
    } else {
      err(`countersign request: ${(e as Error).message}`);
    }
    return EXIT.error;
  }
}
