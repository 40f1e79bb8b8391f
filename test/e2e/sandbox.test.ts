import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { type RunningSandbox, startSandbox } from '../../src/sandbox/launcher.js';
import { spawnCaptured } from '../support/child.js';
import { type Browser, openBrowser, skipReason } from './browser.js';
import { checkScreenshot } from './screenshot.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
const reason = skipReason();
if (reason) console.warn(`[e2e] ${reason}`);

/** Chooses the first person in "Acting as" whose label matches. */
async function actAs(page: Page, label: RegExp): Promise<void> {
  const select = page.getByLabel('Acting as');
  const options = await select
    .locator('option')
    .evaluateAll((os) =>
      os.map((o) => ({ value: (o as unknown as { value: string }).value, text: o.textContent ?? '' })),
    );
  const option = options.find((o) => label.test(o.text));
  if (!option)
    throw new Error(`no one in "Acting as" matches ${label}: ${options.map((o) => o.text).join(', ')}`);
  await select.selectOption(option.value);
}

async function newDemoRequest(page: Page, which: RegExp): Promise<void> {
  await page.getByRole('button', { name: 'New demo request' }).click();
  await page.getByRole('button', { name: which }).click();
}

/** The card (top-level message) whose header holds `title`. */
function card(page: Page, title: string): Locator {
  return page.locator('article.msg-top').filter({ has: page.getByRole('heading', { name: title }) });
}

const cardButton = (c: Locator, name: 'Approve' | 'Deny') =>
  c.locator(':scope > .msg-body').getByRole('button', { name: new RegExp(`^${name}`) });

describe.skipIf(reason !== null)('the sandbox page in a real browser', () => {
  let dir: string;
  let sandbox: RunningSandbox;
  let browser: Browser;
  let page: Page;
  const EXPORT = 'Export 90 days of customers to the analytics bucket';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-sandbox-e2e-'));
    sandbox = await startSandbox({
      cwd: dir,
      port: 0,
      log: createLogger('error', () => {}),
      server: { outboxPollMs: 50 },
    });
    browser = await openBrowser({ width: 1280, height: 1500 });
    page = browser.page;
    await page.goto(sandbox.pageUrl);
    await page.getByText('Live: updates appear as they happen').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a new demo request as a card with its id, its diff and buttons (and keeps docs/sandbox.png current)', async () => {
    await newDemoRequest(page, /Production database export/);
    const c = card(page, EXPORT);
    await c.waitFor();
    expect(await c.textContent()).toMatch(/ID: req_[0-9A-Z]{26}/);
    await cardButton(c, 'Approve').waitFor();
    expect(await cardButton(c, 'Deny').count()).toBe(1);
    // The credential in the diff never reached Slack: the card and the uploaded file say [redacted].
    await c.locator('.msg-file').waitFor();
    expect(await c.textContent()).toContain('AWS_SECRET_ACCESS_KEY=[redacted]');
    await actAs(page, /Ada Okafor/);
    await c.locator('.msg-file').waitFor();
    await checkScreenshot(page, c.locator(':scope > .msg-body'));
  });

  it("refuses the requester's own approval, told privately; the card is unchanged", async () => {
    await actAs(page, /requester/);
    const c = card(page, EXPORT);
    await cardButton(c, 'Approve').click();
    await page.getByText('You requested this change, so someone else has to approve it.').waitFor();
    await page.getByText('Only visible to you').first().waitFor();
    expect(await cardButton(c, 'Approve').count()).toBe(1);
  });

  it('refuses a guest', async () => {
    await actAs(page, /guest/);
    const c = card(page, EXPORT);
    await cardButton(c, 'Approve').click();
    await page.getByText('Guest accounts cannot vote on approval requests.').waitFor();
    expect(await cardButton(c, 'Approve').count()).toBe(1);
  });

  it('lets an approver approve: the card shows the outcome and loses its buttons', async () => {
    await actAs(page, /Ada Okafor — approver/);
    const c = card(page, EXPORT);
    await cardButton(c, 'Approve').click();
    await cardButton(c, 'Approve').waitFor({ state: 'detached' });
    expect(await cardButton(c, 'Deny').count()).toBe(0);
    const body = c.locator(':scope > .msg-body');
    await body.getByText('Approved', { exact: true }).waitFor();
    await c.locator('.thread').getByText('approved — 1 of 1 approval').waitFor();
  });

  it('denies through the modal: reason required, dialog closes, the card says denied and why', async () => {
    await actAs(page, /Ben Ito — approver/);
    await newDemoRequest(page, /Production database export/);
    const pending = page.locator('article.msg-top', { has: page.locator('.bk-actions') });
    await pending.first().waitFor();
    await cardButton(pending.first(), 'Deny').click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const reason = 'The export must exclude email addresses; see DATA-221.';
    await dialog.getByRole('textbox').fill(reason);
    await dialog.getByRole('button', { name: /^(Deny|Submit)/ }).click();
    await dialog.waitFor({ state: 'detached' });
    const denied = page.locator('article.msg-top', { hasText: reason }).first();
    await denied.locator(':scope > .msg-body').getByText('Denied', { exact: true }).waitFor();
    expect(await denied.locator(':scope > .msg-body').textContent()).toContain(reason);
    expect(await cardButton(denied, 'Approve').count()).toBe(0);
  });

  it('auto-approves the low-risk staging deploy by policy', async () => {
    await newDemoRequest(page, /Staging deploy/);
    const c = card(page, 'Deploy web 2.14.0 to staging');
    await c.getByText('Approved automatically by policy rule “staging-deploy-low-risk”').waitFor();
    expect(await cardButton(c, 'Approve').count()).toBe(0);
  });

  it('lets `countersign request --wait` in the sandbox folder, with no configuration, finish after an approval in the page', async () => {
    const title = 'Deploy api 1.5.0 to production (from the CLI)';
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k, v]) => !k.startsWith('COUNTERSIGN_') && v !== undefined),
    ) as Record<string, string>;
    const child = spawnCaptured(
      process.execPath,
      [
        CLI,
        'request',
        '--wait',
        '--action',
        'deploy.service',
        '--environment',
        'production',
        '--title',
        title,
        '--requester-email',
        'riley@sandbox.example',
      ],
      { cwd: dir, env },
    );
    try {
      await actAs(page, /Chloé Martin — approver/);
      const c = card(page, title);
      await cardButton(c, 'Approve').click();
      const done = await child.done;
      expect(done.stderr).toContain('Approved by Chloé Martin');
      expect(done.code).toBe(0);
    } finally {
      if (child.child.exitCode === null) child.child.kill('SIGKILL');
    }
  });

  it('answers /approvals list typed into the command box', async () => {
    await actAs(page, /Ada Okafor/);
    await newDemoRequest(page, /IAM role change/);
    const iam = 'Attach AdministratorAccess to the ci-deployer role';
    await card(page, iam).waitFor();
    const box = page.getByPlaceholder('/approvals', { exact: false });
    await box.fill('/approvals list');
    await box.press('Enter');
    const reply = page.locator('.msg-ephemeral', { hasText: 'Pending approval requests' });
    await reply.waitFor();
    expect(await reply.textContent()).toContain(iam);
    expect(await reply.textContent()).toContain('reply to your command');
  });

  it('shows the App Home tab for the person acting', async () => {
    await actAs(page, /Ada Okafor/);
    await page.getByRole('tab', { name: 'Home' }).click();
    await page.locator('#home').getByText('Countersign approvals').waitFor();
    await page.locator('#home').getByText('You requested').waitFor();
    await page.getByRole('tab', { name: /approvals/ }).click();
  });

  it('fits a phone-sized screen without scrolling sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'New demo request' }).waitFor();
    const overflow = (await page.evaluate(
      'document.documentElement.scrollWidth - window.innerWidth',
    )) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 1500 });
  });

  it('loaded nothing from any host but the sandbox itself', () => {
    expect(browser.requested.length).toBeGreaterThan(0);
    const elsewhere = browser.requested.filter((u) => !u.startsWith(`${sandbox.url}/`));
    expect(elsewhere).toEqual([]);
  });
});
