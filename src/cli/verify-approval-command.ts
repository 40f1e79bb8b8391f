import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { JSONWebKeySet } from 'jose';
import { CountersignError, fetchJwks, verifyApproval } from '../client/index.js';
import { isJwks } from '../client/verify-approval.js';
import { settingReader } from './connection.js';

export const VERIFY_HELP = `countersign verify-approval — check an approval attestation before acting on it

Usage:
  countersign verify-approval <token | @file | -> [--payload <file>] [--action <a>] [--jwks <url|file>] [--json]

  The attestation is the "attestation" of an approved request: give the token itself, @file (a file
  holding the token, or a request object as printed by "countersign request --json"), or - (stdin).

Checks (all must hold):
  signature   EdDSA, by a key of the server's JWKS, typ countersign-approval+jwt
  expiry      the approval is still valid (policy sets how long: 15 minutes by default)
  payload     with --payload <file>: the file's SHA-256 is the approved payload_sha256 ("-": stdin)
  action      with --action <a>: the approval is for that action

Options:
  --jwks <url|file>   the keys: a URL or a JSON file (default: $COUNTERSIGN_URL/.well-known/jwks.json).
                      Never trust a JWKS named by the token itself.
  --json              print the attestation's claims (or the failures) as JSON on stdout
  -h, --help          show this help

Exit codes:
  0  every check holds: act on exactly the payload you checked
  1  a check failed; each failure is named on stderr
  4  usage error, or the keys cannot be read (nothing was checked)
`;

export interface VerifyIo {
  env: Record<string, string | undefined>;
  cwd: string;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  fetch?: typeof fetch;
  /** The clock for expiry (default now). */
  now?: () => number;
}

class UsageError extends Error {}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

function readFile(io: VerifyIo, path: string, what: string): Buffer {
  try {
    return readFileSync(resolve(io.cwd, path));
  } catch (err) {
    throw new UsageError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** The token from its text: a compact JWS, or a request object that carries one. */
function tokenOf(text: string, source: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: { attestation?: unknown; id?: unknown; status?: unknown };
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new UsageError(`${source} is neither a token nor a request object (invalid JSON)`);
    }
    if (typeof parsed.attestation === 'string') return parsed.attestation;
    throw new UsageError(
      `${source} is a request object without an attestation${typeof parsed.status === 'string' ? ` (it is ${parsed.status})` : ''}`,
    );
  }
  if (trimmed === '') throw new UsageError(`${source} is empty`);
  return trimmed;
}

async function keysFrom(io: VerifyIo, jwks: string | undefined): Promise<JSONWebKeySet> {
  const base = settingReader(io.env, io.cwd)('COUNTERSIGN_URL');
  const where = jwks ?? (base ? `${base.replace(/\/+$/, '')}/.well-known/jwks.json` : undefined);
  if (where === undefined)
    throw new UsageError("give --jwks <url|file>, or set COUNTERSIGN_URL to use the server's keys");
  if (/^https?:\/\//.test(where)) return fetchJwks(where, io.fetch);
  let doc: unknown;
  try {
    doc = JSON.parse(readFile(io, where, 'the JWKS file').toString('utf8'));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`the JWKS file ${where} is not JSON`);
  }
  if (!isJwks(doc)) throw new UsageError(`the JWKS file ${where} is not a JWKS ({"keys": [...]})`);
  return doc;
}

export async function verifyApprovalCommand(argv: string[], io: VerifyIo): Promise<number> {
  const err = (line: string) => io.stderr.write(`${line}\n`);
  try {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(argv);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout.write(VERIFY_HELP);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? 'give the attestation: a token, @file or -'
          : `unexpected argument "${positionals[1]}"`,
      );
    }
    const arg = positionals[0] as string;
    if (arg === '-' && values.payload === '-')
      throw new UsageError('stdin can carry the token or the payload, not both');
    const token =
      arg === '-'
        ? tokenOf((await readAll(io.stdin)).toString('utf8'), 'stdin')
        : arg.startsWith('@')
          ? tokenOf(readFile(io, arg.slice(1), 'the token file').toString('utf8'), arg.slice(1))
          : tokenOf(arg, 'the token');
    const payload =
      values.payload === undefined
        ? undefined
        : values.payload === '-'
          ? await readAll(io.stdin)
          : readFile(io, values.payload, 'the payload file');
    const jwks = await keysFrom(io, values.jwks);
    const result = await verifyApproval(token, {
      jwks,
      ...(payload === undefined ? {} : { payload }),
      ...(values.action === undefined ? {} : { action: values.action }),
      ...(io.now ? { now: io.now() } : {}),
    });
    if (values.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (!result.ok) {
      for (const f of result.failures) err(`verify-approval: FAILED ${f.check}: ${f.message}`);
      return 1;
    }
    const c = result.claims;
    const checked = [
      'signature',
      'expiry',
      ...(payload ? ['payload'] : []),
      ...(values.action ? ['action'] : []),
    ];
    err(
      `verify-approval: OK (${checked.join(', ')}): ${c.sub} approves ${c.action}` +
        `${c.environment ? ` in ${c.environment}` : ''} for client ${c.client}, ` +
        `approved by ${c.approvers.length > 0 ? c.approvers.join(', ') : 'policy (auto_approve)'}, ` +
        `valid until ${new Date(c.exp * 1000).toISOString()}`,
    );
    if (!payload)
      err(
        `verify-approval: note: the payload was not checked; pass --payload to bind it (sha256 ${c.payload_sha256})`,
      );
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`countersign verify-approval: ${e.message}`);
      err('Run "countersign verify-approval --help" for usage.');
    } else if (e instanceof CountersignError) {
      err(`countersign verify-approval: ${e.message}`);
    } else {
      throw e;
    }
    return 4;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      payload: { type: 'string' },
      jwks: { type: 'string' },
      action: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
