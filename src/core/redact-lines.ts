import type { Edit, Span } from './redact-spans.js';
import { KEY_LINE_MARKER } from './secret-patterns.js';

interface Line {
  start: number;
  /** End of the line's text, before "\r\n" or "\n". */
  end: number;
}

function splitLines(s: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start <= s.length) {
    let nl = s.indexOf('\n', start);
    if (nl === -1) nl = s.length;
    const end = nl > start && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    lines.push({ start, end });
    start = nl + 1;
  }
  return lines;
}

const HUNK_HEADER = /^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@/;

/**
 * In a diff, a span must stay on its line, may not replace the line's first character (a secret
 * that starts in column 0 keeps that character), and may not touch a hunk header's ranges.
 */
export function fitSpansToDiffLines(s: string, spans: Span[]): Span[] {
  if (spans.length === 0) return spans;
  const out: Span[] = [];
  let lineStart = 0;
  let lineEnd = lineEndAt(s, 0);
  for (const span of spans) {
    while (span.start > lineEnd) {
      lineStart = lineEnd + 1;
      lineEnd = lineEndAt(s, lineStart);
    }
    let start = span.start;
    if (start === lineStart) start++;
    if (s.startsWith('@@', lineStart)) {
      const header = HUNK_HEADER.exec(s.slice(lineStart, Math.min(lineEnd, lineStart + 200)));
      if (header && start < lineStart + header[0].length) continue;
    }
    const end = Math.min(span.end, lineEnd);
    if (start >= end) continue;
    out.push({ ...span, start, end });
  }
  return out;
}

function lineEndAt(s: string, from: number): number {
  const nl = s.indexOf('\n', from);
  return nl === -1 ? s.length : nl;
}

const BEGIN_PRIVATE = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/;
const BEGIN_OTHER = /-----BEGIN [A-Z0-9 ]{1,60}-----/;
const END_ANY = /-----END [A-Z0-9 ]{1,60}-----/;
/** One line of base64 key material, possibly quoted or with a literal "\n" (as in code). */
const KEY_BODY = /^["'`]?([A-Za-z0-9+/]{2,}={0,2})(?:\\r)?(?:\\n)?["'`]?[ \t]*[,;+\\]?$/;
/** RFC 1421 / RFC 4880 armor headers inside a key block. */
const ARMOR_HEADER = /^(?:Proc-Type|DEK-Info|Comment|Version|Hash|Charset):/;
/** A full-width (64-column) PEM line: mixes upper case, lower case and digits. */
const PEM_WIDTH_LINE =
  /^(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[0-9])[A-Za-z0-9+/]{64}$/;
const PEM_LAST_LINE = /^[A-Za-z0-9+/]{4,63}={0,2}$/;

/**
 * Multi-line private keys, one line at a time so the text keeps its line count: between a
 * `-----BEGIN ... PRIVATE KEY-----` line and its END line (or the first line that is not key
 * material, for a truncated key), each key line is replaced and the BEGIN/END lines are kept.
 * In a diff each masked line keeps its first character, and runs of two or more 64-column
 * base64 lines are masked even without a BEGIN line (a hunk can start in the middle of a key).
 */
export function pemLineEdits(s: string, diff: boolean): Edit[] {
  if (!diff && !s.includes('PRIVATE KEY')) return [];
  const lines = splitLines(s);
  const edits: Edit[] = [];
  const skip = diff ? 1 : 0;
  const bodyOf = (line: Line) => s.slice(Math.min(line.start + skip, line.end), line.end);

  let state: 'none' | 'private' | 'other' = 'none';
  let block: Edit[] = [];
  // Key material per side of the diff: ' ' lines belong to both versions, '-' to the old, '+' to the new.
  let before = '';
  let after = '';
  let changed = { before: false, after: false };
  const finish = () => {
    const secrets = new Set<string>();
    if (changed.before || !changed.after) secrets.add(before);
    if (changed.after || !changed.before) secrets.add(after);
    const real = [...secrets].filter((m) => m.length >= 16);
    if (block.length > 0 && real.length > 0) {
      for (const edit of block) edits.push(edit);
      (block[0] as Edit).secrets = real;
    }
    block = [];
    before = '';
    after = '';
    changed = { before: false, after: false };
  };
  const addMaterial = (line: Line, keyText: string) => {
    const side = diff ? s[line.start] : ' ';
    if (side !== '+') before += keyText;
    if (side !== '-') after += keyText;
    if (side === '-') changed.before = true;
    if (side === '+') changed.after = true;
  };
  const maskLine = (line: Line, keyText: string) => {
    const body = bodyOf(line);
    const indent = body.length - body.trimStart().length;
    block.push({ start: line.start + skip + indent, end: line.end, text: KEY_LINE_MARKER, secrets: [] });
    addMaterial(line, keyText);
  };

  let orphans: Line[] = [];
  const flushOrphans = (next: Line | undefined) => {
    if (orphans.length >= 2) {
      const tail = next && PEM_LAST_LINE.exec(bodyOf(next).trim());
      for (const line of orphans) maskLine(line, bodyOf(line).trim());
      if (next && tail) maskLine(next, tail[0]);
      finish();
      orphans = [];
      return tail !== null && tail !== undefined;
    }
    orphans = [];
    return false;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as Line;
    const text = s.slice(line.start, line.end);
    if (state === 'private') {
      const body = bodyOf(line).trim();
      if (END_ANY.test(text)) {
        finish();
        state = 'none';
        continue;
      }
      const key = KEY_BODY.exec(body);
      if (key) {
        maskLine(line, key[1] as string);
        continue;
      }
      if (body === '' || ARMOR_HEADER.test(body)) continue;
      finish();
      state = 'none';
    } else if (state === 'other') {
      // Inside a certificate or public key: nothing to mask.
      const body = bodyOf(line).trim();
      if (END_ANY.test(text)) {
        state = 'none';
        continue;
      }
      if (body === '' || KEY_BODY.test(body)) continue;
      state = 'none';
    }

    const begin = BEGIN_PRIVATE.exec(text);
    if (begin) {
      flushOrphans(undefined);
      const tail = text.slice(begin.index + begin[0].length);
      if (END_ANY.test(tail)) continue; // one line: the regex patterns handle it
      state = 'private';
      const rest = tail.replace(/\\[rn]|[^A-Za-z0-9+/=]/g, '');
      // Already masked (`[redacted private key line]`) is not key material.
      if (rest.length >= 16 && !tail.includes('[redacted')) {
        block.push({
          start: line.start + begin.index + begin[0].length,
          end: line.end,
          text: KEY_LINE_MARKER,
          secrets: [],
        });
        addMaterial(line, rest);
      }
      continue;
    }
    if (BEGIN_OTHER.test(text) && !END_ANY.test(text)) {
      flushOrphans(undefined);
      state = 'other';
      continue;
    }
    if (diff && PEM_WIDTH_LINE.test(bodyOf(line).trim())) {
      orphans.push(line);
      continue;
    }
    if (orphans.length > 0 && flushOrphans(line)) continue;
  }
  if (state === 'private') finish();
  flushOrphans(undefined);
  return edits.sort((a, b) => a.start - b.start);
}
