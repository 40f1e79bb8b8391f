import {
  KEY_MARKER,
  notPlaceholder,
  SECRET_KEY_WORD,
  type SecretPattern,
  VALUE_MARKER,
} from './secret-pattern-kit.js';

/** In a one-line PEM body: whitespace or a literal `\r` / `\n` escape (W), anything else (X). */
const PEM_W = String.raw`(?:\\[rn]|[ \t])`;
const PEM_X = String.raw`(?:[^\s\\-]|\\(?![rn])|-(?!----))`;

/**
 * PEM private keys written on one line: RFC 7468 armor ("-----BEGIN RSA PRIVATE KEY-----"), also
 * OpenSSH, EC, ENCRYPTED and PGP ("... PRIVATE KEY BLOCK"); the body may use literal "\n" escapes,
 * as in a GCP service-account JSON file's "private_key". Multi-line blocks: see redact-lines.ts.
 * The body is X (W* X)* with W and X disjoint, so it ends at its last non-space without a lazy
 * quantifier re-testing the END line at every character.
 */
export const PRIVATE_KEY_PATTERN: SecretPattern = {
  kind: 'private-key',
  source: 'gitleaks: private-key',
  regex: new RegExp(
    `(?<keep>-----BEGIN (?<label>[A-Z0-9]{1,32}(?: [A-Z0-9]{1,32}){0,7} )?PRIVATE KEY(?: BLOCK)?-----${PEM_W}{0,16})` +
      `(?<secret>[^\\s\\\\-](?:${PEM_W}{0,16}${PEM_X}){0,16383})` +
      `(?=${PEM_W}{0,16}-----END \\k<label>PRIVATE KEY)`,
    'dg',
  ),
  marker: KEY_MARKER,
  normalize: (body) => body.replace(/\\[rn]|[^A-Za-z0-9+/=]/g, ''),
  accept: (body) => body.replace(/\\[rn]|[^A-Za-z0-9+/=]/g, '').length >= 16 && keyShaped(body),
};

/** An armor header line of a PEM body (RFC 1421 / 4880): `Proc-Type: 4,ENCRYPTED`, `Comment: ...`. */
const ARMOR_HEADER_LINE = /^(?:Proc-Type|DEK-Info|Comment|Version|Hash|Charset):/;

/**
 * Whether a one-line PEM body looks like key material, so that masking it cannot hide commands:
 * written on lines joined by `\n` / `\r` escapes, every line is base64 without spaces or an armor
 * header (whose first word, ending in a colon, runs nothing); written on one line, only base64
 * words separated by spaces.
 */
function keyShaped(body: string): boolean {
  const lines = body.split(/\\[rn]/);
  if (lines.length === 1) return /^[A-Za-z0-9+/=]+(?:[ \t]+[A-Za-z0-9+/=]+)*$/.test(body.trim());
  return lines.every((line) => {
    const t = line.trim();
    return t === '' || /^[A-Za-z0-9+/=]+$/.test(t) || ARMOR_HEADER_LINE.test(t);
  });
}

/** A value after `key=`: double-quoted, single-quoted or bare (up to a space, quote, `,`, `;` or `&`). */
const VALUE = String.raw`(?:\\?"(?<secretDq>[^"\\\n]{1,512})|'(?<secretSq>[^'\n]{1,512})|(?<secret>[^\s"'\x60,;&\\]{1,512}))`;
/** One word of an unquoted YAML value; a word starting with `#` starts a comment. */
const YAML_WORD = String.raw`[^\s"'\x60,;&\\#][^\s"'\x60,;&\\]{0,255}`;
// A bare `:` needs a space or a quote after it (YAML, JSON).
const ASSIGN = String.raw`\\?["']?[ \t]{0,16}(?::=|=>|=|:(?=[ \t]|\\?["']))[ \t]{0,16}`;
/** A command-line value: quoted or one shell word. */
const CLI_VALUE = String.raw`(?:"(?<secretDq>[^"\n]{1,256})"|'(?<secretSq>[^'\n]{1,256})'|(?<secret>[^\s"'\x60;&|<>]{1,256}))`;
/** One argument of a command line that is not `-p…` and does not start another command of `names`. */
const cliArg = (names: string) => String.raw`[ \t]{1,16}(?!-p|${names})[^\s|;&<>]{1,256}`;
const MYSQL = 'mysql|mariadb';

/** Credentials recognised by their context: URLs, headers, command lines and key names. */
export const GENERIC_PATTERNS: readonly SecretPattern[] = [
  {
    // Passwords in URLs (RFC 3986 userinfo "user:password@"): database and broker URLs such as
    // postgres(ql)://, mysql://, mongodb(+srv)://, redis(s)://, amqp(s)://, and https://user:pass@host.
    kind: 'url-password',
    source: 'gitleaks: generic-api-key, sidekiq-sensitive-url (RFC 3986 userinfo)',
    regex: /(?<keep>:\/\/(?<=[A-Za-z0-9]:\/\/)[^\s:@/?#"'<>]{0,256}:)(?<secret>[^\s@/?#"'<>]{1,256})(?=@)/dg,
    marker: VALUE_MARKER,
  },
  {
    // HTTP Authorization headers (RFC 9110): "Authorization: Bearer <token>", Basic, Token, Bot, Digest.
    kind: 'authorization-header',
    source: 'gitleaks: curl-auth-header',
    regex:
      /(?<keep>\b(?:Proxy-)?Authorization\\?["']?[ \t]{0,16}[:=][ \t]{0,16}\\?["']?(?:(?:Bearer|Basic|Token|Bot|Digest|Negotiate)[ \t]{1,16})?)(?<secret>[^\s"'\\]{6,4096})/dgi,
    marker: VALUE_MARKER,
    accept: notPlaceholder,
  },
  {
    // Bearer tokens outside a header (RFC 6750), e.g. `curl -H "...Bearer abc..."` fragments.
    kind: 'bearer-token',
    source: 'gitleaks: curl-auth-header (RFC 6750)',
    regex: /(?<keep>\bBearer[ \t]{1,16})(?<secret>[A-Za-z0-9._~+/-]{20,4096}={0,4})/dg,
    marker: VALUE_MARKER,
    accept: (secret) => /[0-9]/.test(secret) && notPlaceholder(secret, false),
  },
  {
    // curl (and wget, httpie-style) basic auth on the command line: `-u user:pass`, `--user=user:pass`.
    // The user stays; `-u 1000:1000` (a uid:gid) and `-u http://…` are not credentials.
    kind: 'cli-user-password',
    source: 'gitleaks: curl-auth-user',
    regex:
      /(?<keep>(?<![\w-])(?:-u[ \t]{0,16}|--user(?:[ \t]{1,16}|=))["']?[^\s:"'@]{1,128}:)(?<secret>[^\s"']{1,256})/dg,
    marker: VALUE_MARKER,
    accept: (secret, quoted) =>
      notPlaceholder(secret, quoted) && !/^\d+$/.test(secret) && !secret.startsWith('//'),
  },
  {
    // The MySQL / MariaDB clients' password written against its flag: `mysql -u root -pS3cret db`
    // (`-p` followed by a space prompts, and the next word is the database, so it is left alone).
    kind: 'mysql-password-flag',
    source: 'gitleaks: generic-api-key (MySQL client -p<password>)',
    regex: new RegExp(
      `(?<keep>\\b(?:mysql(?:dump|admin|import|show|check|slap)?|mariadb(?:-dump|-admin)?)(?:${cliArg(MYSQL)}){0,24}[ \\t]{1,16}-p)${CLI_VALUE}`,
      'dg',
    ),
    marker: VALUE_MARKER,
    accept: notPlaceholder,
  },
  {
    // sshpass: `sshpass -p 'secret' ssh host`, `sshpass -psecret …` (after any of its own options).
    kind: 'sshpass-password',
    source: 'sshpass(1) -p',
    regex: new RegExp(
      String.raw`(?<keep>\bsshpass(?:[ \t]{1,16}(?:-[fdP][ \t]{0,16}[^\s|;&<>]{1,256}|-[evhV][A-Za-z0-9_]{0,64})){0,6}[ \t]{1,16}-p[ \t]{0,16})${CLI_VALUE}`,
      'dg',
    ),
    marker: VALUE_MARKER,
    accept: notPlaceholder,
  },
  {
    // NuGet.config package source credentials: <add key="ClearTextPassword" value="..." />.
    kind: 'nuget-config-password',
    source: 'gitleaks: nuget-config-password',
    regex:
      /(?<keep><add[ \t]{1,16}key=\\?"(?:ClearText)?Password\\?"[ \t]{1,16}value=\\?")(?<secret>[^"\\\n]{1,512})/dgi,
    marker: VALUE_MARKER,
    accept: notPlaceholder,
  },
  {
    // Command-line flags: --password hunter2, --api-key abc, -token xyz, --db-pass x (the
    // `--flag=value` form is a secret-assignment).
    kind: 'cli-flag',
    source: 'gitleaks: generic-api-key (command-line form)',
    regex:
      /(?<keep>(?<![\w-])--?[A-Za-z0-9-]{0,40}(?:password|passwd|passphrase|(?<![A-Za-z0-9])pass|token|secret|api-key|apikey)[ \t]{1,16})(?:"(?<secretDq>[^"\n]{1,512})"|'(?<secretSq>[^'\n]{1,512})'|(?<secret>[^\s"'-][^\s"']{0,511}))/dgi,
    marker: VALUE_MARKER,
    accept: notPlaceholder,
  },
  {
    // XML elements named for a secret: <password>hunter2</password>, <apiToken>…</apiToken>.
    kind: 'xml-secret-element',
    source: 'gitleaks: generic-api-key (XML form)',
    regex:
      /(?<keep><(?<tag>[A-Za-z0-9_.:-]{0,40}?(?:password|passwd|passphrase|secret|token|apikey|api_key|private_?key))>)(?<secret>[^<\n]{1,512})(?=<\/\k<tag>>)/dgi,
    marker: VALUE_MARKER,
    accept: notPlaceholder,
  },
  {
    // Assignments whose key names a secret (see SECRET_KEY_WORD): password=..., "api_key": "...",
    // DB_PASS: ..., token := ..., :secret => ..., ?pass=...; the key is kept and only the value is
    // masked. A bare `:` needs a space or a quote after it, so `https://x-access-token:...@` is left
    // to url-password.
    kind: 'secret-assignment',
    source: 'gitleaks: generic-api-key',
    regex: new RegExp(`(?<keep>${SECRET_KEY_WORD}${ASSIGN})${VALUE}`, 'dgi'),
    marker: VALUE_MARKER,
    // A PEM block as the value (`private_key: "-----BEGIN ...`) is the private-key pattern's job.
    accept: (secret, quoted) => notPlaceholder(secret, quoted) && !secret.startsWith('-----BEGIN'),
  },
  {
    // A YAML line whose key names a secret: the unquoted value runs to the end of the line or a
    // ` #` comment (`password: correct horse battery`), not just to the first space. Only where the
    // key starts its line (after indentation, a list dash or a diff marker), so prose such as
    // "password: see the vault, please" keeps all but its first word.
    kind: 'secret-assignment-yaml',
    source: 'gitleaks: generic-api-key, kubernetes-secret-yaml',
    regex: new RegExp(
      `(?<keep>${SECRET_KEY_WORD}(?<=^[ \\t+-]{0,16}(?:- )?[A-Za-z0-9_.-]{0,64})[ \\t]{0,16}:[ \\t]{1,16})(?<secret>${YAML_WORD}(?:[ \\t]{1,16}${YAML_WORD}){1,31})`,
      'dgim',
    ),
    marker: VALUE_MARKER,
    accept: notPlaceholder,
  },
];
