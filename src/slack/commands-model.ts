import type { RequestLine } from '../../blocks/command-format.js';
import { decide, isRequester } from '../core/decide.js';
import type { ApprovalRequest } from '../core/types.js';
import type { ListingStore, StatsStore } from '../store/store.js';
import { toCardView } from './card-view.js';
import type { SlackActor, VoteDeps } from './cast-vote.js';
import { visibility } from './channel-visibility.js';
import { IdentityError } from './identity.js';

/** What `/approvals` and the App Home read: the vote path's dependencies plus read-only queries. */
export interface ReadDeps extends VoteDeps {
  listing: ListingStore;
  stats: StatsStore;
  /** COUNTERSIGN_ADMINS: user IDs and user group IDs. */
  admins: readonly string[];
}

/** How many pending requests are scanned for "waiting for my vote" (newest first). */
export const WAITING_SCAN = 500;

export async function toLines(
  deps: Pick<VoteDeps, 'approvals'>,
  list: ApprovalRequest[],
): Promise<RequestLine[]> {
  const votes = await deps.approvals.requests.votesFor(list.map((r) => r.id));
  return list.map((r) => ({
    ...toCardView(r, votes.get(r.id) ?? []),
    channel: r.channel,
    slackUrl: r.slackUrl,
    deliveryError: r.deliveryError,
  }));
}

export interface Waiting {
  items: ApprovalRequest[];
  /** Words for the person when Slack could not tell who they are; the list is then empty. */
  problem: string | null;
}

/**
 * The pending requests this person could approve right now: the core rule (`decide`) says an
 * Approve from them would count — so not the requester, not already voted, an allowed approver,
 * and a human member (not a bot, guest or deactivated account) of the request's channel. Newest first.
 */
export async function waitingFor(deps: ReadDeps, actor: SlackActor): Promise<Waiting> {
  const now = deps.now();
  const pending = (await deps.listing.pendingPage(0, WAITING_SCAN)).filter((r) => now < r.expiresAt);
  const votes = await deps.approvals.requests.votesFor(pending.map((r) => r.id));
  // What stored state alone rules out, before asking Slack anything.
  const candidates = pending.filter(
    (r) =>
      !(votes.get(r.id) ?? []).some((v) => v.userId === actor.id) &&
      !isRequester(r, { userId: actor.id, email: null }),
  );
  if (candidates.length === 0) return { items: [], problem: null };
  // Only requests whose channel the person is in: a card in a private channel is not theirs to read.
  const view = await visibility(
    deps,
    actor.id,
    candidates.map((r) => r.channel),
  );
  const readable = candidates.filter((r) => view.sees(r));
  if (readable.length === 0) return { items: [], problem: view.problem };
  const groups = [...new Set(readable.flatMap((r) => r.approvers.flatMap((s) => s.groups)))];
  try {
    const clicker = await deps.identity.clicker(actor.id, groups, actor);
    const items = readable.filter(
      (r) =>
        decide(r, votes.get(r.id) ?? [], clicker, { decision: 'approve' }, now, deps.approvals.workspace).ok,
    );
    return { items, problem: view.problem };
  } catch (err) {
    if (!(err instanceof IdentityError)) throw err;
    deps.log.warn('identity lookup failed while listing what waits for a vote', {
      user: actor.id,
      error: err.message,
    });
    return {
      items: [],
      problem:
        'Countersign could not check with Slack which requests you may approve just now. Please try again in a moment.',
    };
  }
}

/** This person's own requests (by Slack ID, or by their email when Slack tells it), newest first. */
export async function requestedBy(
  deps: ReadDeps,
  userId: string,
  limit: number,
): Promise<{ items: ApprovalRequest[]; total: number }> {
  let email: string | null = null;
  try {
    email = (await deps.identity.user(userId)).email;
  } catch (err) {
    if (!(err instanceof IdentityError)) throw err;
  }
  return deps.listing.requestedBy(userId, email, limit);
}
