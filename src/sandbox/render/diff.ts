/** A unified diff as HTML: one line per span, classed by what the line is (file header, hunk, added, removed). */

import { esc } from './html.js';

/** Whether text reads as a unified diff (a hunk header, a git header, or a ---/+++ pair). */
export function looksLikeDiff(text: string): boolean {
  return /^(diff --git |@@ -\d)/m.test(text) || /^--- .*\n\+\+\+ /m.test(text);
}

function lineClass(line: string, inHunk: boolean): string {
  if (
    !inHunk &&
    /^(diff --git |index |--- |\+\+\+ |new file mode|deleted file mode|similarity |rename )/.test(line)
  )
    return 'diff-file';
  if (line.startsWith('@@')) return 'diff-hunk';
  if (line.startsWith('+')) return 'diff-add';
  if (line.startsWith('-')) return 'diff-del';
  if (line.startsWith('\\')) return 'diff-note';
  return 'diff-ctx';
}

/** The lines of `text` as `<span class="diff-line diff-…">`, joined by newlines (for a `<pre>`). */
export function diffHtml(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  let inHunk = false;
  return lines
    .map((line) => {
      if (line.startsWith('@@')) inHunk = true;
      else if (line.startsWith('diff --git ')) inHunk = false;
      const cls = lineClass(line, inHunk);
      return `<span class="diff-line ${cls}">${esc(line) || ' '}</span>`;
    })
    .join('\n');
}
