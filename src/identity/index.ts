/**
 * OIDC callers and approval attestations (CONTRACT §11, §12). Depends on the core and the audit
 * key types only; the server wires it (see `Identity`).
 */
export {
  type AttestationFacts,
  type AttestationKey,
  attestationClaims,
  signAttestation,
} from './attestation-sign.js';
export {
  ATTESTATION_TYP,
  type AttestationClaims,
  type AttestationResult,
  verifyAttestation,
} from './attestation-verify.js';
export { type CallerFacts, callerFacts } from './caller-facts.js';
export { callerOwner, sameOwner } from './caller-owner.js';
export {
  type AttestedRequest,
  type Attestor,
  Identity,
  type IdentityConfig,
  type IssuedAttestation,
} from './identity.js';
export { jwksDocument, keyRetirements, type PublishedKey } from './jwks-document.js';
export {
  bearerToken,
  type OidcResult,
  OidcVerifier,
  type RefusalReason,
  type TrustedIssuer,
} from './oidc-verifier.js';
