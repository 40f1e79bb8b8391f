/** The App Home tab: what waits for the viewer's vote (with buttons), what they requested, and for admins a summary. */

import type { HomeView, KnownBlock } from '@slack/types';
import { md, section } from './card-sections.js';
import { channelMention, countNote, fitView, type RequestLine, requestLine } from './command-format.js';
import { clip, clipEscaped } from './mrkdwn.js';
import { joinWithin, plural, roughDuration, slackDate } from './tokens.js';
import { voteButtons } from './vote-buttons.js';

/** Prefix of the `block_id` of the buttons under each waiting request (the suffix is the request id). */
export const HOME_VOTE_BLOCK = 'home_vote:';

export interface HomeNotice {
  kind: 'done' | 'refused';
  text: string;
}

export interface HomeModel {
  /** The outcome of the viewer's last click on this tab, shown on top. */
  notice: HomeNotice | null;
  waiting: RequestLine[];
  waitingTotal: number;
  /** Set when Slack could not say who the viewer is or which groups they are in. */
  waitingProblem: string | null;
  requested: RequestLine[];
  requestedTotal: number;
  /** Only for admins: pending requests per channel. */
  admin: { channels: { channel: string; pending: number; oldestCreatedAt: number }[] } | null;
}

const SECTION_MAX = 2900;

function context(text: string): KnownBlock {
  return { type: 'context', elements: [md(text)] };
}

function adminBlocks(admin: NonNullable<HomeModel['admin']>, now: number): KnownBlock[] {
  const total = admin.channels.reduce((n, c) => n + c.pending, 0);
  const lines = admin.channels.map(
    (c) =>
      `${channelMention(c.channel)} — ${plural(c.pending, 'pending request')}, oldest ${roughDuration(Math.max(0, now - c.oldestCreatedAt))} old`,
  );
  const body = total === 0 ? 'Nothing is pending in any channel.' : joinWithin(lines, '\n', 2500);
  return [
    { type: 'divider' },
    section(`*Pending by channel* (admin view, ${plural(total, 'request')} in all)\n${body}`),
  ];
}

/** Renders the Home tab; lists shrink until the view passes Slack's limits (100 blocks). */
export function renderHome(model: HomeModel, now: number): HomeView {
  const max = Math.max(model.waiting.length, model.requested.length);
  return fitView(max, (n) => {
    const blocks: KnownBlock[] = [
      { type: 'header', text: { type: 'plain_text', text: 'Countersign approvals', emoji: true } },
    ];
    if (model.notice !== null) {
      const icon = model.notice.kind === 'done' ? ':white_check_mark:' : ':warning:';
      blocks.push(section(`${icon} ${clip(model.notice.text, 'mrkdwn', 1000)}`));
    }
    const waiting = model.waiting.slice(0, n);
    if (model.waitingProblem !== null) {
      blocks.push(section(`:warning: ${clip(model.waitingProblem, 'mrkdwn', 1000)}`));
    } else if (model.waitingTotal === 0) {
      blocks.push(section('*Waiting for your vote:* nothing right now. :tada:'));
    } else {
      blocks.push(
        section(`*Waiting for your vote* (${countNote(waiting.length, model.waitingTotal, 'request')})`),
      );
      for (const line of waiting) {
        blocks.push(
          section(clipEscaped(requestLine(line, now), SECTION_MAX)),
          voteButtons(line.id, line.title, `${HOME_VOTE_BLOCK}${line.id}`),
        );
      }
      if (waiting.length < model.waitingTotal) {
        blocks.push(context('Oldest ones not shown here: see `/approvals list`.'));
      }
    }
    blocks.push({ type: 'divider' });
    const requested = model.requested.slice(0, n);
    if (model.requestedTotal === 0) {
      blocks.push(section('*You requested:* nothing yet.'));
    } else {
      blocks.push(
        section(`*You requested recently* (${countNote(requested.length, model.requestedTotal, 'request')})`),
      );
      for (const line of requested) {
        blocks.push(section(clipEscaped(requestLine(line, now, { showRequester: false }), SECTION_MAX)));
      }
    }
    if (model.admin !== null) blocks.push(...adminBlocks(model.admin, now));
    blocks.push(context(`Updated ${slackDate(now)} · \`/approvals help\` for commands`));
    return { type: 'home', blocks };
  });
}
