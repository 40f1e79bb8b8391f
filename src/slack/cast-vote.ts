import type { Approvals } from '../approvals/service.js';
import type { Clicker, Decision } from '../core/types.js';
import type { Logger } from '../log.js';
import { type Identity, IdentityError } from './identity.js';
import { refusalText } from './refusal-text.js';

export interface VoteDeps {
  approvals: Approvals;
  identity: Identity;
  now: () => number;
  log: Logger;
}

export interface SlackActor {
  id: string;
  teamId: string | null;
  enterpriseId: string | null;
}

export type CastResult = { ok: true } | { ok: false; text: string };

/** A clicker known only from the payload, for refusals that need no lookup. */
export function bareClicker(actor: SlackActor): Clicker {
  return {
    userId: actor.id,
    teamId: actor.teamId,
    enterpriseId: actor.enterpriseId,
    name: null,
    email: null,
    isBot: false,
    isAppUser: false,
    isRestricted: false,
    isUltraRestricted: false,
    deleted: false,
    groups: [],
  };
}

/**
 * One path for every vote, whatever surface it came from (card button, deny modal, App Home):
 * resolve who clicked and who asked, then let the core decide inside one transaction.
 */
export async function castVote(
  deps: VoteDeps,
  requestId: string,
  actor: SlackActor,
  choice: { decision: Decision; reason?: string | null },
): Promise<CastResult> {
  const request = await deps.approvals.requests.get(requestId);
  if (!request) return { ok: false, text: 'This approval request no longer exists.' };
  let clicker = bareClicker(actor);
  if (request.status === 'pending') {
    try {
      const learned = await deps.identity.resolveRequester(request);
      if (Object.keys(learned).length > 0)
        await deps.approvals.recordRequesterCheck(requestId, learned, deps.now());
      const groups = request.approvers.flatMap((s) => s.groups);
      clicker = await deps.identity.clicker(actor.id, groups, actor);
    } catch (err) {
      if (!(err instanceof IdentityError)) throw err;
      deps.log.warn('identity lookup failed; vote not recorded', {
        requestId,
        user: actor.id,
        error: err.message,
      });
      return { ok: false, text: refusalText('identity_unavailable') };
    }
  }
  const result = await deps.approvals.vote(requestId, clicker, choice, deps.now());
  if (result.outcome.ok) return { ok: true };
  return { ok: false, text: refusalText(result.outcome.refusal, result.request?.status) };
}
