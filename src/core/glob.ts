import picomatch from 'picomatch';

/**
 * Glob matching for policy rules (action and resource patterns).
 *
 * Actions and resources are flat strings, not file paths, so no character is a separator:
 * `*` matches any run of characters (including none, `.`, `/` and `:`), `?` matches exactly one
 * character, `[abc]` / `[a-z]` one character of a class and `{a,b}` either alternative.
 * `db.*` therefore matches both `db.export` and `db.export.full`, and `arn:aws:s3:::prod-*`
 * matches `arn:aws:s3:::prod-logs/2024/01`. Matching is case-sensitive and covers the whole
 * string. There is no negation and no escaping: a leading `!` is refused by `globProblem`, and
 * a negated class is written `[^...]`.
 *
 * Implemented with picomatch: `bash: true` makes a single `*` cross `/` like `**`, `dot: true`
 * lets wildcards match a leading `.`, and `windows: false` keeps the result independent of the
 * operating system.
 */
const OPTIONS: picomatch.PicomatchOptions = {
  bash: true,
  dot: true,
  nonegate: true,
  strictBrackets: true,
  windows: false,
};

export type GlobMatcher = (value: string) => boolean;

const cache = new Map<string, GlobMatcher>();
const CACHE_LIMIT = 1000;

/** Why `pattern` is not a usable glob, or null when it is. */
export function globProblem(pattern: string): string | null {
  if (pattern.length === 0) return 'must not be empty';
  if (pattern.length > 200) return 'must be at most 200 characters';
  if (pattern.startsWith('!'))
    return 'negation ("!...") is not supported; put a more specific rule first instead';
  if (pattern.includes('\\')) return 'backslashes are not supported in globs';
  if (pattern.includes('[!')) return 'write a negated class as [^...], not [!...]';
  try {
    picomatch.makeRe(pattern, OPTIONS);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split(' - ')[0] : String(error);
    return `is not a valid glob (${detail?.toLowerCase() ?? 'unbalanced brackets'})`;
  }
  return null;
}

/** A matcher for a valid glob (see `globProblem`); compiled matchers are cached. */
export function compileGlob(pattern: string): GlobMatcher {
  let matcher = cache.get(pattern);
  if (matcher === undefined) {
    const test = picomatch(pattern, OPTIONS);
    matcher = (value: string) => value.length > 0 && test(value);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, matcher);
  }
  return matcher;
}

/** True when `value` matches the glob `pattern`. */
export function globMatches(pattern: string, value: string): boolean {
  return compileGlob(pattern)(value);
}
