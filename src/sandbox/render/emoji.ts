/**
 * Slack emoji short codes, drawn as small inline SVGs the way Slack shows its own emoji images: the
 * page then looks the same on every machine, with or without an emoji font, and loads nothing.
 * The set is what the product writes; an unknown code stays as typed.
 */

const circle = (fill: string) => `<circle cx="8" cy="8" r="7" fill="${fill}"/>`;

const SHAPES: Record<string, { label: string; svg: string }> = {
  large_green_circle: { label: 'green circle', svg: circle('#2eb67d') },
  large_yellow_circle: { label: 'yellow circle', svg: circle('#ecb22e') },
  large_orange_circle: { label: 'orange circle', svg: circle('#f2800d') },
  red_circle: { label: 'red circle', svg: circle('#e01e5a') },
  white_check_mark: {
    label: 'check mark',
    svg: '<rect x="1" y="1" width="14" height="14" rx="3" fill="#2eb67d"/><path d="M4.2 8.3l2.6 2.6 5-5.4" fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>',
  },
  heavy_check_mark: {
    label: 'check mark',
    svg: '<path d="M3 8.5l3.3 3.3L13 4.8" fill="none" stroke="#1d1c1d" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/>',
  },
  x: {
    label: 'cross mark',
    svg: '<path d="M3.5 3.5l9 9M12.5 3.5l-9 9" stroke="#e01e5a" stroke-width="2.6" stroke-linecap="round"/>',
  },
  no_entry: {
    label: 'no entry',
    svg: `${circle('#e01e5a')}<rect x="3.5" y="6.8" width="9" height="2.4" rx="1" fill="#fff"/>`,
  },
  hourglass: {
    label: 'hourglass',
    svg: '<path d="M4 2h8M4 14h8" stroke="#8d6e63" stroke-width="1.6" stroke-linecap="round"/><path d="M5 2.8h6c0 3-3 3.7-3 5.2 0 1.5 3 2.2 3 5.2H5c0-3 3-3.7 3-5.2C8 6.5 5 5.8 5 2.8z" fill="#cfe8f3" stroke="#8d6e63" stroke-width="0.9"/><path d="M6 12.6h4L8 10.4z" fill="#ecb22e"/>',
  },
  hourglass_flowing_sand: {
    label: 'hourglass with flowing sand',
    svg: '<path d="M4 2h8M4 14h8" stroke="#8d6e63" stroke-width="1.6" stroke-linecap="round"/><path d="M5 2.8h6c0 3-3 3.7-3 5.2 0 1.5 3 2.2 3 5.2H5c0-3 3-3.7 3-5.2C8 6.5 5 5.8 5 2.8z" fill="#cfe8f3" stroke="#8d6e63" stroke-width="0.9"/><path d="M6.2 4.6h3.6L8 7z" fill="#ecb22e"/><path d="M8 8v3.6M6.2 12.6h3.6" stroke="#ecb22e" stroke-width="1"/>',
  },
  leftwards_arrow_with_hook: {
    label: 'arrow curving left',
    svg: '<rect x="1" y="1" width="14" height="14" rx="3" fill="#1264a3"/><path d="M10.5 4.5h-.5a3 3 0 010 6H5" fill="none" stroke="#fff" stroke-width="1.8" stroke-linecap="round"/><path d="M6.8 8.6L4.8 10.5l2 1.9" fill="none" stroke="#fff" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/>',
  },
  lock: {
    label: 'lock',
    svg: '<path d="M5 7V5a3 3 0 016 0v2" fill="none" stroke="#8d8d8d" stroke-width="1.8"/><rect x="3" y="7" width="10" height="7.5" rx="1.5" fill="#ecb22e"/><circle cx="8" cy="10.6" r="1.2" fill="#8d6e63"/>',
  },
  bell: {
    label: 'bell',
    svg: '<path d="M8 2a4 4 0 014 4v3.2l1.5 2.3h-11L4 9.2V6a4 4 0 014-4z" fill="#ecb22e"/><circle cx="8" cy="13" r="1.6" fill="#c58a00"/>',
  },
  warning: {
    label: 'warning',
    svg: '<path d="M8 1.8l6.8 12H1.2z" fill="#ecb22e" stroke="#ecb22e" stroke-linejoin="round"/><path d="M8 6v4" stroke="#1d1c1d" stroke-width="1.8" stroke-linecap="round"/><circle cx="8" cy="12.1" r="1" fill="#1d1c1d"/>',
  },
  rotating_light: {
    label: 'police car light',
    svg: '<path d="M4 13V8.5a4 4 0 018 0V13z" fill="#e01e5a"/><rect x="2.5" y="12.5" width="11" height="2.5" rx="1" fill="#616061"/><path d="M8 1v2M2.5 3.5l1.3 1.3M13.5 3.5l-1.3 1.3" stroke="#ecb22e" stroke-width="1.4" stroke-linecap="round"/>',
  },
  page_facing_up: {
    label: 'page',
    svg: '<path d="M3.5 1.5h6l3 3v10h-9z" fill="#fff" stroke="#8d8d8d"/><path d="M9.5 1.5v3h3" fill="none" stroke="#8d8d8d"/><path d="M5.5 7.5h5M5.5 9.5h5M5.5 11.5h3.5" stroke="#8d8d8d" stroke-linecap="round"/>',
  },
  tada: {
    label: 'party popper',
    svg: '<path d="M2 14l3.5-9.5 6 6z" fill="#ecb22e"/><path d="M9 2.5l.8 1.6M13 4l-1.5 1M13.5 8.5l-1.7-.2" stroke="#e01e5a" stroke-width="1.4" stroke-linecap="round"/><circle cx="11.5" cy="2.5" r="1" fill="#36c5f0"/><circle cx="14" cy="6.3" r="0.9" fill="#2eb67d"/>',
  },
};

const CODE = /:([a-z0-9_+-]{1,40}):/g;

/** The emoji named `name` as an inline, labelled SVG; null when the sandbox does not draw it. */
export function emojiHtml(name: string): string | null {
  const shape = SHAPES[name];
  if (!shape) return null;
  return `<span class="emoji" role="img" aria-label="${shape.label}" title=":${name}:"><svg viewBox="0 0 16 16" aria-hidden="true" focusable="false">${shape.svg}</svg></span>`;
}

/**
 * Splits text into pieces around known emoji codes: each piece is either text (still to be escaped)
 * or an emoji's HTML.
 */
export function splitEmoji(text: string): { text?: string; html?: string }[] {
  const out: { text?: string; html?: string }[] = [];
  let last = 0;
  for (const m of text.matchAll(CODE)) {
    const html = emojiHtml(m[1] ?? '');
    if (html === null) continue;
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    out.push({ html });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}
