import type { ApprovalRequest } from '../core/types.js';
import type { ReadDeps } from './commands-model.js';
import { IdentityError } from './identity.js';

/** Which channels a person may read requests of, and words for them when Slack could not say. */
export interface Visibility {
  sees(request: Pick<ApprovalRequest, 'channel'>): boolean;
  /** Set when some channel's members could not be read; its requests are left out. */
  problem: string | null;
}

/**
 * A request's card lives in a channel, possibly private: `/approvals` and the App Home show it only
 * to members of that channel (conversations.members, cached briefly). A channel whose members
 * Slack cannot list is treated as one the person is not in.
 */
export async function visibility(
  deps: ReadDeps,
  userId: string,
  channels: Iterable<string>,
): Promise<Visibility> {
  const visible = new Set<string>();
  let unreadable = 0;
  for (const channel of new Set(channels)) {
    try {
      if ((await deps.identity.channelMembers(channel)).has(userId)) visible.add(channel);
    } catch (err) {
      if (!(err instanceof IdentityError)) throw err;
      unreadable++;
      deps.log.warn('could not list the members of a channel; its requests stay hidden', {
        channel,
        error: err.message,
      });
    }
  }
  return {
    sees: (r) => visible.has(r.channel),
    problem:
      unreadable === 0
        ? null
        : `Slack could not list the members of ${unreadable === 1 ? 'a channel' : `${unreadable} channels`}, so the requests posted there are not shown. Please try again in a moment.`,
  };
}

/** How many pending requests are read at a time while filtering a listing by channel. */
const SCAN_BATCH = 500;

/**
 * One page of the pending requests this person may see, newest first, and how many they may see
 * in all. When they are in every channel with pending requests, this is the plain listing.
 */
export async function visiblePendingPage(
  deps: ReadDeps,
  userId: string,
  offset: number,
  limit: number,
): Promise<{ items: ApprovalRequest[]; total: number; problem: string | null }> {
  const byChannel = await deps.listing.pendingByChannel();
  const view = await visibility(
    deps,
    userId,
    byChannel.map((c) => c.channel),
  );
  const shown = byChannel.filter((c) => view.sees(c));
  const total = shown.reduce((n, c) => n + c.pending, 0);
  if (shown.length === byChannel.length) {
    return { items: await deps.listing.pendingPage(offset, limit), total, problem: view.problem };
  }
  const items: ApprovalRequest[] = [];
  let seen = 0;
  for (let at = 0; items.length < limit; at += SCAN_BATCH) {
    const batch = await deps.listing.pendingPage(at, SCAN_BATCH);
    for (const r of batch) {
      if (!view.sees(r)) continue;
      if (seen++ >= offset && items.length < limit) items.push(r);
    }
    if (batch.length < SCAN_BATCH) break;
  }
  return { items, total, problem: view.problem };
}
