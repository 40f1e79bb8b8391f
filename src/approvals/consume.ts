import type { AuditLog } from '../audit/audit-log.js';
import type { Caller } from '../core/caller.js';
import type { ApprovalRequest, Status } from '../core/types.js';
import { attestationExpiresAt } from '../identity/attestation-sign.js';
import { sameOwner } from '../identity/caller-owner.js';
import type { OpenDatabase } from '../store/db.js';
import type { RequestsRepo } from '../store/requests-repo.js';

/** Who consumes: the authenticated client and, for an OIDC caller, its proven identity. */
export interface Consumer {
  client: string;
  caller: Caller | null;
}

export type ConsumeResult =
  | { kind: 'consumed'; request: ApprovalRequest }
  | { kind: 'not_found' }
  /** Not approved (pending, denied, expired, cancelled): nothing to run, nothing changes. */
  | { kind: 'not_approved'; status: Status }
  /** The attestation's lifetime is over: the approval no longer permits the action. */
  | { kind: 'approval_expired'; expiredAt: number }
  | { kind: 'already_consumed'; consumedAt: number };

export interface ConsumeDeps {
  database: OpenDatabase;
  audit: AuditLog;
  requests: RequestsRepo;
}

/**
 * `POST /api/v1/requests/:id/consume` (CONTRACT §12): the first consumer of an approved request
 * wins, every later one is refused, in one transaction with its audit event (`request.consumed`, or
 * `request.consume_refused` naming why). A request that is not approved, or whose attestation has
 * expired, is refused and changes nothing but the audit trail. Another owner's request is unknown.
 */
export function consumeRequest(deps: ConsumeDeps, id: string, by: Consumer, now: number): ConsumeResult {
  return deps.database.tx((): ConsumeResult => {
    const request = deps.requests.get(id);
    if (!request || !sameOwner(request, by)) return { kind: 'not_found' };
    const result = check(request, now);
    if (result === null && !deps.requests.markConsumed(id, now)) {
      throw new Error(`request ${id} changed under an immediate transaction`);
    }
    const outcome = result ?? { kind: 'consumed', request: deps.requests.get(id) as ApprovalRequest };
    deps.audit.append(
      {
        type: outcome.kind === 'consumed' ? 'request.consumed' : 'request.consume_refused',
        requestId: id,
        actor: `client:${by.client}`,
        data: {
          ...(outcome.kind === 'consumed' ? {} : { refusal: outcome.kind }),
          caller: by.caller === null ? null : { issuer: by.caller.issuer, subject: by.caller.subject },
          payload_sha256: request.payloadSha256,
          at: new Date(now).toISOString(),
        },
      },
      now,
    );
    return outcome;
  });
}

function check(request: ApprovalRequest, now: number): Exclude<ConsumeResult, { kind: 'consumed' }> | null {
  if (request.status !== 'approved') return { kind: 'not_approved', status: request.status };
  if (request.consumedAt !== null) return { kind: 'already_consumed', consumedAt: request.consumedAt };
  const expiresAt = request.attestation === null ? null : attestationExpiresAt(request.attestation);
  if (expiresAt !== null && now >= expiresAt) return { kind: 'approval_expired', expiredAt: expiresAt };
  return null;
}
