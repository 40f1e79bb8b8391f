import { type Countersign, CountersignError, type RequestObject } from '../client/index.js';
import { decideForward, type SentCall } from './forward-decision.js';

/** How one call fared: approved (with the exact approved arguments) or not, and why. */
export type GateOutcome =
  | { kind: 'approved'; arguments: Record<string, unknown>; request: RequestObject }
  /** Decided without approval (denied, expired, cancelled), or approved but not for these bytes. */
  | { kind: 'refused'; request: RequestObject; why: string }
  /** A policy `deny` rule refused it outright (403): no request, no card. */
  | { kind: 'policy_denied'; rule: string }
  /** The caller gave up (its signal aborted); the request, if one was made, has been cancelled. */
  | { kind: 'abandoned'; request: RequestObject | null }
  /** Countersign could not be asked or did not answer; nothing was approved. */
  | { kind: 'failed'; message: string; request: RequestObject | null };

export interface GateOptions {
  countersign: Countersign;
  /** Seconds each long poll waits; progress is reported after each (1–55). */
  pollSeconds: number;
  /** The webhook-id of the POST (idempotency key); random when absent. */
  idempotencyKey?: string;
  /** Aborted when the caller no longer wants the answer: the request is then cancelled. */
  signal: AbortSignal;
  /** Why the request is cancelled when the signal aborts (shown on the card), unless the abort reason is a text. */
  cancelReason: string;
  /** Called once the request exists and after each poll that found it still pending. */
  onPending?: (request: RequestObject, polls: number) => void;
  /** Where problems that do not change the outcome are reported (stderr). */
  log: (line: string) => void;
}

/** The reason to record for an abandoned request: the abort's own words when it gave some. */
function abandonReason(opts: GateOptions): string {
  const reason = opts.signal.reason;
  return (typeof reason === 'string' && reason.trim() !== '' ? reason.trim() : opts.cancelReason).slice(
    0,
    500,
  );
}

const describeError = (err: unknown) =>
  err instanceof CountersignError ? `${err.message} (${err.code})` : (err as Error).message;

/** Withdraws a request nobody waits for any more; a failure is only reported, never thrown. */
async function cancelQuietly(
  opts: GateOptions,
  request: RequestObject,
  reason: string,
): Promise<RequestObject> {
  try {
    return await opts.countersign.cancel(request.id, reason);
  } catch (err) {
    if (err instanceof CountersignError && err.request) return err.request;
    opts.log(`could not cancel ${request.id}: ${describeError(err)}`);
    return request;
  }
}

/**
 * Asks for approval of one call and waits until it is decided, however long that takes (the
 * request's TTL bounds it): posts `sent.body` byte for byte, long-polls in chunks of `pollSeconds`,
 * and on approval lets `decideForward` check the approved bytes. Never throws: every way out is an
 * outcome, and anything that is not `approved` means the call must not run.
 */
export async function gateCall(sent: SentCall, opts: GateOptions): Promise<GateOutcome> {
  const cs = opts.countersign;
  let request: RequestObject;
  try {
    // Not aborted mid-flight: a POST the server accepted must be known here so that it can be cancelled.
    request = await cs.requestApproval(
      sent.body,
      opts.idempotencyKey === undefined ? {} : { idempotencyKey: opts.idempotencyKey },
    );
  } catch (err) {
    if (err instanceof CountersignError && err.code === 'denied_by_policy') {
      const rule = (err.body as { rule?: unknown } | null)?.rule;
      return { kind: 'policy_denied', rule: typeof rule === 'string' ? rule : '(unnamed)' };
    }
    return { kind: 'failed', message: `asking for approval failed: ${describeError(err)}`, request: null };
  }
  if (opts.signal.aborted) {
    return { kind: 'abandoned', request: await cancelQuietly(opts, request, abandonReason(opts)) };
  }
  let polls = 0;
  if (request.status === 'pending') {
    opts.onPending?.(request, polls);
    try {
      request = await cs.waitForDecision(request.id, {
        signal: opts.signal,
        pollSeconds: opts.pollSeconds,
        onUpdate: (r) => {
          polls += 1;
          if (r.status === 'pending') opts.onPending?.(r, polls);
        },
      });
    } catch (err) {
      if (opts.signal.aborted) {
        return { kind: 'abandoned', request: await cancelQuietly(opts, request, abandonReason(opts)) };
      }
      const last = await cancelQuietly(
        opts,
        request,
        'the approval could not be awaited (Countersign unreachable)',
      );
      return {
        kind: 'failed',
        message: `waiting for ${request.id} failed: ${describeError(err)}`,
        request: last,
      };
    }
  }
  const decision = await decideForward(sent, request, (r, expect) => cs.verifyApproval(r, expect));
  if (decision.forward) return { kind: 'approved', arguments: decision.arguments, request };
  return { kind: 'refused', request, why: decision.why };
}
