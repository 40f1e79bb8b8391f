import { createHash } from 'node:crypto';
import type { AuditInput } from '../audit/audit-log.js';
import { attestationTtlSeconds, type Policy } from '../core/policy.js';
import type { ApprovalRequest, Vote } from '../core/types.js';
import { type AttestationKey, attestationClaims, signAttestation } from './attestation-sign.js';
import { jwksDocument, type PublishedKey } from './jwks-document.js';
import { bearerToken, type OidcResult, OidcVerifier, type TrustedIssuer } from './oidc-verifier.js';

/** The parts of the server configuration (src/config.ts `Config`) this needs. */
export interface IdentityConfig {
  oidcIssuers: readonly TrustedIssuer[];
  oidcAudience: string;
  /** COUNTERSIGN_PUBLIC_URL: the attestations' `iss`; null leaves it out. */
  publicUrl: string | null;
}

export type AttestedRequest = Pick<
  ApprovalRequest,
  'id' | 'action' | 'resource' | 'environment' | 'client' | 'payloadSha256' | 'policyRule'
>;

/** An attestation signed for an approval, and the audit event that records its issuing. */
export interface IssuedAttestation {
  token: string;
  event: AuditInput;
}

/** What the approvals service needs to attest an approval inside the transaction that records it. */
export interface Attestor {
  issue(
    request: AttestedRequest,
    votes: readonly Pick<Vote, 'userId' | 'decision'>[],
    decidedAt: number,
    policy: Policy | null,
  ): IssuedAttestation;
}

/**
 * What the server needs of src/identity, in one object made at start: OIDC callers on the way in,
 * attestations on approval, the JWKS that verifies them.
 */
export class Identity implements Attestor {
  readonly oidc: OidcVerifier;

  constructor(
    private readonly config: IdentityConfig,
    private readonly key: AttestationKey,
    opts: { fetch?: typeof fetch; now?: () => number } = {},
  ) {
    this.oidc = new OidcVerifier({ issuers: config.oidcIssuers, audience: config.oidcAudience, ...opts });
  }

  /**
   * null when the call carries no `Authorization: Bearer` (check Standard Webhooks signatures
   * instead); otherwise the caller, or the refusal to answer (401 / 503 with its message).
   */
  async authenticateBearer(authorization: string | undefined): Promise<OidcResult | null> {
    const token = bearerToken(authorization);
    return token === null ? null : this.oidc.verify(token);
  }

  /**
   * The attestation of a request approved at `decidedAt`: its approvers are those who voted
   * approve (none for a policy `auto_approve`), its lifetime the `attestation_ttl_seconds` of the
   * rule that governed it. Synchronous: sign and store it in the transaction that approves.
   */
  attest(
    request: AttestedRequest,
    votes: readonly Pick<Vote, 'userId' | 'decision'>[],
    decidedAt: number,
    policy: Policy | null,
  ): string {
    return this.issue(request, votes, decidedAt, policy).token;
  }

  /** `attest`, with the `attestation.issued` audit event that records it (not the token itself). */
  issue(
    request: AttestedRequest,
    votes: readonly Pick<Vote, 'userId' | 'decision'>[],
    decidedAt: number,
    policy: Policy | null,
  ): IssuedAttestation {
    const facts = {
      requestId: request.id,
      action: request.action,
      resource: request.resource,
      environment: request.environment,
      client: request.client,
      payloadSha256: request.payloadSha256,
      approvers: votes.filter((v) => v.decision === 'approve').map((v) => v.userId),
      decidedAt,
      ttlSeconds: attestationTtlSeconds(policy, request.policyRule),
      issuer: this.config.publicUrl,
    };
    const token = signAttestation(this.key, facts);
    const claims = attestationClaims(facts);
    return {
      token,
      event: {
        type: 'attestation.issued',
        requestId: request.id,
        actor: 'system',
        data: {
          key_id: this.key.keyId,
          payload_sha256: claims.payload_sha256,
          approvers: claims.approvers,
          iat: claims.iat,
          exp: claims.exp,
          token_sha256: createHash('sha256').update(token).digest('hex'),
        },
      },
    };
  }

  /** The body of `GET /.well-known/jwks.json` (see `jwksDocument`). */
  jwks(keys: readonly PublishedKey[], now: number) {
    return jwksDocument(keys, now);
  }
}
