/** The pieces of the approval card, each a pure function of the view with a size cap. */

import type { ContextBlock, KnownBlock, MrkdwnElement, SectionBlock } from '@slack/types';
import { clip, clipEscaped } from './mrkdwn.js';
import { joinWithin, mention, mentionGroup, mentionUser, plural, safeLink, slackDate } from './tokens.js';
import type { CardView } from './view-model.js';
import { progressText, requesterText } from './wording.js';

export function md(text: string): MrkdwnElement {
  return { type: 'mrkdwn', text, verbatim: true };
}

export function section(text: string): SectionBlock {
  return { type: 'section', text: md(text) };
}

function present(s: string | null): s is string {
  return s !== null && s.trim() !== '';
}

/** Who asks and what for, as section fields (each well under the 2000-character field limit). */
export function factsSection(view: CardView): SectionBlock {
  const fields = [
    md(`*Requested by*\n${requesterText(view)}`),
    md(`*Client*\n${clip(view.client, 'inline', 100)}`),
    md(`*Action*\n${clip(view.action, 'inline', 150)}`),
  ];
  if (present(view.resource)) fields.push(md(`*Resource*\n${clip(view.resource, 'mrkdwn', 300)}`));
  if (present(view.environment)) fields.push(md(`*Environment*\n${clip(view.environment, 'inline', 100)}`));
  fields.push(md(`*Requested*\n${slackDate(view.createdAt)}`));
  const caller = callerText(view);
  if (caller !== null) fields.push(md(`*Proven caller*\n${caller}`));
  return { type: 'section', fields };
}

/** What the caller's ID token proved: repository, ref, workflow, actor and a run link, when known. */
function callerText(view: CardView): string | null {
  const c = view.caller;
  if (!c) return null;
  const parts: string[] = [];
  if (present(c.repository)) parts.push(clip(c.repository, 'inline', 200));
  if (present(c.ref)) parts.push(clip(c.ref, 'inline', 200));
  if (present(c.workflow)) parts.push(`workflow ${clip(c.workflow, 'inline', 300)}`);
  if (present(c.actor)) parts.push(`by ${clip(c.actor, 'inline', 100)}`);
  if (present(c.runUrl)) {
    const link = safeLink(c.runUrl, 'CI run', 500);
    if (link !== null) parts.push(link);
  }
  return parts.length > 0 ? parts.join(' · ') : 'verified CI identity token';
}

/** The summary, Slack mrkdwn from the request: formatting kept, `& < >` escaped, clipped to `max`. */
export function summaryBlocks(view: CardView, max: number): KnownBlock[] {
  if (!present(view.summary) || max < 40) return [];
  return [section(clip(view.summary, 'mrkdwn', Math.min(max, 3000)))];
}

/** Up to 20 context entries as fields, 10 per section; each field gets an equal share of `max`. */
export function contextBlocks(view: CardView, max: number): KnownBlock[] {
  const entries = Object.entries(view.context ?? {});
  if (entries.length === 0 || max < 100) return [];
  const shown = entries.slice(0, 20);
  const extra = entries.length - shown.length;
  const title = extra > 0 ? `*Context* (${extra} more not shown)` : '*Context*';
  const share = Math.min(2000, Math.floor((max - title.length) / shown.length));
  if (share < 12) return [section(`${title}: ${plural(entries.length, 'entry')}, too long to show`)];
  const fields = shown.map(([key, value]) => {
    const k = clip(key.trim() === '' ? '(empty key)' : key, 'inline', Math.min(100, Math.floor(share / 3)));
    const v = String(value);
    return md(`*${k}*\n${v.trim() === '' ? '(empty)' : clip(v, 'mrkdwn', share - k.length - 3)}`);
  });
  const blocks: SectionBlock[] = [];
  for (let i = 0; i < fields.length; i += 10) {
    const part: SectionBlock = { type: 'section', fields: fields.slice(i, i + 10) };
    if (i === 0) part.text = md(title);
    blocks.push(part);
  }
  return blocks;
}

/** Up to 5 links, each shown with its real host so its text cannot pass for another site. */
export function linksBlocks(view: CardView, max: number): KnownBlock[] {
  const links = (view.links ?? []).slice(0, 5);
  if (links.length === 0 || max < 60) return [];
  const title = '*Links*';
  // Each link gets an equal share of what the links before it left, so short links make room for long ones.
  let room = Math.min(max, 3000) - title.length;
  const lines: string[] = [];
  for (const [i, l] of links.entries()) {
    const share = Math.floor(room / (links.length - i)) - 3;
    const line = `\n• ${safeLink(l.url, l.text, share) ?? clip(l.text, 'inline', Math.max(1, share))}`;
    lines.push(line);
    room -= line.length;
  }
  return [section(clipEscaped(`${title}${lines.join('')}`, Math.min(max, 3000)))];
}

/** Progress toward quorum and who has voted; while pending, also who may approve. */
export function peopleSection(view: CardView): SectionBlock | null {
  const votes = view.votes.map(
    (v) => `${v.decision === 'approve' ? ':white_check_mark:' : ':no_entry:'} ${mentionUser(v.userId)}`,
  );
  const voted = votes.length > 0 ? ` — ${joinWithin(votes, ', ', 600)}` : '';
  if (view.status !== 'pending') {
    return votes.length > 0 ? section(`*Votes:* ${progressText(view)}${voted}`) : null;
  }
  const allowed = [...view.approverUsers.map(mention), ...view.approverGroups.map(mentionGroup)];
  const who = allowed.length > 0 ? joinWithin(allowed, ', ', 800) : 'anyone except the requester';
  return section(`*Approvals:* ${progressText(view)}${voted}\n*Who may approve:* ${who}`);
}

/** Policy rule, redactions and the request id, in small print. */
export function metaBlock(view: CardView): ContextBlock {
  const elements: MrkdwnElement[] = [];
  if (present(view.policyRule)) elements.push(md(`Policy rule: *${clip(view.policyRule, 'inline', 100)}*`));
  if (view.redactions > 0) {
    elements.push(md(`:lock: ${plural(view.redactions, 'value')} redacted`));
  }
  elements.push(md(`ID: ${clip(view.id, 'inline', 100)}`));
  return { type: 'context', elements };
}
