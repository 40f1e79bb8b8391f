/**
 * Escaping of untrusted text for Slack, and clipping that never cuts an escape sequence in half.
 *
 * Every string that comes from a request goes through one of these before it reaches a block:
 * - `mrkdwn`: `&`, `<`, `>` become entities, so nothing the payload says can become a mention, a
 *   `<!channel>` broadcast or a disguised link; Slack formatting (`*bold*`, `_italic_`, quotes) stays.
 * - `inline`: as `mrkdwn`, on one line (line breaks become spaces).
 * - `code`: as `mrkdwn`, for the inside of a ``` block; runs of backticks are broken with a zero-width
 *   space so the payload cannot close the block early.
 * - `plain`: for `plain_text` objects (headers), which Slack never parses: `<` and `>` become the look-alikes
 *   `‹` and `›`, line breaks become spaces.
 * All kinds drop control characters and the Unicode bidi controls (which can reorder what a reader sees,
 * e.g. the host shown next to a link), replace lone surrogates, and break `@here`/`@channel`/`@everyone`
 * with a word joiner in case a caller ever posts with `link_names`.
 */

export type TextKind = 'mrkdwn' | 'inline' | 'code' | 'plain';

const ELLIPSIS = '…';
const WORD_JOINER = '\u2060';
const ZERO_WIDTH_SPACE = '\u200B';
const BROADCAST = /^(?:channel|here|everyone)(?![A-Za-z0-9_])/i;

function isDropped(cp: number): boolean {
  return (
    (cp < 0x20 && cp !== 0x09 && cp !== 0x0a) ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0x061c ||
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069)
  );
}

/**
 * Drops invisible controls and replaces lone surrogates, reading `raw` only until `need` units are out
 * (so a huge string costs no more than what is shown). `more` tells whether some of `raw` was not read.
 */
function sanitize(raw: string, need: number): { text: string; more: boolean } {
  let out = '';
  let i = 0;
  while (i < raw.length && out.length < need) {
    const cp = raw.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    if (isDropped(cp)) continue;
    out += cp >= 0xd800 && cp <= 0xdfff ? '\uFFFD' : ch;
  }
  return { text: out, more: i < raw.length };
}

/** The escaped form of `ch`, the code point at `s[i]` of sanitized text `s`, given the kind of text. */
function escapeChar(s: string, i: number, ch: string, kind: TextKind): string {
  switch (ch) {
    case '\n':
    case '\t':
      return kind === 'inline' || kind === 'plain' ? ' ' : ch;
    case '<':
      return kind === 'plain' ? '‹' : '&lt;';
    case '>':
      return kind === 'plain' ? '›' : '&gt;';
    case '&':
      return kind === 'plain' ? '&' : '&amp;';
    case '`':
      return kind === 'code' && s[i - 1] === '`' ? `${ZERO_WIDTH_SPACE}\`` : '`';
    case '@':
      return kind !== 'plain' && BROADCAST.test(s.slice(i + 1, i + 10)) ? `@${WORD_JOINER}` : '@';
    default:
      return ch;
  }
}

/** Escapes `raw` as `kind`, stopping before the output would pass `max` UTF-16 units. */
function escapeUpTo(raw: string, kind: TextKind, max: number): { text: string; complete: boolean } {
  const clean = sanitize(raw, max + 16);
  const s = clean.text;
  let out = '';
  for (let i = 0; i < s.length; ) {
    const ch = String.fromCodePoint(s.codePointAt(i) ?? 0);
    const piece = escapeChar(s, i, ch, kind);
    if (out.length + piece.length > max) return { text: out, complete: false };
    out += piece;
    i += ch.length;
  }
  return { text: out, complete: !clean.more };
}

export function escapeText(raw: string, kind: TextKind): string {
  return escapeUpTo(raw, kind, Number.POSITIVE_INFINITY).text;
}

/** Escapes text for a `mrkdwn` text object: `&`, `<`, `>` as entities, formatting kept. */
export function escapeMrkdwn(raw: string): string {
  return escapeText(raw, 'mrkdwn');
}

/** Escapes text for a `plain_text` object (one line; `<` `>` as look-alikes, since plain text is not parsed). */
export function escapePlain(raw: string): string {
  return escapeText(raw, 'plain');
}

/**
 * Escapes `raw` as `kind` and clips the result to at most `max` units. When something is cut, the
 * result ends with `suffix` (default "…") and still fits in `max`.
 */
export function clip(raw: string, kind: TextKind, max: number, suffix = ELLIPSIS): string {
  const whole = escapeUpTo(raw, kind, max);
  if (whole.complete) return whole.text;
  if (max <= suffix.length) return suffix.slice(0, Math.max(0, max));
  const head = escapeUpTo(raw, kind, max - suffix.length).text.trimEnd();
  return `${head}${suffix}`;
}

/** Clips already-escaped text (our own markup included) without cutting an entity or a `<…>` token in half. */
export function clipEscaped(text: string, max: number, suffix = ELLIPSIS): string {
  if (text.length <= max) return text;
  if (max <= suffix.length) return suffix.slice(0, Math.max(0, max));
  let cut = text.slice(0, max - suffix.length);
  // Never leave half an entity (`&am`) or half a `<...>` token behind.
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  const open = cut.lastIndexOf('<');
  if (open >= 0 && !cut.slice(open).includes('>')) cut = cut.slice(0, open);
  const code = cut.charCodeAt(cut.length - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut.trimEnd()}${suffix}`;
}
