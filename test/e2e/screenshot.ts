import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';

const DOCS = join(import.meta.dirname, '../../docs');
export const SCREENSHOT = join(DOCS, 'sandbox.png');
export const FINGERPRINT = join(DOCS, 'sandbox.png.fingerprint');
export const REFRESH = 'UPDATE_SANDBOX_SCREENSHOT=1 npx vitest run test/e2e/sandbox.test.ts';

/**
 * The card as rendered, without what changes from run to run (request id, timestamps, times, port):
 * it changes only when the product's card or the page's renderer does.
 */
export function normaliseCard(html: string): string {
  return html
    .replace(/req_[0-9A-Z]{26}/g, 'req_ID')
    .replace(/<time[^>]*>[^<]*<\/time>/g, '<time></time>')
    .replace(/1700000000(?:\.|_2e)\d{6}/g, 'TS')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT');
}

export function fingerprint(html: string): string {
  return createHash('sha256').update(normaliseCard(html)).digest('hex');
}

/**
 * Checks that docs/sandbox.png shows today's card: the fingerprint stored beside it must match. With
 * UPDATE_SANDBOX_SCREENSHOT=1 it takes the screenshot and writes both instead, so an ordinary test
 * run never changes the tree.
 */
export async function checkScreenshot(page: Page, card: Locator): Promise<void> {
  const current = fingerprint(await card.evaluate((el) => el.outerHTML));
  if (process.env.UPDATE_SANDBOX_SCREENSHOT === '1') {
    await page.screenshot({ path: SCREENSHOT });
    writeFileSync(
      FINGERPRINT,
      `${current}\n# SHA-256 of the card shown in docs/sandbox.png (normalised); refresh both with: ${REFRESH}\n`,
    );
    return;
  }
  const stored = existsSync(FINGERPRINT)
    ? (readFileSync(FINGERPRINT, 'utf8').split('\n')[0] ?? '')
    : '(none)';
  if (stored !== current) {
    throw new Error(
      `The sandbox card no longer looks like docs/sandbox.png (fingerprint ${stored} → ${current}). ` +
        `Refresh the screenshot and its fingerprint with: ${REFRESH}, then commit docs/sandbox.png and docs/sandbox.png.fingerprint.`,
    );
  }
}
