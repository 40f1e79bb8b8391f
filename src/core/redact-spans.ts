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
}

const SECRET_GROUPS = ['secret', 'secretDq', 'secretSq'] as const;

/** Every pattern match, reduced to non-overlapping spans sorted by position. */
export function findSpans(text: string): Span[] {
  const spans: Span[] = [];
  SECRET_PATTERNS.forEach((pattern, priority) => {
    collect(text, pattern, priority, spans);
  });
  spans.sort((a, b) => a.start - b.start || a.priority - b.priority);
  return resolveOverlaps(spans);
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
    const range = group && groups[group];
    if (!range) continue;
    const secret = text.slice(range[0], range[1]);
    if (secret.includes('[redacted')) continue;
    if (pattern.accept && !pattern.accept(secret, group !== 'secret')) continue;
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

/** Line edits win over spans that touch the same text. Both inputs are sorted and non-overlapping. */
export function mergeEdits(lineEdits: Edit[], spans: Edit[]): Edit[] {
  if (lineEdits.length === 0) return spans;
  const out: Edit[] = [...lineEdits];
  let i = 0;
  for (const span of spans) {
    while (i < lineEdits.length && (lineEdits[i] as Edit).end <= span.start) i++;
    const next = lineEdits[i];
    if (next !== undefined && next.start < span.end) continue;
    out.push(span);
  }
  return out.sort((a, b) => a.start - b.start);
}
