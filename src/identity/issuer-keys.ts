import type { JSONWebKeySet, JWK } from 'jose';
import { fetchJson, isSecureUrl } from './fetch-json.js';

export interface IssuerKeysOptions {
  fetch: typeof fetch;
  now: () => number;
  /** Time allowed for each of the discovery and JWKS fetches. */
  timeoutMs: number;
  /** Keys older than this are refetched before use (a failed refetch keeps them). */
  refreshMs: number;
  /** Keys are used at most this long after they were fetched, even when the issuer is down. */
  maxAgeMs: number;
  /** At most one fetch attempt per this interval, whatever asks (unknown `kid`s, an issuer that is down). */
  minIntervalMs: number;
}

export type KeysAnswer =
  | { ok: true; jwks: JSONWebKeySet }
  | { ok: false; status: 401; reason: 'unknown_key'; message: string }
  | { ok: false; status: 503; reason: 'keys_unavailable'; message: string };

interface Cached {
  jwks: JSONWebKeySet;
  kids: Set<string>;
  fetchedAt: number;
}

/**
 * The signing keys of one OIDC issuer: `<issuer>/.well-known/openid-configuration` → `jwks_uri`,
 * fetched with a time limit and cached. They are refetched when older than `refreshMs` or when a
 * token names a `kid` they lack, but never more than once per `minIntervalMs` (so a flood of tokens
 * with made-up `kid`s costs the issuer one request per interval), and concurrent callers share one
 * fetch. When the issuer cannot be reached, the cached keys serve until `maxAgeMs`.
 */
export class IssuerKeys {
  private cached: Cached | null = null;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private lastError = 'the keys were never fetched';
  private inflight: Promise<void> | null = null;

  constructor(
    readonly issuer: string,
    private readonly o: IssuerKeysOptions,
  ) {}

  /** The key set to verify a token signed with `kid` (undefined: the token names no key). */
  async keysFor(kid: string | undefined): Promise<KeysAnswer> {
    const now = this.o.now();
    const stale = this.cached === null || now - this.cached.fetchedAt >= this.o.refreshMs;
    const unknownKid = kid !== undefined && this.cached !== null && !this.cached.kids.has(kid);
    if (stale || unknownKid) await this.refresh();

    const cached = this.cached as Cached | null;
    if (cached === null || this.o.now() - cached.fetchedAt >= this.o.maxAgeMs) {
      return {
        ok: false,
        status: 503,
        reason: 'keys_unavailable',
        message:
          `the signing keys of OIDC issuer ${this.issuer} cannot be fetched (${this.lastError}) and none are cached; ` +
          'retry shortly, or check that the server can reach the issuer',
      };
    }
    if (kid !== undefined && !cached.kids.has(kid)) {
      return {
        ok: false,
        status: 401,
        reason: 'unknown_key',
        message: `the token is signed with key "${kid}", which issuer ${this.issuer} does not publish`,
      };
    }
    return { ok: true, jwks: cached.jwks };
  }

  /** One fetch at a time, at most one attempt per `minIntervalMs`; failures are remembered, not thrown. */
  private async refresh(): Promise<void> {
    if (this.inflight !== null) return this.inflight;
    if (this.o.now() - this.lastAttempt < this.o.minIntervalMs) return;
    this.lastAttempt = this.o.now();
    this.inflight = this.fetchKeys().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    const base = this.issuer.replace(/\/+$/, '');
    const discovery = await fetchJson(
      this.o.fetch,
      `${base}/.well-known/openid-configuration`,
      this.o.timeoutMs,
    );
    if (!discovery.ok) {
      this.lastError = `discovery: ${discovery.why}`;
      return;
    }
    const doc = discovery.value as { issuer?: unknown; jwks_uri?: unknown } | null;
    if (doc === null || typeof doc !== 'object' || doc.issuer !== this.issuer) {
      this.lastError = `discovery: its "issuer" is ${JSON.stringify(doc?.issuer)}, not ${this.issuer}`;
      return;
    }
    if (typeof doc.jwks_uri !== 'string' || !isSecureUrl(doc.jwks_uri)) {
      this.lastError = `discovery: "jwks_uri" must be an https:// URL (http:// only on loopback), got ${JSON.stringify(doc.jwks_uri)}`;
      return;
    }
    const jwks = await fetchJson(this.o.fetch, doc.jwks_uri, this.o.timeoutMs);
    if (!jwks.ok) {
      this.lastError = `JWKS: ${jwks.why}`;
      return;
    }
    const keys = (jwks.value as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) {
      this.lastError = `JWKS: ${doc.jwks_uri} has no "keys" list`;
      return;
    }
    // Only public signing keys of the accepted types; anything else (symmetric, private, encryption) is dropped.
    const usable = keys.filter(isPublicSigningKey);
    this.cached = {
      jwks: { keys: usable },
      kids: new Set(usable.flatMap((k) => (typeof k.kid === 'string' ? [k.kid] : []))),
      fetchedAt: this.o.now(),
    };
    this.lastError = 'none';
  }
}

function isPublicSigningKey(key: unknown): key is JWK {
  if (key === null || typeof key !== 'object') return false;
  const k = key as JWK;
  if (k.use !== undefined && k.use !== 'sig') return false;
  if ('d' in k || 'p' in k || 'k' in k) return false;
  return k.kty === 'RSA' || k.kty === 'EC' || k.kty === 'OKP';
}
