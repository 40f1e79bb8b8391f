import type { AuditLog } from '../audit/audit-log.js';
import type { Caller } from '../core/caller.js';
import type { ApprovalRequest, Status } from '../core/types.js';
import { attestationExpiresAt } from '../identity/attestation-sign.js';
import { sameOwner } from '../identity/caller-owner.js';
import type { Store } from '../store/store.js';

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
  store: Store;
  audit: AuditLog;
}

/**
 * `POST /api/v1/requests/:id/consume` (CONTRACT §12): the first consumer of an approved request
 * wins, every later one is refused, in one transaction with its audit event (`request.consumed`, or
 * `request.consume_refused` naming why). A request that is not approved, or whose attestation has
 * expired, is refused and changes nothing but the audit trail. Another owner's request is unknown.
 */
export function consumeRequest(
  deps: ConsumeDeps,
  id: string,
  by: Consumer,
  now: number,
): Promise<ConsumeResult> {
  return deps.store.transaction(async (t): Promise<ConsumeResult> => {
    // The row is held until the commit: two replicas consuming at once take turns, one wins.
    const request = await t.requests.getForUpdate(id);
    if (!request || !sameOwner(request, by)) return { kind: 'not_found' };
    const result = check(request, now);
    if (result === null && !(await t.requests.markConsumed(id, now))) {
      throw new Error(`request ${id} changed under its row lock`);
    }
    const outcome = result ?? { kind: 'consumed', request: (await t.requests.get(id)) as ApprovalRequest };
    await deps.audit.append(
      t,
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
