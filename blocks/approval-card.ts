/** The approval card: one whole rendering per status, re-rendered from stored state on every change. */

import type { HeaderBlock, KnownBlock } from '@slack/types';
import {
  contextBlocks,
  factsSection,
  linksBlocks,
  metaBlock,
  peopleSection,
  section,
  summaryBlocks,
} from './card-sections.js';
import { diffSection } from './diff.js';
import { checkMessage, MAX_HEADER_TEXT, MAX_MESSAGE_TOTAL_TEXT, messageTextLength } from './limits.js';
import { clip, clipEscaped } from './mrkdwn.js';
import type { CardView } from './view-model.js';
import { voteButtons } from './vote-buttons.js';
import { fallbackText, outcomeText, RISK_MARKERS } from './wording.js';

export interface CardMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Room kept under Slack's total so that small miscounts never tip a card over. */
const TEXT_BUDGET = MAX_MESSAGE_TOTAL_TEXT - 500;

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

/** "🟠 High risk · <title>", plain text, at most 150 characters. */
export function headerText(view: CardView): string {
  const m = RISK_MARKERS[view.risk] ?? RISK_MARKERS.medium;
  const prefix = `${m.emoji} ${m.word} · `;
  const title = view.title.trim() === '' ? '(untitled request)' : view.title.trim();
  return `${prefix}${clip(title, 'plain', MAX_HEADER_TEXT - prefix.length)}`;
}

function header(view: CardView): HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text: headerText(view), emoji: true } };
}

function diffBlocks(view: CardView, max: number): KnownBlock[] {
  if (view.diff === null || view.diff.trim() === '') return [];
  const text = diffSection(view.diff, max);
  return text === null ? [] : [section(text)];
}

/**
 * Renders the card. The small, bounded parts (header, status or outcome, facts, votes, buttons) always
 * appear; the parts a request can make long share what is left of the message's text budget in this
 * order: summary, links, context, diff. Each part clips itself to its share.
 */
export function renderCard(view: CardView): CardMessage {
  const text = fallbackText(view);
  const top = [header(view), section(clipEscaped(outcomeText(view), 3000))];
  const people = peopleSection(view);
  const bottom: KnownBlock[] = [...(people === null ? [] : [people])];
  if (view.status === 'pending') bottom.push(voteButtons(view.id, view.title, 'decision'));
  bottom.push(metaBlock(view));
  const facts = factsSection(view);

  let left = TEXT_BUDGET - messageTextLength({ text, blocks: [...top, facts, ...bottom] });
  const take = (blocks: KnownBlock[]): KnownBlock[] => {
    left -= messageTextLength({ blocks });
    return blocks;
  };
  const summary = take(summaryBlocks(view, clamp(left - 2500, 0, 3000)));
  const links = take(linksBlocks(view, clamp(left - 1500, 0, 3000)));
  const context = take(contextBlocks(view, clamp(left - 600, 0, 2000)));
  const diff = take(diffBlocks(view, clamp(left, 0, 3000)));

  const card = { text, blocks: [...top, facts, ...summary, ...context, ...links, ...diff, ...bottom] };
  // Last line of defence: a card Slack would refuse is replaced by its bounded parts alone.
  return checkMessage(card).length === 0 ? card : { text, blocks: [...top, facts, ...bottom] };
}
