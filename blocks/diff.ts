/** Unified diffs: a stat line, a clipped preview for the card, and the full text as a file for the thread. */

import { clip, escapePlain } from './mrkdwn.js';
import { plural } from './tokens.js';
import type { CardView } from './view-model.js';

export interface DiffStat {
  files: number;
  added: number;
  removed: number;
  /** Lines in the diff (a final newline does not start another line). */
  lines: number;
}

const HUNK = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

export function diffLines(diff: string): string[] {
  const lines = diff.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Counts files and changed lines. Inside a hunk the `@@ -a,b +c,d @@` counts say which lines belong to it,
 * so a removed line that reads "-- x" or an added "++ y" is still a change, never a file header.
 * Files are counted by `diff --git` headers, or by `--- `/`+++ ` header pairs when there are none.
 * Lines outside any hunk (a diff without hunk headers) count by their first character.
 */
export function diffStat(diff: string): DiffStat {
  const lines = diffLines(diff);
  let files = 0;
  let added = 0;
  let removed = 0;
  let oldLeft = 0;
  let newLeft = 0;
  let gitHeaderOpen = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (oldLeft > 0 || newLeft > 0) {
      const c = line[0];
      if (c === '+') {
        added++;
        newLeft--;
        continue;
      }
      if (c === '-') {
        removed++;
        oldLeft--;
        continue;
      }
      if (c === ' ' || line === '') {
        oldLeft--;
        newLeft--;
        continue;
      }
      if (c === '\\') continue;
      oldLeft = 0;
      newLeft = 0;
    }
    if (line.startsWith('diff --git ')) {
      files++;
      gitHeaderOpen = true;
    } else if (line.startsWith('--- ') && (lines[i + 1] ?? '').startsWith('+++ ')) {
      if (!gitHeaderOpen) files++;
      gitHeaderOpen = false;
      i++;
    } else if (line.startsWith('@@ ')) {
      const m = HUNK.exec(line);
      gitHeaderOpen = false;
      if (m) {
        oldLeft = m[1] === undefined ? 1 : Number(m[1]);
        newLeft = m[2] === undefined ? 1 : Number(m[2]);
      }
    } else if (line.startsWith('+') && !line.startsWith('+++')) added++;
    else if (line.startsWith('-') && !line.startsWith('---')) removed++;
  }
  return { files, added, removed, lines: lines.length };
}

/** "3 files changed, +120 −45" */
export function formatDiffStat(stat: DiffStat): string {
  const files = stat.files > 0 ? `${plural(stat.files, 'file')} changed, ` : '';
  return `${files}+${stat.added.toLocaleString('en-US')} −${stat.removed.toLocaleString('en-US')}`;
}

/** How many lines the card shows at most, and how long each may be. */
export const PREVIEW_MAX_LINES = 40;
export const PREVIEW_MAX_LINE = 200;

/**
 * The card's diff section text, at most `max` characters: the stat line, the first lines in a
 * ``` block (escaped, each clipped), "… N more lines", and where to find the full diff.
 */
export function diffSection(diff: string, max: number): string | null {
  const stat = diffStat(diff);
  const lines = diffLines(diff);
  const head = `*Diff* · ${formatDiffStat(stat)} · full diff in the thread`;
  if (head.length > max) return null;
  const shown: string[] = [];
  let used = head.length + '\n```\n\n```'.length;
  for (const line of lines) {
    if (shown.length >= PREVIEW_MAX_LINES) break;
    const text = clip(line, 'code', PREVIEW_MAX_LINE);
    const more = moreLines(lines.length - shown.length - 1).length;
    if (used + text.length + 1 + more > max) break;
    shown.push(text);
    used += text.length + 1;
  }
  const rest = lines.length - shown.length;
  const tail = moreLines(rest);
  const body =
    shown.length > 0 && shown.join('').trim() !== '' ? `\n\`\`\`\n${shown.join('\n')}\n\`\`\`` : '';
  const out = `${head}${body}${body === '' && rest > 0 ? moreLines(lines.length) : tail}`;
  return out.length <= max ? out : head;
}

function moreLines(n: number): string {
  return n > 0 ? `\n… ${plural(n, 'more line')}` : '';
}

/** The full diff, for the caller to upload into the card's thread (`files.uploadV2`); null without a diff. */
export function fullDiffFile(view: CardView): { filename: string; title: string; content: string } | null {
  if (view.diff === null || view.diff.trim() === '') return null;
  const id = view.id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100) || 'request';
  const title = escapePlain(view.title).trim().slice(0, 200);
  return { filename: `${id}.diff`, title: `Diff: ${title}`, content: view.diff };
}
