/** The private replies of `/approvals`: help, list, mine, show, stats, and short notices. */

import type { KnownBlock } from '@slack/types';
import { factsSection, md, metaBlock, section } from './card-sections.js';
import {
  type CommandReply,
  channelMention,
  countNote,
  deliveryProblem,
  fitMessage,
  linkedTitle,
  type RequestLine,
  requestLine,
  shortDuration,
  timeLeft,
  titleOf,
} from './command-format.js';
import { clip, clipEscaped } from './mrkdwn.js';
import { joinWithin, mention, mentionGroup, mentionUser, plural, slackDate } from './tokens.js';
import type { CardStatus } from './view-model.js';
import { deciderText, outcomeText, progressText, quoteReason } from './wording.js';

export const COMMAND = '/approvals';
const SECTION_MAX = 2900;

function context(text: string): KnownBlock {
  return { type: 'context', elements: [md(text)] };
}

function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: clip(text, 'plain', 150), emoji: true } };
}

/** A short answer: one section. */
export function renderNotice(text: string): CommandReply {
  const body = clipEscaped(text, SECTION_MAX);
  return { text: clipEscaped(text, 300), blocks: [section(body)] };
}

export const USAGE = {
  list: `\`${COMMAND} list [page]\` — pending requests, newest first, with links to their cards and time left`,
  mine: `\`${COMMAND} mine\` — what waits for your vote, and what you requested`,
  show: `\`${COMMAND} show <id>\` — one request: its votes and its history`,
  stats: `\`${COMMAND} stats\` — counts by status over 7 and 30 days, median time to decision, rubber stamps`,
  cancel: `\`${COMMAND} cancel <id> [reason]\` — withdraw a pending request; the pipeline is told`,
  audit: `\`${COMMAND} audit verify\` — check the audit trail's hash chain and signatures`,
  help: `\`${COMMAND} help\` — this list`,
} as const;

/** Every subcommand; `lead` is put first (e.g. why the caller is seeing help). */
export function renderHelp(lead?: string): CommandReply {
  const everyone = [USAGE.list, USAGE.mine, USAGE.show, USAGE.stats, USAGE.help].map((u) => `• ${u}`);
  const admins = [USAGE.cancel, USAGE.audit].map((u) => `• ${u}`);
  const blocks: KnownBlock[] = [];
  if (lead) blocks.push(section(clipEscaped(lead, SECTION_MAX)));
  blocks.push(
    section(`*${COMMAND}* — approval requests without leaving Slack\n${everyone.join('\n')}`),
    section(`*Admins only*\n${admins.join('\n')}`),
    context(
      'Only you can see these replies. Approve or deny on the card itself, or from the Countersign Home tab.',
    ),
  );
  return { text: lead ? clipEscaped(lead, 300) : `${COMMAND} help`, blocks };
}

/** A subcommand used the wrong way: what was wrong, and how to use it. */
export function renderUsage(problem: string, usage: string): CommandReply {
  return renderNotice(`${problem}\nUsage: ${usage}`);
}

export interface ListPage {
  items: RequestLine[];
  page: number;
  pages: number;
  total: number;
  pageSize: number;
  /** Why some requests may be missing (Slack could not list a channel's members). */
  note?: string | null;
}

export function renderList(list: ListPage, now: number): CommandReply {
  if (list.total === 0) {
    const none = ':white_check_mark: Nothing is waiting for approval in the channels you are in right now.';
    return renderNotice(list.note ? `${none}\n:warning: ${list.note}` : none);
  }
  return fitMessage(list.items.length, (n) => {
    const first = (list.page - 1) * list.pageSize + 1;
    const shown = list.items.slice(0, n);
    const range = shown.length === 0 ? 'none shown' : `${first}–${first + shown.length - 1}`;
    const blocks: KnownBlock[] = [
      section(`*Pending approval requests* (${plural(list.total, 'request')}, newest first)`),
      ...shown.map((line) => section(clipEscaped(requestLine(line, now), SECTION_MAX))),
    ];
    const nav: string[] = [`Showing ${range} · page ${list.page} of ${list.pages}`];
    if (shown.length < list.items.length)
      nav.push(`${list.items.length - shown.length} more on this page did not fit`);
    if (list.page < list.pages) nav.push(`next: \`${COMMAND} list ${list.page + 1}\``);
    if (list.page > 1) nav.push(`previous: \`${COMMAND} list ${list.page - 1}\``);
    blocks.push(context(nav.join(' · ')));
    if (list.note) blocks.push(context(`:warning: ${clipEscaped(list.note, 1000)}`));
    return { text: `${plural(list.total, 'pending request')} (page ${list.page} of ${list.pages})`, blocks };
  });
}

export interface MineModel {
  waiting: RequestLine[];
  waitingTotal: number;
  /** Set when Slack could not say who the caller is or which groups they are in. */
  waitingProblem: string | null;
  requested: RequestLine[];
  requestedTotal: number;
}

export function renderMine(mine: MineModel, now: number): CommandReply {
  const max = Math.max(mine.waiting.length, mine.requested.length);
  return fitMessage(max, (n) => {
    const waiting = mine.waiting.slice(0, n);
    const requested = mine.requested.slice(0, n);
    const blocks: KnownBlock[] = [];
    if (mine.waitingProblem !== null) {
      blocks.push(section(`:warning: ${clip(mine.waitingProblem, 'mrkdwn', 1000)}`));
    } else if (mine.waitingTotal === 0) {
      blocks.push(section('*Waiting for your vote:* nothing right now.'));
    } else {
      blocks.push(
        section(`*Waiting for your vote* (${countNote(waiting.length, mine.waitingTotal, 'request')})`),
      );
      for (const line of waiting) blocks.push(section(clipEscaped(requestLine(line, now), SECTION_MAX)));
    }
    if (mine.requestedTotal === 0) {
      blocks.push(section('*You requested:* nothing yet.'));
    } else {
      blocks.push(
        section(
          `*You requested* (${countNote(requested.length, mine.requestedTotal, 'request')}, newest first)`,
        ),
      );
      for (const line of requested) {
        blocks.push(section(clipEscaped(requestLine(line, now, { showRequester: false }), SECTION_MAX)));
      }
    }
    blocks.push(
      context(`Vote on the cards, or in the Countersign Home tab. \`${COMMAND} show <id>\` for details.`),
    );
    const text =
      mine.waitingProblem === null
        ? `${plural(mine.waitingTotal, 'request')} waiting for your vote; you requested ${mine.requestedTotal}`
        : `You requested ${mine.requestedTotal}`;
    return { text, blocks };
  });
}

export interface HistoryItem {
  seq: number;
  at: number;
  type: string;
  actor: string;
  data: Record<string, unknown>;
}

export interface ShowModel {
  request: RequestLine;
  history: HistoryItem[];
  historyTotal: number;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** One audit event in words. */
export function historyLine(e: HistoryItem): string {
  const by = deciderText(e.actor) ?? clip(e.actor, 'inline', 80);
  const when = slackDate(e.at);
  const d = e.data;
  let what: string;
  switch (e.type) {
    case 'request.created':
      what = `created by ${by}`;
      break;
    case 'card.posted':
      what = `card posted in ${channelMention(str(d.channel) ?? '?')}`;
      break;
    case 'vote.recorded':
      what = `${by} ${d.decision === 'deny' ? 'denied' : 'approved'}${quoteReason(str(d.reason), 300)}`;
      break;
    case 'vote.refused':
      what = `${by} tried to ${d.decision === 'deny' ? 'deny' : 'approve'}; refused (${clip(str(d.refusal) ?? 'unknown', 'inline', 40)})`;
      break;
    case 'request.reminded':
      what = 'reminder posted to the approvers';
      break;
    case 'request.approved':
    case 'request.denied':
    case 'request.cancelled':
    case 'request.expired':
      what = `*${e.type.slice('request.'.length)}* (${by}); decision signed`;
      break;
    default:
      what = `${clip(e.type, 'inline', 60)} by ${by}`;
  }
  return `\`#${e.seq}\` ${when} — ${what}`;
}

function votesText(r: RequestLine): string | null {
  if (r.votes.length === 0) return null;
  const lines = r.votes.map((v) => {
    const icon = v.decision === 'approve' ? ':white_check_mark:' : ':no_entry:';
    const verb = v.decision === 'approve' ? 'approved' : 'denied';
    return `${icon} ${mentionUser(v.userId)} ${verb} ${slackDate(v.at)}${quoteReason(v.reason, 300)}`;
  });
  return clipEscaped(`*Votes*\n${lines.join('\n')}`, SECTION_MAX);
}

/** History lines packed into as few sections as fit (each under the section limit). */
function historySections(lines: string[]): KnownBlock[] {
  const out: KnownBlock[] = [];
  let current = '';
  for (const line of lines) {
    const next = current === '' ? line : `${current}\n${line}`;
    if (next.length > SECTION_MAX && current !== '') {
      out.push(section(current));
      current = clipEscaped(line, SECTION_MAX);
    } else current = clipEscaped(next, SECTION_MAX);
  }
  if (current !== '') out.push(section(current));
  return out;
}

export function renderShow(show: ShowModel, now: number): CommandReply {
  const r = show.request;
  const where = r.slackUrl
    ? `${linkedTitle({ ...r, title: 'Open the card' })} in ${channelMention(r.channel)}`
    : `Card not posted yet (channel ${channelMention(r.channel)})`;
  const lines = [where];
  const problem = deliveryProblem(r);
  if (problem) lines.push(problem);
  if (r.status === 'pending') {
    const allowed = [...r.approverUsers.map(mention), ...r.approverGroups.map(mentionGroup)];
    lines.push(
      `:hourglass_flowing_sand: ${timeLeft(r.expiresAt, now)} · ${progressText(r)}`,
      `*Who may approve:* ${allowed.length > 0 ? joinWithin(allowed, ', ', 800) : 'anyone except the requester'}`,
    );
  }
  const top: KnownBlock[] = [
    header(r.title.trim() === '' ? '(untitled request)' : r.title),
    section(clipEscaped(outcomeText(r), SECTION_MAX)),
    factsSection(r),
    section(lines.join('\n')),
  ];
  const votes = votesText(r);
  if (votes !== null) top.push(section(votes));
  return fitMessage(show.history.length, (n) => {
    const events = show.history.slice(show.history.length - n);
    const hidden = show.historyTotal - events.length;
    const title = `*History* (${countNote(events.length, show.historyTotal, 'event')}${hidden > 0 ? ', latest shown' : ''})`;
    const lines = [title, ...events.map(historyLine)];
    return {
      text: `${titleOf(r)} (${r.status})`,
      blocks: [...top, ...historySections(lines), metaBlock(r)],
    };
  });
}

export interface StatsWindow {
  days: number;
  byStatus: Record<CardStatus, number>;
  medianDecisionMs: number | null;
  decided: number;
  approvals: number;
  fastApprovals: number;
}

const STATUS_ORDER: CardStatus[] = ['approved', 'denied', 'expired', 'cancelled', 'pending'];

function percent(part: number, whole: number): string {
  return `${Math.round((100 * part) / whole)}%`;
}

function statsSection(w: StatsWindow, fastSeconds: number): KnownBlock {
  const total = STATUS_ORDER.reduce((sum, s) => sum + (w.byStatus[s] ?? 0), 0);
  const counts = STATUS_ORDER.map((s) => `${w.byStatus[s] ?? 0} ${s}`).join(' · ');
  const median =
    w.medianDecisionMs === null
      ? 'no decisions by people yet'
      : `${shortDuration(w.medianDecisionMs)} (over ${plural(w.decided, 'decision')})`;
  const stamps =
    w.approvals === 0
      ? 'no approvals on posted cards'
      : `${w.fastApprovals} of ${plural(w.approvals, 'approval')} (${percent(w.fastApprovals, w.approvals)}) came within ${fastSeconds} s of the card appearing`;
  return section(
    [
      `*Last ${w.days} days* — ${plural(total, 'request')}`,
      counts,
      `Median time to decision: ${median}`,
      `${w.fastApprovals > 0 ? ':warning: ' : ''}Rubber stamps: ${stamps}`,
    ].join('\n'),
  );
}

export function renderStats(windows: StatsWindow[], fastSeconds: number): CommandReply {
  return {
    text: 'Approval statistics',
    blocks: [
      ...windows.map((w) => statsSection(w, fastSeconds)),
      context(
        `Counts are of requests created in the period, by their status now. Time to decision runs from the request to the approving or denying vote (policy auto-approvals, expiries and cancellations left out). A rubber stamp is an approval given less than ${fastSeconds} s after the card was posted — too fast to have read it.`,
      ),
    ],
  };
}
