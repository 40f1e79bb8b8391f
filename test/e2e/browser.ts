import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core (no downloaded browser). */
export const CHROMIUM = process.env.COUNTERSIGN_CHROMIUM ?? '/usr/bin/chromium';

/** Set by .ci/run: the browser tests must run, so a missing Chromium fails instead of skipping. */
export const BROWSER_REQUIRED = process.env.COUNTERSIGN_E2E_REQUIRED === '1';

/** Why the browser tests skip on this machine, or null when they run. */
export function skipReason(): string | null {
  if (existsSync(CHROMIUM) || BROWSER_REQUIRED) return null;
  return `${CHROMIUM} is not installed: the browser tests are skipped (apt-get install chromium to run them; .ci/run makes them required)`;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Every URL the browser asked for, in order. */
  requested: string[];
  close(): Promise<void>;
}

/** Headless Chromium with a fresh user data dir, recording every request the page makes. */
export async function openBrowser(viewport = { width: 1280, height: 900 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing but the browser tests are required here (COUNTERSIGN_E2E_REQUIRED=1)`,
    );
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'countersign-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // Short waits: a missing element fails the test with its name instead of the test's own timeout.
  context.setDefaultTimeout(10_000);
  const requested: string[] = [];
  context.on('request', (r) => requested.push(r.url()));
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    requested,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
