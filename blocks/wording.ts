/** The words shared by the card and the thread messages: risk, status, people, outcome. */

import { clip } from './mrkdwn.js';
import { isUserId, joinWithin, mention, mentionUser, plural, slackDate } from './tokens.js';
import type { CardRisk, CardStatus, CardView } from './view-model.js';

export const RISK_MARKERS: Record<CardRisk, { emoji: string; word: string }> = {
  low: { emoji: ':large_green_circle:', word: 'Low risk' },
  medium: { emoji: ':large_yellow_circle:', word: 'Medium risk' },
  high: { emoji: ':large_orange_circle:', word: 'High risk' },
  critical: { emoji: ':red_circle:', word: 'CRITICAL risk' },
};

export function riskMarker(risk: CardRisk): string {
  const m = RISK_MARKERS[risk] ?? RISK_MARKERS.medium;
  return `${m.emoji} ${m.word}`;
}

export const STATUS_WORDS: Record<CardStatus, { emoji: string; word: string }> = {
  pending: { emoji: ':hourglass_flowing_sand:', word: 'Waiting for approval' },
  approved: { emoji: ':white_check_mark:', word: 'Approved' },
  denied: { emoji: ':no_entry:', word: 'Denied' },
  expired: { emoji: ':hourglass:', word: 'Expired (nobody decided in time)' },
  cancelled: { emoji: ':leftwards_arrow_with_hook:', word: 'Cancelled' },
};

/** Follows a requester that Slack knows no user for: reviewers must not take the name on trust. */
export const UNVERIFIED_MARK = ' :warning: _unverified: no Slack user matches_';

/**
 * The requester as a mention when the Slack user is known, else name and email (escaped, one
 * line), marked unverified when Slack knows no such user.
 */
export function requesterText(view: CardView, max = 250): string {
  const unverified = view.requester.verified === false;
  const who = requesterName(view, unverified ? max - UNVERIFIED_MARK.length : max);
  return unverified ? `${who}${UNVERIFIED_MARK}` : who;
}

function requesterName(view: CardView, max: number): string {
  const { slackUserId, name, email } = view.requester;
  if (slackUserId !== null && isUserId(slackUserId)) return mentionUser(slackUserId);
  const n = name?.trim() ? name : null;
  const e = email?.trim() ? email : null;
  if (n !== null && e !== null) return clip(`${n} (${e})`, 'inline', max);
  if (n !== null || e !== null) return clip(n ?? e ?? '', 'inline', max);
  return 'an unknown requester';
}

/** Who decided, in words: a mention, "policy", "Countersign" (expiry) or "the pipeline *name*". */
export function deciderText(decidedBy: string | null): string | null {
  if (decidedBy === null || decidedBy === '') return null;
  if (decidedBy === 'policy') return 'policy';
  if (decidedBy === 'system') return 'Countersign';
  if (decidedBy.startsWith('client:')) return `the pipeline *${clip(decidedBy.slice(7), 'inline', 80)}*`;
  return mention(decidedBy);
}

/** Distinct users who approved, in voting order. */
export function approvers(view: CardView): string[] {
  const seen = new Set<string>();
  for (const v of view.votes) if (v.decision === 'approve') seen.add(v.userId);
  return [...seen];
}

export function progressText(view: CardView): string {
  return `${approvers(view).length} of ${plural(Math.max(1, view.minApprovals), 'approval')}`;
}

/** A reason as a quote, escaped and clipped. */
export function quoteReason(reason: string | null, max = 1000): string {
  if (reason === null || reason.trim() === '') return '';
  return `\n${clip(reason.trim(), 'mrkdwn', max)
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n')}`;
}

function when(ms: number | null): string {
  return ms === null ? '' : ` · ${slackDate(ms)}`;
}

/**
 * The one-paragraph outcome of a request that left `pending`: who decided, when and why.
 * An expiry is worded as what it is (nobody decided in time), never as a denial.
 */
export function outcomeText(view: CardView): string {
  const s = STATUS_WORDS[view.status] ?? STATUS_WORDS.pending;
  const by = deciderText(view.decidedBy);
  switch (view.status) {
    case 'approved': {
      if (view.decidedBy === 'policy') {
        const rule = view.policyRule?.trim() ? ` rule “${clip(view.policyRule, 'inline', 100)}”` : '';
        return `${s.emoji} *Approved automatically by policy${rule}*${when(view.decidedAt)}`;
      }
      const names = approvers(view).map(mentionUser);
      const who = names.length > 0 ? joinWithin(names, ', ', 800) : (by ?? 'the approvers');
      return `${s.emoji} *Approved* by ${who}${when(view.decidedAt)}${quoteReason(view.reason, 500)}`;
    }
    case 'denied':
      return `${s.emoji} *Denied*${by === null ? '' : ` by ${by}`}${when(view.decidedAt)}${quoteReason(view.reason)}`;
    case 'expired': {
      const given = approvers(view).length;
      const note = given > 0 ? `\n${progressText(view)} had been given by then.` : '';
      return `${s.emoji} *Expired — nobody decided in time*${when(view.decidedAt ?? view.expiresAt)}${note}`;
    }
    case 'cancelled':
      return `${s.emoji} *Cancelled*${by === null ? '' : ` by ${by}`}${when(view.decidedAt)}${quoteReason(view.reason)}`;
    default:
      return `${s.emoji} *${s.word}* — ${progressText(view)} · expires ${slackDate(view.expiresAt)}`;
  }
}

/** One line for notifications and screen readers: status, title, requester. */
export function fallbackText(view: CardView): string {
  const title = clip(view.title, 'inline', 150);
  const who = requesterText(view, 120);
  const client = clip(view.client, 'inline', 60);
  const lead =
    view.status === 'pending'
      ? `Approval needed (${(RISK_MARKERS[view.risk] ?? RISK_MARKERS.medium).word.toLowerCase()})`
      : (STATUS_WORDS[view.status] ?? STATUS_WORDS.pending).word;
  return `${lead}: ${title} — requested by ${who} via ${client}`;
}
