import { type ParseArgsConfig, parseArgs } from 'node:util';

export const REQUEST_HELP = `countersign request — ask for approval from a pipeline or script, and optionally wait for it

Usage:
  countersign request --action <a> --title <t> --requester-email <e> [fields] [--wait]
  countersign request --file body.json [fields] [--wait]
  cat body.json | countersign request [--wait]
  cat body.json | countersign request - [fields] [--wait]

  The JSON body is read from stdin when "-" (or --file -) is given, or when stdin is piped and
  neither --file nor any field flag is given. A body given whole (no field flags) is sent byte
  for byte, so the approved payload_sha256 equals "sha256sum body.json".

The request (CONTRACT §3 fields; flags override or add to a JSON body from --file or stdin):
  --action <name>              required: what will run, e.g. db.export (a-z 0-9 . _ : -)
  --title <text>               required: one line for the Slack card (up to 150 chars)
  --requester-email <email>    the human accountable for the action (this, or
  --requester-slack-id <U...>    the Slack user ID, or both, is required)
  --requester-name <name>
  --summary <mrkdwn>           up to 3000 chars of Slack mrkdwn
  --resource <text>            what the action touches, e.g. postgres://prod/customers
  --environment <name>         e.g. production
  --risk <level>               low | medium | high | critical (default medium)
  --context key=value          repeatable; values are sent as strings (use --file for numbers)
  --link "text=url"            repeatable, up to 5, e.g. --link "Build log=https://ci.example/run/42"
  --diff-file <path>           a unified diff to show reviewers ("-" reads it from stdin)
  --min-approvals <n>          distinct approvals needed, 1-10 (policy may raise it)
  --ttl <duration>             time to decide: seconds, or 90s, 30m, 2h, 7d (default 1h)
  --callback-url <url>         where the outcome is POSTed, signed (must be allowed by the server)
  --approver <U...>            repeatable: only these Slack users may decide
  --approver-group <S...>      repeatable: only members of these Slack user groups may decide
  -f, --file <path>            read the JSON body from a file ("-" for stdin)

Behaviour:
  -w, --wait                   wait for the decision and exit with its code (below)
  --consume                    with --wait: once approved, mark the approval as used (POST .../consume),
                               so it runs once; exit 4 if it was already used (a re-run of the same request)
  --json                       print the final request object as JSON on stdout
  --cancel-on-interrupt        on Ctrl-C or SIGTERM while waiting, cancel the request without asking
  --idempotency-key <key>      the webhook-id of the POST; run again with the same key and the same
                               body and you get the same request back, not a second card
                               (e.g. "deploy-$GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT")
  --url <url>                  the server's base URL (overrides COUNTERSIGN_URL)
  --oidc-token <token|@file>   authenticate with a CI identity token (OIDC) instead of COUNTERSIGN_SECRET
  --oidc-audience <aud>        the audience of GitHub ID tokens fetched automatically (default
                               COUNTERSIGN_OIDC_AUDIENCE, else countersign)
  -h, --help                   show this help

Environment (also read from ./.env when present; the environment wins):
  COUNTERSIGN_URL              the server's base URL, e.g. https://countersign.internal
  COUNTERSIGN_SECRET           this client's whsec_... secret (one entry of the server's COUNTERSIGN_CLIENTS)
  COUNTERSIGN_OIDC_TOKEN       a CI identity token to send instead (e.g. a GitLab id_tokens variable)
  In GitHub Actions with "permissions: id-token: write" and no secret, an ID token is fetched from
  GitHub (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN) for each call: no stored secret at all.

Output:
  stdout   the request id (one line), or with --json the request object (the final one with --wait)
  stderr   what happens, for people: the Slack link, then while waiting a live status line on a
           terminal (what it waits for, the Slack link, time left), plain log lines otherwise;
           finally the outcome, with the deny reason and who denied
  The POST is retried on network errors and 5xx with the same webhook-id, so a retry never
  creates a second request. While waiting, network errors and server restarts are ridden out.

Ctrl-C while waiting:
  on a terminal it asks "Cancel the request? [y/N]": y cancels it (exit 3), anything else leaves
  it pending in Slack (exit 130). With --cancel-on-interrupt it cancels without asking (exit 3).
  Without a terminal and without --cancel-on-interrupt the request is left pending (exit 130;
  143 for SIGTERM). If the request was decided meanwhile, the exit code is that decision's.

Exit codes:
  0  approved (or, without --wait, the request was created)
  1  denied (the reason and who denied are printed)
  2  expired: nobody decided in time
  3  cancelled
  4  usage error, bad configuration or a server error (401: the secret is wrong or the clock is off),
     or, with --wait, Slack cannot show the request (delivery_error: the message says what to fix)
  130 / 143  interrupted while waiting; the request is left pending

Examples:
  countersign request --wait --action deploy.production --title "Deploy web v2.3.1" \\
    --requester-email "$GITHUB_ACTOR@example.com" --environment production --risk high \\
    --link "Run=$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
  git diff main -- infra/ | countersign request --diff-file - --action terraform.apply \\
    --title "Apply infra changes" --requester-slack-id U012ABCDEF --wait --json
`;

const options = {
  action: { type: 'string' },
  title: { type: 'string' },
  'requester-email': { type: 'string' },
  'requester-slack-id': { type: 'string' },
  'requester-name': { type: 'string' },
  summary: { type: 'string' },
  resource: { type: 'string' },
  environment: { type: 'string' },
  risk: { type: 'string' },
  context: { type: 'string', multiple: true },
  link: { type: 'string', multiple: true },
  'diff-file': { type: 'string' },
  'min-approvals': { type: 'string' },
  ttl: { type: 'string' },
  'callback-url': { type: 'string' },
  approver: { type: 'string', multiple: true },
  'approver-group': { type: 'string', multiple: true },
  file: { type: 'string', short: 'f' },
  wait: { type: 'boolean', short: 'w' },
  json: { type: 'boolean' },
  'cancel-on-interrupt': { type: 'boolean' },
  'idempotency-key': { type: 'string' },
  url: { type: 'string' },
  'oidc-token': { type: 'string' },
  'oidc-audience': { type: 'string' },
  consume: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export type RequestFlags = ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];

export class UsageError extends Error {}

export interface ParsedRequestArgs {
  flags: RequestFlags;
  /** "-" given as a positional: the body comes from stdin. */
  bodyFromStdin: boolean;
}

export function parseRequestArgs(argv: string[]): ParsedRequestArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const extra = parsed.positionals.filter((p) => p !== '-');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (parsed.values.consume && !parsed.values.wait) {
    throw new UsageError('--consume needs --wait: the approval is consumed once it is given');
  }
  return { flags: parsed.values, bodyFromStdin: parsed.positionals.includes('-') };
}

/** Seconds from `600`, `90s`, `30m`, `2h` or `7d`. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--ttl "${text}" is not a duration such as 600, 90s, 30m, 2h or 7d`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

function keyValue(flag: string, text: string): [string, string] {
  const i = text.indexOf('=');
  if (i <= 0) throw new UsageError(`${flag} "${text}" must look like key=value`);
  return [text.slice(0, i), text.slice(i + 1)];
}

function link(text: string): { text: string; url: string } {
  // The URL starts at the first "=http"; the text may itself hold "=" only before that.
  const m = /^(.+?)=(https?:\/\/.*)$/.exec(text);
  if (!m) throw new UsageError(`--link "${text}" must look like "text=https://..."`);
  return { text: m[1] as string, url: m[2] as string };
}

/** True when any flag that sets a field of the body is given. */
export function hasFieldFlags(f: RequestFlags): boolean {
  const fields = [
    'action',
    'title',
    'requester-email',
    'requester-slack-id',
    'requester-name',
    'summary',
    'resource',
    'environment',
    'risk',
    'context',
    'link',
    'diff-file',
    'min-approvals',
    'ttl',
    'callback-url',
    'approver',
    'approver-group',
  ] as const;
  return fields.some((k) => f[k] !== undefined);
}

/** Lays the field flags over a base body (from --file or stdin). `diff` is the --diff-file content. */
export function applyFlags(
  base: Record<string, unknown>,
  f: RequestFlags,
  diff: string | undefined,
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...base };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) body[key] = value;
  };
  set('action', f.action);
  set('title', f.title);
  if (f['requester-email'] || f['requester-slack-id'] || f['requester-name']) {
    const requester = { ...((base.requester as Record<string, unknown> | undefined) ?? {}) };
    if (f['requester-email'] !== undefined) requester.email = f['requester-email'];
    if (f['requester-slack-id'] !== undefined) requester.slack_user_id = f['requester-slack-id'];
    if (f['requester-name'] !== undefined) requester.name = f['requester-name'];
    body.requester = requester;
  }
  set('summary', f.summary);
  set('resource', f.resource);
  set('environment', f.environment);
  set('risk', f.risk);
  if (f.context) {
    const context = { ...((base.context as Record<string, unknown> | undefined) ?? {}) };
    for (const kv of f.context) {
      const [k, v] = keyValue('--context', kv);
      context[k] = v;
    }
    body.context = context;
  }
  if (f.link) body.links = [...((base.links as unknown[] | undefined) ?? []), ...f.link.map(link)];
  set('diff', diff);
  if (f['min-approvals'] !== undefined) {
    if (!/^\d+$/.test(f['min-approvals'])) throw new UsageError('--min-approvals must be a whole number');
    body.min_approvals = Number(f['min-approvals']);
  }
  if (f.ttl !== undefined) body.ttl_seconds = parseDuration(f.ttl);
  set('callback_url', f['callback-url']);
  if (f.approver || f['approver-group']) {
    const approvers = { ...((base.approvers as Record<string, unknown> | undefined) ?? {}) };
    if (f.approver) approvers.users = f.approver;
    if (f['approver-group']) approvers.groups = f['approver-group'];
    body.approvers = approvers;
  }
  return body;
}
