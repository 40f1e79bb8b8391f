import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { type RunningSandbox, startSandbox } from '../../src/sandbox/launcher.js';
import { type Captured, spawnCaptured } from '../support/child.js';
import { waitFor } from '../support/slack-user.js';
import { type Browser, openBrowser, skipReason } from './browser.js';

const DEMO = join(import.meta.dirname, '../../examples/mcp/demo.mjs');
const reason = skipReason();
if (reason) console.warn(`[e2e] ${reason}`);

// The MCP gateway demo of the README, as a newcomer runs it: the sandbox in a folder, then
// `node examples/mcp/demo.mjs` there with no configuration at all, and an approval in the page.
describe.skipIf(reason !== null)('the MCP gateway demo against the sandbox', () => {
  let dir: string;
  let sandbox: RunningSandbox;
  let browser: Browser;
  let demo: Captured | null = null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-mcp-demo-'));
    sandbox = await startSandbox({
      cwd: dir,
      port: 0,
      log: createLogger('error', () => {}),
      server: { outboxPollMs: 50 },
    });
    browser = await openBrowser();
  });

  afterAll(async () => {
    if (demo && demo.child.exitCode === null) demo.child.kill('SIGKILL');
    await demo?.done;
    await browser?.close();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the read-only tool at once and the destructive one only after an approval in the page', async () => {
    demo = spawnCaptured(process.execPath, [DEMO], { cwd: dir, env: { PATH: process.env.PATH ?? '' } });
    const running = demo;
    // read_note is auto-approved by the sandbox policy: its answer comes before anyone is asked.
    await waitFor(
      () => /approve or deny (req_\w+)/.test(running.out()) || running.child.exitCode !== null,
      'the demo to wait for an approval of delete_note',
      30_000,
    );
    const out = running.out();
    expect(out).toContain('agent sees the upstream');
    expect(out).toContain('Sandbox found in this folder');
    expect(out).toMatch(
      /agent → read_note[\s\S]*agent ← oat milk, lemons, coffee beans[\s\S]*agent → delete_note/,
    );
    const id = /approve or deny (req_\w+)/.exec(out)?.[1] as string;
    expect(out).not.toMatch(/agent ← .*launch-plan/);

    const page = browser.page;
    await page.goto(sandbox.pageUrl);
    await page.getByText('Live: updates appear as they happen').waitFor();
    const select = page.getByLabel('Acting as');
    const approver = await select
      .locator('option')
      .filter({ hasText: 'Ada Okafor' })
      .evaluate((o) => (o as unknown as { value: string }).value);
    await select.selectOption(approver);
    const card = page.locator('article.msg-top').filter({ hasText: `ID: ${id}` });
    await card.getByText('delete_note').first().waitFor();
    await card
      .locator(':scope > .msg-body')
      .getByRole('button', { name: /^Approve/ })
      .click();

    const done = await running.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/agent → delete_note[\s\S]*agent ← .*launch-plan/);
    expect(done.stdout).not.toContain('refused');
  });
});
