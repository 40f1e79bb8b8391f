/**
 * A caller proven by a CI identity token (CONTRACT §11): who asked, as the token's issuer vouches.
 * `null` wherever the caller signed with a shared secret instead.
 */
export interface Caller {
  /** The token's `iss`, exactly as listed in COUNTERSIGN_OIDC. */
  issuer: string;
  /** The token's `sub`, e.g. `repo:acme/web:ref:refs/heads/main`. */
  subject: string;
  /** The token's other claims (repository, ref, workflow, actor, environment, run ids, ...), as JSON. */
  claims: Record<string, unknown>;
}

/** What a card and the audit record show of an OIDC caller (from GitHub Actions and GitLab CI claims). */
export interface CallerFacts {
  repository: string | null;
  ref: string | null;
  workflow: string | null;
  actor: string | null;
  environment: string | null;
  /** A link to the CI run, when the claims name one on a host the issuer speaks for. */
  runUrl: string | null;
}

/**
 * A claim of the caller by name, for policy matching: `iss` and `sub` are the caller's issuer and
 * subject; every other name is looked up in `claims`. Undefined when the token did not carry it.
 */
export function claimOf(caller: Caller, name: string): unknown {
  if (name === 'iss') return caller.issuer;
  if (name === 'sub') return caller.subject;
  return Object.hasOwn(caller.claims, name) ? caller.claims[name] : undefined;
}

/**
 * The text forms of a claim that a glob may match: a string as is, a number or boolean as its JSON
 * text, each scalar of a list; nothing for objects, null or a missing claim.
 */
export function claimTexts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap((v) => (Array.isArray(v) ? [] : claimTexts(v)));
  return [];
}
