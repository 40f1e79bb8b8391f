/**
 * Slack mrkdwn as HTML, the way Slack shows it: *bold*, _italic_, ~strike~, `code`, ```code blocks```,
 * > quotes, links (with the host they really go to), user, channel and user-group mentions as names,
 * dates, and emoji. The input is Slack text (its `&`, `<`, `>` escaped as entities); the output escapes
 * every character of it again for HTML, so nothing in a message can become markup on the page.
 */

import { diffHtml, looksLikeDiff } from './diff.js';
import { emojiHtml, splitEmoji } from './emoji.js';
import { attrs, decodeSlackEntities, esc } from './html.js';
import { formatSlackDate } from './slack-date.js';

/** Names for the IDs that mentions carry. */
export interface Directory {
  userName(id: string): string | null;
  channelName(id: string): string | null;
  groupName(id: string): string | null;
}

export const EMPTY_DIRECTORY: Directory = {
  userName: () => null,
  channelName: () => null,
  groupName: () => null,
};

/** Private-use characters stand in for already-rendered pieces while the formatting is applied. */
const HOLE_BASE = 0xe000;
const HOLE = /[\uE000-\uF8FF]/g;

function hostOf(url: URL): string {
  return url.host;
}

function renderLink(target: string, label: string | null, followedBy: string): string {
  const href = decodeSlackEntities(target);
  let url: URL | null = null;
  try {
    url = new URL(href);
  } catch {
    url = null;
  }
  const shown = label === null ? href : decodeSlackEntities(label);
  if (url === null || !['http:', 'https:', 'mailto:'].includes(url.protocol)) {
    return `<span class="link-refused">${esc(shown)}</span>`;
  }
  const a = `<a${attrs({ href: url.href, title: url.href, rel: 'noopener noreferrer', target: '_blank' })}>${plainToHtml(shown)}</a>`;
  if (url.protocol === 'mailto:') return a;
  // Show where the link really goes, unless the label or the text right after it already says so.
  const host = hostOf(url);
  if (shown.toLowerCase().includes(host.toLowerCase())) return a;
  if (decodeSlackEntities(followedBy).trimStart().toLowerCase().startsWith(`(${host.toLowerCase()})`))
    return a;
  return `${a}<span class="link-host"> (${esc(host)})</span>`;
}

function mentionHtml(kind: 'user' | 'channel' | 'group' | 'special', text: string): string {
  return `<span class="mention mention-${kind}">${esc(text)}</span>`;
}

/** One `<…>` control sequence: a mention, a date, a broadcast or a link. */
function renderAngle(inner: string, followedBy: string, dir: Directory): string {
  const bar = inner.indexOf('|');
  const head = bar >= 0 ? inner.slice(0, bar) : inner;
  const label = bar >= 0 ? inner.slice(bar + 1) : null;
  if (head.startsWith('@')) {
    const id = head.slice(1);
    return mentionHtml('user', `@${dir.userName(id) ?? (label ? decodeSlackEntities(label) : id)}`);
  }
  if (head.startsWith('#')) {
    const id = head.slice(1);
    return mentionHtml('channel', `#${dir.channelName(id) ?? (label ? decodeSlackEntities(label) : id)}`);
  }
  if (head.startsWith('!subteam^')) {
    const id = head.slice('!subteam^'.length);
    const name = dir.groupName(id) ?? (label ? decodeSlackEntities(label).replace(/^@/, '') : id);
    return mentionHtml('group', `@${name}`);
  }
  if (head.startsWith('!date^')) {
    const [, secs, format = '{date_short}'] = head.split('^');
    const seconds = Number(secs);
    if (!Number.isFinite(seconds)) return esc(decodeSlackEntities(label ?? ''));
    const iso = new Date(seconds * 1000).toISOString();
    return `<time${attrs({ datetime: iso, 'data-format': format })}>${esc(formatSlackDate(seconds, format))}</time>`;
  }
  if (head.startsWith('!')) {
    const word = head.slice(1);
    return mentionHtml(
      'special',
      `@${['here', 'channel', 'everyone'].includes(word) ? word : (label ?? word)}`,
    );
  }
  return renderLink(head, label, followedBy);
}

const BOLD = /(^|[^A-Za-z0-9*])\*(?=\S)([^*\n]*?\S)\*(?![A-Za-z0-9*])/g;
const ITALIC = /(^|[^A-Za-z0-9_])_(?=\S)([^_\n]*?\S)_(?![A-Za-z0-9_])/g;
const STRIKE = /(^|[^A-Za-z0-9~])~(?=\S)([^~\n]*?\S)~(?![A-Za-z0-9~])/g;

/** One line of text outside code blocks: code spans and `<…>` first, then entities, emoji and formatting. */
function renderInline(line: string, dir: Directory): string {
  const holes: string[] = [];
  const hole = (html: string) => {
    holes.push(html);
    return String.fromCharCode(HOLE_BASE + holes.length - 1);
  };
  let text = line.replace(HOLE, '\uFFFD');
  text = text.replace(/`([^`\n]+)`/g, (_, code: string) =>
    hole(`<code>${esc(decodeSlackEntities(code))}</code>`),
  );
  text = text.replace(/<([^<>\n]+)>/g, (_, inner: string, offset: number, whole: string) =>
    hole(renderAngle(inner, whole.slice(offset + inner.length + 2, offset + inner.length + 2 + 80), dir)),
  );
  text = text.replace(/:([a-z0-9_+-]{1,40}):/g, (whole, name: string) => {
    const emoji = emojiHtml(name);
    return emoji === null ? whole : hole(emoji);
  });
  let html = esc(decodeSlackEntities(text));
  html = html.replace(BOLD, '$1<strong>$2</strong>');
  html = html.replace(ITALIC, '$1<em>$2</em>');
  html = html.replace(STRIKE, '$1<del>$2</del>');
  return html.replace(HOLE, (c) => holes[c.charCodeAt(0) - HOLE_BASE] ?? '');
}

/** Lines outside code blocks: runs of `>` lines become one quote; the rest are joined with `<br>`. */
function renderLines(text: string, dir: Directory): string {
  const out: string[] = [];
  let quote: string[] | null = null;
  let plain: string[] = [];
  const flushPlain = () => {
    if (plain.length > 0) out.push(plain.join('<br>'));
    plain = [];
  };
  const flushQuote = () => {
    if (quote !== null) out.push(`<blockquote>${quote.join('<br>')}</blockquote>`);
    quote = null;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('>')) {
      flushPlain();
      quote ??= [];
      quote.push(renderInline(line.slice(1).replace(/^ /, ''), dir));
    } else {
      flushQuote();
      plain.push(renderInline(line, dir));
    }
  }
  flushPlain();
  flushQuote();
  return out.join('');
}

function renderCodeBlock(raw: string): string {
  const code = decodeSlackEntities(raw.replace(/^\n/, '').replace(/\n$/, ''));
  if (looksLikeDiff(code)) return `<pre class="code diff"><code>${diffHtml(code)}</code></pre>`;
  return `<pre class="code"><code>${esc(code)}</code></pre>`;
}

/** A mrkdwn text object's text as HTML (inline content; blocks such as quotes and code are included). */
export function mrkdwnToHtml(text: string, dir: Directory = EMPTY_DIRECTORY): string {
  const parts = text.split('```');
  // An odd number of fences leaves the last one unclosed: Slack shows it as typed.
  if (parts.length % 2 === 0) {
    const last = parts.pop() ?? '';
    parts[parts.length - 1] = `${parts[parts.length - 1]}\`\`\`${last}`;
  }
  return parts
    .map((part, i) => {
      if (i % 2 === 1) return renderCodeBlock(part);
      const trimmed = i > 0 ? part.replace(/^\n/, '') : part;
      const body = i < parts.length - 1 ? trimmed.replace(/\n$/, '') : trimmed;
      return body === '' ? '' : renderLines(body, dir);
    })
    .join('');
}

/** A plain_text object's text as HTML: escaped, with emoji when the object allows them. */
export function plainToHtml(text: string, emoji = true): string {
  if (!emoji) return esc(text);
  return splitEmoji(text)
    .map((piece) => piece.html ?? esc(piece.text ?? ''))
    .join('');
}
