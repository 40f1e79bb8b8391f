/** Replies posted in the card's thread: each vote, the outcome, and reminders. */

import type { KnownBlock } from '@slack/types';
import { md } from './card-sections.js';
import { clip, clipEscaped } from './mrkdwn.js';
import { isUserId, joinWithin, mention, mentionUser, roughDuration, slackDate } from './tokens.js';
import type { CardView, CardVote, ThreadMessage } from './view-model.js';
import { approvers, outcomeText, progressText, quoteReason, requesterText, STATUS_WORDS } from './wording.js';

/** Thread replies stay far below every limit: one section of at most this many characters. */
const MAX_REPLY = 2900;

function reply(mrkdwn: string, fallback: string): ThreadMessage {
  const text = clipEscaped(mrkdwn, MAX_REPLY);
  const blocks: KnownBlock[] = [{ type: 'section', text: md(text) }];
  return { text: clipEscaped(fallback, 500), blocks };
}

function titleOf(view: CardView, max = 150): string {
  return clip(view.title.trim() === '' ? '(untitled request)' : view.title, 'inline', max);
}

/** A vote as it happened: "✅ @ana approved — 1 of 2 approvals". */
export function renderVoteReply(view: CardView, vote: CardVote): ThreadMessage {
  const who = mentionUser(vote.userId);
  if (vote.decision === 'deny') {
    const line = `:no_entry: ${who} denied this request${quoteReason(vote.reason)}`;
    return reply(line, `${who} denied: ${titleOf(view)}`);
  }
  const counted = approvers(view).includes(vote.userId) ? view : { ...view, votes: [...view.votes, vote] };
  const line = `:white_check_mark: ${who} approved — ${progressText(counted)}${quoteReason(vote.reason, 500)}`;
  return reply(line, `${who} approved: ${titleOf(view)} (${progressText(counted)})`);
}

/** The final outcome, addressed to the requester: approved, denied, expired, cancelled or auto-approved. */
export function renderOutcomeReply(view: CardView): ThreadMessage {
  const requester = view.requester.slackUserId;
  const cc = requester !== null && isUserId(requester) ? `\ncc ${mentionUser(requester)}` : '';
  const body = `${clipEscaped(outcomeText(view), MAX_REPLY - cc.length)}${cc}`;
  const word = (STATUS_WORDS[view.status] ?? STATUS_WORDS.pending).word;
  return reply(body, `${word}: ${titleOf(view)} — requested by ${requesterText(view, 120)}`);
}

/**
 * A nudge to approvers who have not voted yet, with the time left. `userIds` may hold user IDs and
 * user group IDs. The time left is exact when `now` is given; the expiry is always shown as a date.
 */
export function renderReminder(view: CardView, userIds: string[], now?: number): ThreadMessage {
  const who = userIds.length > 0 ? joinWithin(userIds.map(mention), ' ', 1500) : 'Approvers';
  const left =
    now === undefined
      ? ''
      : view.expiresAt > now
        ? `${roughDuration(view.expiresAt - now)} left — `
        : 'time is up — ';
  const line =
    `:bell: ${who}: *${titleOf(view, 300)}* is waiting for your decision (${progressText(view)}).\n` +
    `:hourglass_flowing_sand: ${left}expires ${slackDate(view.expiresAt)}`;
  return reply(line, `Reminder: ${titleOf(view)} is waiting for your decision`);
}
