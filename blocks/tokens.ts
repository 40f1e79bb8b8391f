/** The Slack control sequences (`<...>`) this package writes itself: mentions, dates and links. */

import { clip, escapeMrkdwn } from './mrkdwn.js';

const USER_ID = /^[UW][A-Z0-9]{2,30}$/;
const GROUP_ID = /^S[A-Z0-9]{2,30}$/;

export function isUserId(id: string): boolean {
  return USER_ID.test(id);
}

/** `<@U…>` for a Slack user ID; anything else is shown as escaped text, never as a mention. */
export function mentionUser(id: string): string {
  return USER_ID.test(id) ? `<@${id}>` : clip(id, 'inline', 100);
}

/** `<!subteam^S…>` for a user group ID; anything else is shown as escaped text. */
export function mentionGroup(id: string): string {
  return GROUP_ID.test(id) ? `<!subteam^${id}>` : clip(id, 'inline', 100);
}

/** A user or a user group, by the shape of the ID. */
export function mention(id: string): string {
  return GROUP_ID.test(id) ? mentionGroup(id) : mentionUser(id);
}

export const DATE_AND_TIME = '{date_short_pretty} at {time}';

/** A date shown in each reader's own time zone, with an ISO-8601 (UTC) fallback. */
export function slackDate(ms: number, format: string = DATE_AND_TIME): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return 'an unknown time';
  const iso = new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `<!date^${Math.floor(ms / 1000)}^${format}|${iso}>`;
}

/** "3 hours", "25 minutes", "less than a minute": a rough duration for humans. */
export function roughDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return plural(hours, 'hour');
  return plural(Math.floor(hours / 24), 'day');
}

export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * A link that cannot be disguised: `<href|text> (host)`, where host is the real host of the
 * (normalized, punycode) URL. Non-http(s) or unparsable URLs are shown as text, not linked.
 * Returns null when even the shortest form does not fit in `max`.
 */
export function safeLink(url: string, text: string, max: number): string | null {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (parsed === null || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    const shown = `${clip(text, 'inline', 100)} (not a web link: ${clip(url, 'inline', 100)})`;
    return shown.length <= max ? shown : null;
  }
  const host = escapeMrkdwn(parsed.host);
  const href = parsed.href.replace(/[&<>|]/g, (c) => (c === '&' ? '&amp;' : encodeURIComponent(c)));
  const tail = ` (${host})`;
  const room = max - href.length - tail.length - 3;
  if (room >= 8) {
    const label = text.trim() === '' ? host : clip(text, 'inline', Math.min(room, 200));
    return `<${href}|${label}>${tail}`;
  }
  // The URL is too long to link within the room left: name the host, keep the text, drop the link.
  const unlinked = `${clip(text, 'inline', 100)}${tail}, link too long to show`;
  return unlinked.length <= max ? unlinked : null;
}

/**
 * Joins already-escaped items with `sep` within `max` units; items that do not fit are
 * summed up as "and N more". Items are never cut.
 */
export function joinWithin(items: readonly string[], sep: string, max: number): string {
  let out = '';
  for (let i = 0; i < items.length; i++) {
    const item = items[i] ?? '';
    const next = out === '' ? item : `${out}${sep}${item}`;
    const left = items.length - i - 1;
    const more = left > 0 ? ` and ${left} more` : '';
    if (next.length + more.length <= max) {
      out = next;
      continue;
    }
    const rest = ` and ${items.length - i} more`;
    return out === '' ? `${items.length} names`.slice(0, max) : `${out}${rest}`;
  }
  return out;
}
