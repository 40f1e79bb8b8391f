import { createHash } from 'node:crypto';
import type { AttestationResult, RequestObject } from '../client/index.js';

/** A call that was sent for approval: the exact request body, and where in it the arguments sit. */
export interface SentCall {
  /** The exact JSON text POSTed to `/api/v1/requests` (its SHA-256 is what reviewers approve). */
  body: string;
  /** The `context` key holding the call's arguments as JSON text (`arguments`, or `input` for a prompt). */
  argumentsKey: 'arguments' | 'input';
}

export type ForwardDecision =
  | { forward: true; arguments: Record<string, unknown> }
  | { forward: false; why: string };

/**
 * Checks an approval's signed attestation (CONTRACT §12) for exactly these bytes and this action,
 * with the server's published keys: `Countersign.verifyApproval`. May throw when the keys cannot be had.
 */
export type AttestationCheck = (
  request: RequestObject,
  expect: { payload: string; action: string },
) => Promise<AttestationResult>;

/**
 * The one place that decides whether an approved call may go ahead, called just before the call
 * is forwarded (the gateway) or allowed (approval_prompt). It goes ahead only when the request is
 * approved and its `payload_sha256` is the SHA-256 of the very bytes this process sent; the
 * arguments handed on are parsed back from those bytes, so they are exactly what was approved.
 * When the approval carries an attestation, it must verify (signature, expiry, these bytes, this
 * action) with `verify`; without `verify` such an approval is not forwarded. A keys fetch that
 * fails refuses the call: nothing runs on an approval that could not be checked.
 */
export async function decideForward(
  sent: SentCall,
  request: RequestObject,
  verify?: AttestationCheck,
): Promise<ForwardDecision> {
  if (request.status !== 'approved') return { forward: false, why: `the request is ${request.status}` };
  const sha = createHash('sha256').update(sent.body, 'utf8').digest('hex');
  if (request.payload_sha256 !== sha) {
    return {
      forward: false,
      why: `the approved request ${request.id} is not this call (its payload_sha256 differs from the bytes sent)`,
    };
  }
  // null (or absent, from a server before §12): nothing to check beyond the bytes.
  if (request.attestation != null) {
    const refused = await attestationRefusal(sent, request, verify);
    if (refused !== null) return { forward: false, why: refused };
  }
  const args = approvedArguments(sent);
  if (args === null) return { forward: false, why: 'the approved body does not carry the call arguments' };
  return { forward: true, arguments: args };
}

/** Why the attestation of `request` does not allow this call, or null when it does. */
async function attestationRefusal(
  sent: SentCall,
  request: RequestObject,
  verify: AttestationCheck | undefined,
): Promise<string | null> {
  if (verify === undefined)
    return `the approval of ${request.id} carries an attestation that nothing here can check`;
  const action = (JSON.parse(sent.body) as { action?: unknown }).action;
  let result: AttestationResult;
  try {
    result = await verify(request, { payload: sent.body, action: typeof action === 'string' ? action : '' });
  } catch (err) {
    return `the attestation of ${request.id} could not be checked: ${(err as Error).message}`;
  }
  if (result.ok) return null;
  return `the attestation of ${request.id} does not hold: ${result.failures.map((f) => `${f.check}: ${f.message}`).join('; ')}`;
}

/** The arguments as they stand in the approved bytes, or null when the body does not hold an object there. */
function approvedArguments(sent: SentCall): Record<string, unknown> | null {
  try {
    const body = JSON.parse(sent.body) as { context?: Record<string, unknown> };
    const text = body.context?.[sent.argumentsKey];
    if (typeof text !== 'string') return null;
    const args = JSON.parse(text) as unknown;
    return args !== null && typeof args === 'object' && !Array.isArray(args)
      ? (args as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
