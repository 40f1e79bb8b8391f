/** Shared pieces of `/approvals` replies and the App Home: one line per request, durations, fitting. */

import type { KnownBlock } from '@slack/types';
import { checkMessage, checkModal } from './limits.js';
import { clip } from './mrkdwn.js';
import { plural, roughDuration, slackDate } from './tokens.js';
import type { CardView } from './view-model.js';
import { progressText, requesterText, riskMarker, STATUS_WORDS } from './wording.js';

/** A request as listed: the card's view model plus where its card is. */
export interface RequestLine extends CardView {
  channel: string;
  /** Permalink of the card, once posted. */
  slackUrl: string | null;
  /** Why Slack refuses the card, with the fix (CONTRACT §8), while it does. */
  deliveryError?: { code: string; message: string } | null;
}

/** ":warning: Slack refuses the card: <fix> (code)", or null when nothing is wrong. */
export function deliveryProblem(line: RequestLine, max = 600): string | null {
  const e = line.deliveryError;
  if (!e) return null;
  return `:warning: Slack refuses the card: ${clip(e.message, 'inline', max)} (\`${clip(e.code, 'inline', 60)}\`)`;
}

/** A reply to a slash command (sent ephemeral by the listener). */
export interface CommandReply {
  text: string;
  blocks: KnownBlock[];
}

const CHANNEL_ID = /^[CGD][A-Z0-9]{2,30}$/;

/** `<#C…>` for a channel ID; anything else as escaped text. */
export function channelMention(id: string): string {
  return CHANNEL_ID.test(id) ? `<#${id}>` : clip(id, 'inline', 40);
}

export function titleOf(line: Pick<CardView, 'title'>, max = 150): string {
  return clip(line.title.trim() === '' ? '(untitled request)' : line.title, 'inline', max);
}

/** The title in bold, linked to the card when it has been posted (http(s) permalinks only). */
export function linkedTitle(line: RequestLine, max = 150): string {
  const title = titleOf(line, max);
  const url = line.slackUrl;
  if (url === null || !/^https?:\/\/[^\s]+$/.test(url) || url.length > 1000) return `*${title}*`;
  const href = url.replace(/[&<>|]/g, (c) => (c === '&' ? '&amp;' : encodeURIComponent(c)));
  return `*<${href}|${title}>*`;
}

/** "3 hours left", or "past its deadline" while the sweep has not expired it yet. */
export function timeLeft(expiresAt: number, now: number): string {
  const left = expiresAt - now;
  return left <= 0 ? 'past its deadline' : `${roughDuration(left)} left`;
}

/** "850 ms", "42 s", "4 min 10 s", "3 h 5 min", "2 d 4 h". */
export function shortDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'n/a';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

/**
 * Two lines about one request: linked title and risk, then id, requester, channel and either progress
 * and time left (pending) or the outcome and when.
 */
export function requestLine(line: RequestLine, now: number, opts: { showRequester?: boolean } = {}): string {
  const head = `${linkedTitle(line)} · ${riskMarker(line.risk)}`;
  const facts = [`\`${clip(line.id, 'inline', 60)}\``];
  if (opts.showRequester !== false) facts.push(`by ${requesterText(line, 120)}`);
  facts.push(`in ${channelMention(line.channel)}`);
  if (line.status === 'pending') {
    facts.push(progressText(line), `:hourglass_flowing_sand: ${timeLeft(line.expiresAt, now)}`);
  } else {
    const s = STATUS_WORDS[line.status] ?? STATUS_WORDS.pending;
    const word = line.status === 'expired' ? 'Expired' : s.word;
    facts.push(`${s.emoji} ${word}${line.decidedAt === null ? '' : ` ${slackDate(line.decidedAt)}`}`);
  }
  const problem = deliveryProblem(line, 300);
  return `${head}\n${facts.join(' · ')}${problem ? `\n${problem}` : ''}`;
}

/** "Showing 10 of 37" style counts. */
export function countNote(shown: number, total: number, what: string): string {
  return shown >= total ? plural(total, what) : `${shown} of ${plural(total, what)}`;
}

/**
 * The largest `n` (from `max` down to 0) whose rendering passes `check`, and that rendering.
 * Lists are built so that fewer items always means less text and fewer blocks.
 */
export function fitItems<T>(max: number, render: (n: number) => T, check: (out: T) => string[]): T {
  let n = max;
  for (;;) {
    const out = render(n);
    if (n <= 0 || check(out).length === 0) return out;
    n -= n > 20 ? Math.ceil(n / 4) : 1;
  }
}

export function fitMessage(max: number, render: (n: number) => CommandReply): CommandReply {
  return fitItems(max, render, checkMessage);
}

export function fitView<T>(max: number, render: (n: number) => T): T {
  return fitItems(max, render, checkModal);
}
