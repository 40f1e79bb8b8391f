/**
 * Vetted credential patterns for redaction (used by redact.ts). One entry per kind of secret.
 *
 * Each regex has the flags `g` and `d` and names the part to mask with a group called `secret`
 * (or `secretDq` / `secretSq` for a quoted value). Only that group is replaced, by `marker`;
 * whatever else the regex matches (a token's well-known prefix, `password=`, `postgres://user:`)
 * stays, so a reader can still tell what was there: `ghp_…[redacted]`, `password=[redacted]`.
 *
 * Rules for adding an entry: anchor on something distinctive (a vendor prefix or a key name), bound
 * every repetition that is followed by something that can fail, and never nest quantifiers over
 * overlapping character classes: redaction runs on 1 MiB diffs and must stay linear. No pattern may
 * match a line break (multi-line PEM blocks are handled line by line in redact-lines.ts).
 *
 * Order matters only for ties: when two matches cover the same text, the earlier entry's marker wins.
 */
export interface SecretPattern {
  kind: string;
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
 * Key names whose value is a secret. The name must END with one of these words, so `db_password`,
 * `client_secret`, `X-Api-Key` and `authToken` count while `password_policy`, `token_count` and
 * `secretName` do not.
 */
const SECRET_KEY_WORD =
  '(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|(?:access|secret|private|signing|encryption|master|account|client|auth)[_-]?key|credentials?)';
export const SECRET_KEY_NAME = new RegExp(`${SECRET_KEY_WORD}$`, 'i');

/** Values that are obviously not secrets, quoted or not: fillers and template or variable references. */
const PLACEHOLDER =
  /^(?:[*xX.•…_-]+|\$\{.*|\$\(.*|\$[A-Za-z_]\w*|\{\{.*|<.*>|%[\w.-]+%|\[.*\]|null|nil|none|undefined|true|false|redacted|hidden|masked|omitted)$/i;

/**
 * Unquoted values that are code rather than data: type names (`token: string`), expressions
 * (`password: config.db.password`, `getpass()`, `os.environ[...]`), YAML tags and block
 * indicators (`!vault`, `|`), comparisons (`token == null`) and the start of a `<placeholder>`.
 */
const CODE =
  /^(?:!.*|[|>][-+]?|=.*|<.*|string|str|number|int|integer|bool|boolean|bytes|any|unknown|object|empty|secret|password|token|optional\[.*|(?:process\.env|os\.environ|os\.getenv|env|ENV|secrets|vars|settings|config)\b.*|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\(.*|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)$/i;

/** True when `value` is a placeholder rather than a secret; `bare` for an unquoted value in code or config. */
export function isPlaceholder(value: string, bare = false): boolean {
  // Closing brackets and punctuation belong to the code around a bare value: `f(token: string):`.
  const v = bare ? value.trim().replace(/[)\]}>:;,.]+$/, '') : value.trim();
  return v.length === 0 || PLACEHOLDER.test(v) || (bare && CODE.test(v));
}

const notPlaceholder = (secret: string, quoted: boolean) => !isPlaceholder(secret, !quoted);
const hasDigitAndLetter = (s: string) => /[0-9]/.test(s) && /[A-Za-z]/.test(s);

/** A value after `key=` / `key: `: double-quoted, single-quoted or bare (up to a space, quote, `,`, `;` or `&`). */
const VALUE = String.raw`(?:\\?"(?<secretDq>[^"\\\n]{1,512})|'(?<secretSq>[^'\n]{1,512})|(?<secret>[^\s"'\x60,;&\\]{1,512}))`;
// A bare `:` needs a space or a quote after it (YAML, JSON), so `https://x-access-token:...@` is left to url-password.
const ASSIGN = String.raw`\\?["']?[ \t]*(?::=|=>|=|:(?=[ \t]|\\?["']))[ \t]*`;

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    // PEM private keys written on one line: RFC 7468 armor ("-----BEGIN RSA PRIVATE KEY-----"), also
    // OpenSSH, EC, ENCRYPTED and PGP ("... PRIVATE KEY BLOCK"); the body may use literal "\n" escapes,
    // as in a GCP service-account JSON file's "private_key". Multi-line blocks: see redact-lines.ts.
    kind: 'private-key',
    regex:
      /(?<keep>-----BEGIN (?<label>[A-Z0-9]+(?: [A-Z0-9]+)* )?PRIVATE KEY(?: BLOCK)?-----(?:\\r|\\n|[ \t]){0,16})(?<secret>[^\s\\-](?:[^\n-]|-(?!----)){0,16383}?)(?=(?:\\r|\\n|[ \t]){0,16}-----END \k<label>PRIVATE KEY)/dg,
    marker: KEY_MARKER,
    normalize: (body) => body.replace(/\\[rn]|[^A-Za-z0-9+/=]/g, ''),
    accept: (body) => body.replace(/\\[rn]|[^A-Za-z0-9+/=]/g, '').length >= 16,
  },
  {
    // AWS access key IDs: AKIA (long-term), ASIA (STS temporary), ABIA (STS service bearer), ACCA
    // (context-specific) + 16 upper-case alphanumerics. AWS's documented example AKIAIOSFODNN7EXAMPLE
    // is masked too; that is harmless.
    kind: 'aws-access-key-id',
    regex: /\b(?<keep>AKIA|ASIA|ABIA|ACCA)(?<secret>[A-Z0-9]{16})\b/dg,
    marker: TOKEN_MARKER,
  },
  {
    // AWS secret access keys (40 base64 characters) after their usual names: aws_secret_access_key,
    // AWS_SECRET_ACCESS_KEY, SecretAccessKey (JSON from `aws sts`), secret_key.
    kind: 'aws-secret-access-key',
    regex:
      /(?<![A-Za-z0-9])(?<keep>(?:aws[_-]?)?secret[_-]?(?:access[_-]?)?key\\?["']?[ \t]*(?::=|=>|=|:)[ \t]*\\?["']?)(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dgi,
    marker: VALUE_MARKER,
  },
  {
    // Google Cloud API keys: "AIza" + 35 URL-safe base64 characters (39 in all).
    kind: 'gcp-api-key',
    regex: /\b(?<keep>AIza)(?<secret>[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])/dg,
    marker: TOKEN_MARKER,
  },
  {
    // Google OAuth client secrets ("GOCSPX-" + 28 characters).
    kind: 'gcp-oauth-client-secret',
    regex: /\b(?<keep>GOCSPX-)(?<secret>[0-9A-Za-z_-]{20,100})(?![0-9A-Za-z_-])/dg,
    marker: TOKEN_MARKER,
  },
  {
    // Google OAuth 2.0 access tokens ("ya29." + URL-safe characters).
    kind: 'gcp-oauth-access-token',
    regex: /\b(?<keep>ya29\.)(?<secret>[0-9A-Za-z_-]{20,2048})/dg,
    marker: TOKEN_MARKER,
  },
  {
    // Azure Storage / Service Bus / Event Hubs connection strings:
    // "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=<base64>;..." and "SharedAccessKey=<base64>".
    kind: 'azure-connection-string-key',
    regex: /(?<keep>\b(?:AccountKey|SharedAccessKey)=)(?<secret>[A-Za-z0-9+/]{20,200}={0,2})/dgi,
    marker: VALUE_MARKER,
  },
  {
    // Signed URLs: Azure SAS "sig=", AWS SigV4 presigned "X-Amz-Signature=" and "X-Amz-Security-Token=",
    // Google Cloud Storage "X-Goog-Signature=". Anyone holding the URL has the access it grants.
    kind: 'signed-url-signature',
    regex:
      /(?<keep>[?&](?:sig|X-Amz-Signature|X-Amz-Security-Token|X-Goog-Signature)=)(?<secret>[A-Za-z0-9%+/=_.-]{16,4096})/dg,
    marker: VALUE_MARKER,
  },
  {
    // GitHub tokens: ghp_ (personal), gho_ (OAuth), ghu_ (user-to-server), ghs_ (server-to-server,
    // e.g. Actions' GITHUB_TOKEN), ghr_ (refresh) + 36 or more base62 characters.
    kind: 'github-token',
    regex: /\b(?<keep>gh[pousr]_)(?<secret>[A-Za-z0-9]{36,251})\b/dg,
    marker: TOKEN_MARKER,
  },
  {
    // GitHub fine-grained personal access tokens: "github_pat_" + 22 + "_" + 59 characters.
    kind: 'github-fine-grained-token',
    regex: /\b(?<keep>github_pat_)(?<secret>[A-Za-z0-9_]{22,251})\b/dg,
    marker: TOKEN_MARKER,
  },
  {
    // GitLab tokens: glpat- (personal/project/group access), gldt- (deploy), glrt- (runner),
    // glptt- (pipeline trigger), glft- (feed), glimt- (incoming mail), gloas- (OAuth app secret),
    // glsoat- (SCIM), glcbt- (CI job), glagent- (agent); newer ones carry ".01." style suffixes.
    kind: 'gitlab-token',
    regex:
      /\b(?<keep>gl(?:pat|dt|rt|ptt|ft|imt|oas|soat|cbt|agent)-)(?<secret>[A-Za-z0-9_-]{20,250}(?:\.[A-Za-z0-9_-]{1,64}){0,3})/dg,
    marker: TOKEN_MARKER,
  },
  {
    // Slack tokens: xoxb- (bot), xoxp- (user), xoxa- (workspace app), xoxr- (refresh), xoxs- (session),
    // xoxe- / xoxo- (rotating / legacy).
    kind: 'slack-token',
    regex: /\b(?<keep>xox[abeoprs]-)(?<secret>[A-Za-z0-9-]{10,250})/dg,
    marker: TOKEN_MARKER,
  },
  {
    // Slack app-level tokens: "xapp-1-A0123-...".
    kind: 'slack-app-token',
    regex: /\b(?<keep>xapp-)(?<secret>[A-Za-z0-9-]{10,250})/dg,
    marker: TOKEN_MARKER,
  },
  {
    // Slack incoming webhooks and workflow triggers: https://hooks.slack.com/services/T…/B…/secret.
    kind: 'slack-webhook',
    regex:
      /(?<keep>https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/)(?<secret>[A-Za-z0-9_/-]{10,250})/dg,
    marker: VALUE_MARKER,
  },
  {
    // Stripe secret and restricted keys, live and test: sk_live_, rk_live_, sk_test_, rk_test_
    // (publishable pk_ keys are public and left alone).
    kind: 'stripe-key',
    regex: /\b(?<keep>[sr]k_(?:live|test)_)(?<secret>[A-Za-z0-9]{10,250})\b/dg,
    marker: TOKEN_MARKER,
  },
  {
    // Webhook signing secrets: Standard Webhooks / Svix (Countersign's own client secrets) and Stripe: "whsec_".
    kind: 'webhook-secret',
    regex: /\b(?<keep>whsec_)(?<secret>[A-Za-z0-9+/=]{16,250})/dg,
    marker: TOKEN_MARKER,
  },
  {
    // Anthropic API keys: "sk-ant-api03-..." (and admin keys "sk-ant-admin01-...").
    kind: 'anthropic-key',
    regex: /(?<![A-Za-z0-9_-])(?<keep>sk-ant-(?:[a-z]{2,8}\d{2}-)?)(?<secret>[A-Za-z0-9_-]{20,250})/dg,
    marker: TOKEN_MARKER,
  },
  {
    // OpenAI API keys: legacy "sk-" + 48 characters, project "sk-proj-", service account "sk-svcacct-",
    // admin "sk-admin-". Must not follow a letter ("risk-free", "task-...") and must mix digits and letters.
    kind: 'openai-key',
    regex:
      /(?<![A-Za-z0-9_-])(?<keep>sk-(?:(?:proj|svcacct|admin|None)-)?)(?<secret>[A-Za-z0-9_-]{20,250})/dg,
    marker: TOKEN_MARKER,
    accept: (secret) => hasDigitAndLetter(secret) && !secret.startsWith('ant-'),
  },
  {
    // npm access tokens: "npm_" + 36 base62 characters.
    kind: 'npm-token',
    regex: /\b(?<keep>npm_)(?<secret>[A-Za-z0-9]{36})\b/dg,
    marker: TOKEN_MARKER,
  },
  {
    // HashiCorp Vault tokens (1.10+): hvs. (service), hvb. (batch), hvr. (recovery).
    kind: 'vault-token',
    regex: /\b(?<keep>hv[sbr]\.)(?<secret>[A-Za-z0-9_-]{24,250})/dg,
    marker: TOKEN_MARKER,
  },
  {
    // SendGrid API keys: "SG." + 22 + "." + 43 characters.
    kind: 'sendgrid-key',
    regex: /\b(?<keep>SG\.)(?<secret>[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/dg,
    marker: TOKEN_MARKER,
  },
  {
    // JSON Web Tokens (RFC 7519): base64url header "eyJ..." . payload "eyJ..." . signature (may be empty).
    kind: 'jwt',
    regex:
      /\b(?<keep>eyJ)(?<secret>[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{0,4096})/dg,
    marker: TOKEN_MARKER,
  },
  {
    // Passwords in URLs (RFC 3986 userinfo "user:password@"): database and broker URLs such as
    // postgres(ql)://, mysql://, mongodb(+srv)://, redis(s)://, amqp(s)://, and https://user:pass@host.
    kind: 'url-password',
    regex: /(?<keep>:\/\/(?<=[A-Za-z0-9]:\/\/)[^\s:@/?#"'<>]{0,256}:)(?<secret>[^\s@/?#"'<>]{1,256})(?=@)/dg,
    marker: VALUE_MARKER,
  },
  {
    // HTTP Authorization headers (RFC 9110): "Authorization: Bearer <token>", Basic, Token, Bot, Digest.
    kind: 'authorization-header',
    regex:
      /(?<keep>\b(?:Proxy-)?Authorization\\?["']?[ \t]*[:=][ \t]*\\?["']?(?:(?:Bearer|Basic|Token|Bot|Digest|Negotiate)[ \t]+)?)(?<secret>[^\s"'\\]{6,4096})/dgi,
    marker: VALUE_MARKER,
    accept: notPlaceholder,
  },
  {
    // Bearer tokens outside a header (RFC 6750), e.g. `curl -H "...Bearer abc..."` fragments.
    kind: 'bearer-token',
    regex: /(?<keep>\bBearer[ \t]+)(?<secret>[A-Za-z0-9._~+/-]{20,4096}=*)/dg,
    marker: VALUE_MARKER,
    accept: (secret) => /[0-9]/.test(secret) && notPlaceholder(secret, false),
  },
  {
    // Command-line flags: --password hunter2, --api-key abc, -token xyz (the `--flag=value` form is a secret-assignment).
    kind: 'cli-flag',
    regex:
      /(?<keep>(?<![\w-])--?[A-Za-z0-9-]{0,40}(?:password|passwd|passphrase|token|secret|api-key|apikey)[ \t]+)(?:"(?<secretDq>[^"\n]{1,512})"|'(?<secretSq>[^'\n]{1,512})'|(?<secret>[^\s"'-][^\s"']{0,511}))/dgi,
    marker: VALUE_MARKER,
    accept: notPlaceholder,
  },
  {
    // XML elements named for a secret: <password>hunter2</password>, <apiToken>…</apiToken>.
    kind: 'xml-secret-element',
    regex:
      /(?<keep><(?<tag>[A-Za-z0-9_.:-]{0,40}?(?:password|passwd|passphrase|secret|token|apikey|api_key|private_?key))>)(?<secret>[^<\n]{1,512})(?=<\/\k<tag>>)/dgi,
    marker: VALUE_MARKER,
    accept: notPlaceholder,
  },
  {
    // Assignments whose key names a secret (see SECRET_KEY_NAME): password=..., "api_key": "...",
    // DB_PASSWORD: ..., token := ..., :secret => ...; the key is kept and only the value is masked.
    kind: 'secret-assignment',
    regex: new RegExp(`(?<keep>${SECRET_KEY_WORD}${ASSIGN})${VALUE}`, 'dgi'),
    marker: VALUE_MARKER,
    // A PEM block as the value (`private_key: "-----BEGIN ...`) is the private-key pattern's job.
    accept: (secret, quoted) => notPlaceholder(secret, quoted) && !secret.startsWith('-----BEGIN'),
  },
];
