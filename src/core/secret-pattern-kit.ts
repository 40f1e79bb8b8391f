/**
 * The pieces the secret patterns are built from (secret-patterns-*.ts): the pattern type, the
 * markers, the key names that announce a secret, and what counts as a placeholder.
 *
 * Every regex has the flags `g` and `d` and names the part to mask with a group called `secret`
 * (or `secretDq` / `secretSq` for a quoted value). Only that group is replaced, by `marker`;
 * whatever else the regex matches (a token's well-known prefix, `password=`, `postgres://user:`)
 * stays, so a reader can still tell what was there: `ghp_…[redacted]`, `password=[redacted]`.
 *
 * Linear time: redaction runs on 1 MiB diffs from an untrusted caller, and V8's regex engine
 * backtracks, so the work spent at each position where a match is attempted must not grow with the
 * input (test/unit/redact-linear.test.ts runs each pattern on 1 MiB of input built to defeat it):
 * - a pattern starts with a literal anchor (a vendor prefix, a key name, `://`, `-----BEGIN `);
 * - when its body can contain the anchor's own characters (`xoxb-` inside `[A-Za-z0-9-]`), it
 *   checks `tokenStart` after it, so a match only starts where a run of token characters starts (or
 *   after that run's first word): a run is then scanned from at most two starts instead of from
 *   every copy of the anchor inside it;
 * - every repetition is bounded, adjacent repetitions use disjoint classes (`[ \t]{0,16}` then
 *   `[^\s]`), and no quantifier is nested over an overlapping class;
 * - `accept` and `normalize` stay linear in the candidate (no unanchored `x+$`).
 * No pattern may match a line break (multi-line PEM blocks are handled in redact-lines.ts).
 *
 * `source` names where the pattern comes from: gitleaks rule ids (config/gitleaks.toml of
 * github.com/gitleaks/gitleaks, checked in 2026-07) where one exists, else the vendor's format.
 */
export interface SecretPattern {
  kind: string;
  /** The maintained rule(s) this pattern follows, e.g. `gitleaks: github-pat, github-oauth`. */
  source: string;
  regex: RegExp;
  /** Replaces the secret group. */
  marker: string;
  /** Last check on a candidate (`quoted`: it came from a `secretDq` / `secretSq` group); false leaves it alone. */
  accept?: (secret: string, quoted: boolean) => boolean;
  /** The value that counts as "one secret" (so the same key in two shapes counts once). */
  normalize?: (secret: string) => string;
}

/** Shown after a kept vendor prefix: `AKIA…[redacted]`. */
export const TOKEN_MARKER = '…[redacted]';
/** Replaces a whole value: `password=[redacted]`. */
export const VALUE_MARKER = '[redacted]';
export const KEY_MARKER = '[redacted private key]';
/** Replaces one line of a multi-line private key. */
export const KEY_LINE_MARKER = '[redacted private key line]';

/**
 * Placed right after a token's anchor `prefix`: the anchor starts where a run of token characters
 * (`A-Z a-z 0-9 _ -`) starts, or right after the run's first word or dash (`key-glpat-…`,
 * `-tghp_…`), so a run is scanned from at most two starts (see the header). It follows the
 * anchor, rather than preceding it, so the engine can still skip ahead to the next copy of the anchor.
 */
export function tokenStart(prefix: string): string {
  const p = `(?:${prefix})`;
  return `(?:(?<![A-Za-z0-9_-]${p})|(?<=(?<![A-Za-z0-9_-])[A-Za-z0-9_]{0,32}-${p}))`;
}

/** A fixed-length token must not run on into more token characters. */
export const TOKEN_END = '(?![A-Za-z0-9_-])';

/**
 * Key names whose value is a secret. The name must END with one of these words, so `db_password`,
 * `client_secret`, `X-Api-Key` and `authToken` count while `password_policy`, `token_count` and
 * `secretName` do not. `pass` and `auth` count only as a word of their own (`DB_PASS`, `?pass=`,
 * `REDIS_AUTH`, npm's `_auth`), never inside another word (`bypass`, `oauth`).
 * Follows the keywords of gitleaks' generic-api-key (access, auth, credential, creds, key, passwd,
 * password, secret, token), narrowed to key names that end in them.
 */
export const SECRET_KEY_WORD =
  '(?:password|passwd|pwd|passphrase|pass(?<![a-z0-9]pass)|auth(?<![a-z0-9]auth)|secret|token|api[_-]?key|apikey|secret[_-]?key[_-]?base|(?:access|secret|private|signing|encryption|master|account|client|auth)[_-]?key|credentials?|creds(?<![a-z0-9]creds))';
export const SECRET_KEY_NAME = new RegExp(`${SECRET_KEY_WORD}$`, 'i');

/** Values that are obviously not secrets, quoted or not: fillers and template or variable references. */
const PLACEHOLDER =
  /^(?:[*xX.•…_-]+|\$\{.*|\$\(.*|\$[A-Za-z_]\w*|\{\{.*|<.*>|%[\w.-]+%|\[.*\]|null|nil|none|undefined|true|false|redacted|hidden|masked|omitted)$/i;

/**
 * Unquoted values that are code rather than data: type names (`token: string`), expressions
 * (`password: config.db.password`, `getpass()`, `os.environ[...]`), YAML tags, block indicators
 * and flow collections (`!vault`, `|`, `{user: x}`), comparisons (`token == null`) and the start
 * of a `<placeholder>`.
 */
const CODE =
  /^(?:!.*|[|>][-+]?|=.*|<.*|\{.*|string|str|number|int|integer|bool|boolean|bytes|any|unknown|object|empty|secret|password|token|optional\[.*|(?:process\.env|os\.environ|os\.getenv|env|ENV|secrets|vars|settings|config)\b.*|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\(.*|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)$/i;

const CODE_TRAILER = new Set([...')]}>:;,.']);

/** `value` without the closing brackets and punctuation of the code around it: `f(token: string):` → `string`. */
function trimCodeTrailer(value: string): string {
  let end = value.length;
  while (end > 0 && CODE_TRAILER.has(value.charAt(end - 1))) end--;
  return value.slice(0, end);
}

/** True when `value` is a placeholder rather than a secret; `bare` for an unquoted value in code or config. */
export function isPlaceholder(value: string, bare = false): boolean {
  const v = bare ? trimCodeTrailer(value.trim()) : value.trim();
  return v.length === 0 || PLACEHOLDER.test(v) || (bare && CODE.test(v));
}

/**
 * The usual last check: not a placeholder. An unquoted value of several words (YAML
 * `password: correct horse battery`) is also left alone when its first word is code or a
 * placeholder (`token: string | null`, `password: str = None`).
 */
export function notPlaceholder(secret: string, quoted: boolean): boolean {
  if (isPlaceholder(secret, !quoted)) return false;
  if (quoted) return true;
  const space = secret.search(/[ \t]/);
  return space < 0 || !isPlaceholder(secret.slice(0, space), true);
}

export const hasDigitAndLetter = (s: string) => /[0-9]/.test(s) && /[A-Za-z]/.test(s);

/**
 * A token with a well-known prefix: the prefix is kept, the rest masked (`ghp_…[redacted]`).
 * `body` must be bounded; `whole` adds TOKEN_END for fixed-length formats (a longer run of token
 * characters is something else). Every token starts at the start of a run of token characters
 * (tokenStart), which keeps the scan linear whatever the body's class (see the header).
 */
export function token(
  kind: string,
  source: string,
  prefix: string,
  body: string,
  opts: { whole?: boolean; accept?: SecretPattern['accept'] } = {},
): SecretPattern {
  return {
    kind,
    source,
    regex: new RegExp(
      `(?<keep>${prefix})${tokenStart(prefix)}(?<secret>${body})${opts.whole ? TOKEN_END : ''}`,
      'dg',
    ),
    marker: TOKEN_MARKER,
    ...(opts.accept ? { accept: opts.accept } : {}),
  };
}
