import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { Caller } from '../core/caller.js';
import { illFormedStrings, storableText } from '../core/text-checks.js';
import { callerFromPayload } from './caller-claims.js';
import { IssuerKeys } from './issuer-keys.js';

/** One COUNTERSIGN_OIDC entry: its name becomes the caller's client name; `url` is compared exactly with `iss`. */
export interface TrustedIssuer {
  name: string;
  url: string;
}

export interface OidcVerifierOptions {
  issuers: readonly TrustedIssuer[];
  /** The `aud` tokens must carry (COUNTERSIGN_OIDC_AUDIENCE). */
  audience: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Per discovery / JWKS fetch (default 5 s). */
  timeoutMs?: number;
  /** Refetch keys older than this before use (default 10 min). */
  refreshMs?: number;
  /** Use cached keys at most this long when the issuer is down (default 24 h). */
  maxKeyAgeMs?: number;
  /** At most one key fetch per issuer per this interval (default 10 s). */
  minRefetchMs?: number;
}

/** Signature algorithms accepted in ID tokens; never `none`, never HMAC. */
export const ACCEPTED_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
/** Seconds of clock difference allowed on `exp` and `nbf`. */
export const CLOCK_LEEWAY_SECONDS = 60;
const MAX_TOKEN_LENGTH = 16 * 1024;
/** The key type each accepted algorithm needs: a token may not pair an algorithm with another kind of key. */
const KEY_TYPE: Record<(typeof ACCEPTED_ALGORITHMS)[number], { kty: string; crv?: string; words: string }> = {
  RS256: { kty: 'RSA', words: 'an RSA key' },
  ES256: { kty: 'EC', crv: 'P-256', words: 'a P-256 EC key' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', words: 'an Ed25519 key' },
};

export type RefusalReason =
  | 'malformed'
  | 'algorithm'
  | 'unknown_issuer'
  | 'unknown_key'
  | 'wrong_key'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'audience'
  | 'claims'
  | 'keys_unavailable';

export type OidcResult =
  | { ok: true; client: string; caller: Caller }
  | {
      ok: false;
      /** 401 `invalid_token`, or 503 `oidc_unavailable` when the issuer's keys cannot be had. */
      status: 401 | 503;
      error: 'invalid_token' | 'oidc_unavailable';
      reason: RefusalReason;
      message: string;
      /** The listed issuer the token claimed, when it named one; for the audit record. */
      issuer: string | null;
    };

/** The token of an `Authorization: Bearer <token>` header, or null when there is none. */
export function bearerToken(authorization: string | undefined): string | null {
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization ?? '');
  return m ? (m[1] as string) : null;
}

/**
 * Verifies CI identity tokens (CONTRACT §11). The unverified `iss` only picks a listed issuer by
 * exact comparison, so an issuer that is not listed is never contacted; then the signature (RS256,
 * ES256 or EdDSA with a key of the matching type), `iss`, `aud`, `exp` and `nbf` (60 s leeway).
 */
export class OidcVerifier {
  private readonly keys = new Map<string, IssuerKeys>();
  private readonly now: () => number;

  constructor(private readonly o: OidcVerifierOptions) {
    this.now = o.now ?? Date.now;
    for (const issuer of o.issuers) {
      this.keys.set(
        issuer.url,
        new IssuerKeys(issuer.url, {
          fetch: o.fetch ?? globalThis.fetch,
          now: this.now,
          timeoutMs: o.timeoutMs ?? 5000,
          refreshMs: o.refreshMs ?? 10 * 60_000,
          maxAgeMs: o.maxKeyAgeMs ?? 24 * 3600_000,
          minIntervalMs: o.minRefetchMs ?? 10_000,
        }),
      );
    }
  }

  /** False when no issuer is configured: bearer tokens are then refused without a look. */
  get enabled(): boolean {
    return this.o.issuers.length > 0;
  }

  async verify(token: string): Promise<OidcResult> {
    const refuse = (reason: RefusalReason, message: string, issuer: string | null = null): OidcResult => ({
      ok: false,
      status: 401,
      error: 'invalid_token',
      reason,
      // Parts of an unverified token appear in the message, which is audited: keep it storable.
      message: storableText(message),
      issuer,
    });
    if (!this.enabled)
      return refuse('unknown_issuer', 'this server accepts no OIDC tokens (COUNTERSIGN_OIDC is not set)');
    if (token.length > MAX_TOKEN_LENGTH) return refuse('malformed', 'the token is longer than 16 KiB');

    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      return refuse('malformed', 'the bearer token is not a JWT (header.payload.signature)');
    }
    const alg = header.alg;
    if (!(ACCEPTED_ALGORITHMS as readonly unknown[]).includes(alg)) {
      const why =
        alg === 'none'
          ? 'an unsigned token (alg none)'
          : /^HS/.test(String(alg))
            ? `an HMAC token (${alg})`
            : `alg ${alg}`;
      return refuse(
        'algorithm',
        `${why} is never accepted; ID tokens must be signed with RS256, ES256 or EdDSA`,
      );
    }
    const listed = this.o.issuers.find((i) => i.url === unverified.iss);
    if (listed === undefined) {
      return refuse(
        'unknown_issuer',
        `the token's issuer ${JSON.stringify(unverified.iss)} is not listed in COUNTERSIGN_OIDC`,
      );
    }
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    const keys = await (this.keys.get(listed.url) as IssuerKeys).keysFor(kid);
    if (!keys.ok) {
      return keys.status === 503
        ? {
            ok: false,
            status: 503,
            error: 'oidc_unavailable',
            reason: keys.reason,
            message: keys.message,
            issuer: listed.url,
          }
        : refuse(keys.reason, keys.message, listed.url);
    }
    const wanted = KEY_TYPE[alg as (typeof ACCEPTED_ALGORITHMS)[number]];
    const named = kid === undefined ? undefined : keys.jwks.keys.find((k) => k.kid === kid);
    if (
      named !== undefined &&
      (named.kty !== wanted.kty || (wanted.crv !== undefined && named.crv !== wanted.crv))
    ) {
      return refuse(
        'wrong_key',
        `the token says ${alg}, which needs ${wanted.words}, but key "${kid}" is not one`,
        listed.url,
      );
    }

    const options: JWTVerifyOptions = {
      algorithms: [...ACCEPTED_ALGORITHMS],
      issuer: listed.url,
      audience: this.o.audience,
      clockTolerance: CLOCK_LEEWAY_SECONDS,
      currentDate: new Date(this.now()),
      requiredClaims: ['exp', 'sub'],
    };
    let payload: JWTPayload;
    try {
      payload = await verifyWithKeySet(token, keys.jwks, options);
    } catch (err) {
      const [reason, message] = describeFailure(err, this.o.audience, kid);
      return refuse(reason, message, listed.url);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 1000) {
      return refuse('claims', 'the token\'s "sub" must be a non-empty string', listed.url);
    }
    // The caller's claims are stored and audited: text that cannot be is refused like a bad claim.
    const [unstorable] = illFormedStrings(payload);
    if (unstorable !== undefined) {
      return refuse('claims', `the token's "${unstorable.path}" claim ${unstorable.message}`, listed.url);
    }
    return { ok: true, client: listed.name, caller: callerFromPayload(listed.url, payload) };
  }
}

/** Verifies with the key the header names; a token without `kid` is tried against each key that fits its `alg`. */
async function verifyWithKeySet(
  token: string,
  jwks: JSONWebKeySet,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, createLocalJWKSet(jwks), options)).payload;
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    for await (const key of err) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        if (inner instanceof errors.JWSSignatureVerificationFailed) continue;
        throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

function describeFailure(err: unknown, audience: string, kid: string | undefined): [RefusalReason, string] {
  if (err instanceof errors.JWTExpired) {
    const exp = err.payload.exp;
    return [
      'expired',
      `the token expired${typeof exp === 'number' ? ` at ${new Date(exp * 1000).toISOString()}` : ''}`,
    ];
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud')
      return ['audience', `the token's audience is not "${audience}" (COUNTERSIGN_OIDC_AUDIENCE)`];
    if (err.claim === 'nbf') {
      const nbf = err.payload.nbf;
      return [
        'not_yet_valid',
        `the token is not valid before ${typeof nbf === 'number' ? new Date(nbf * 1000).toISOString() : 'its nbf'}`,
      ];
    }
    return [
      'claims',
      `the token's "${err.claim}" claim is ${err.reason === 'missing' ? 'missing' : 'invalid'}`,
    ];
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return [
      'signature',
      `the token's signature does not verify with the issuer's key${kid ? ` "${kid}"` : 's'}`,
    ];
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return ['unknown_key', "none of the issuer's keys fits the token's alg and kid"];
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return ['algorithm', "the token's algorithm is not accepted"];
  }
  return ['malformed', `the token is malformed (${(err as Error).message})`];
}
