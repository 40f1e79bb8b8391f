import type { JWTPayload } from 'jose';
import type { Caller } from '../core/caller.js';

/** Claims about the token itself, not the caller; `iss` and `sub` are kept as the caller's issuer and subject. */
const TOKEN_MECHANICS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);
/** Bounds that keep a request row small whatever an issuer puts in its tokens. */
const MAX_CLAIMS = 64;
const MAX_CLAIM_JSON = 2000;

/**
 * The caller a verified token proves: its issuer, subject and every other claim (repository, ref,
 * workflow, actor, environment, run ids, ...) as JSON. The raw token is not kept. Claims whose JSON
 * is longer than 2000 characters, and any beyond the 64th, are left out.
 */
export function callerFromPayload(issuer: string, payload: JWTPayload): Caller {
  const claims: Record<string, unknown> = {};
  let count = 0;
  for (const [name, value] of Object.entries(payload)) {
    if (TOKEN_MECHANICS.has(name) || value === undefined) continue;
    if (count >= MAX_CLAIMS) break;
    if (JSON.stringify(value).length > MAX_CLAIM_JSON) continue;
    claims[name] = value;
    count++;
  }
  return { issuer, subject: payload.sub as string, claims };
}
