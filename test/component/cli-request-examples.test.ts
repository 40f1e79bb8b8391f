import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnCaptured } from '../support/child.js';
import { CI_SECRET, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { cardOf, click, submitDeny, waitFor } from '../support/slack-user.js';

// The runnable examples under examples/, run as documented against the real server.
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = resolve(ROOT, 'dist/src/cli/main.js');

let h: Harness;
const children: ChildProcess[] = [];
beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await h.stop();
});

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const started = spawnCaptured(cmd, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      COUNTERSIGN_URL: h.server.url,
      COUNTERSIGN_SECRET: CI_SECRET,
      ...env,
    },
  });
  children.push(started.child);
  const id = () =>
    waitFor(() => /(req_[0-9A-Z]{20,})/.exec(started.err())?.[1], `a request id (stderr: ${started.err()})`);
  return { done: started.done, id };
}

describe('examples/ci/deploy-with-approval.sh', () => {
  const script = (env: Record<string, string> = {}) =>
    run('bash', ['examples/ci/deploy-with-approval.sh', 'web', '2.3.1'], {
      COUNTERSIGN_CLI: `${process.execPath} ${CLI}`,
      DEPLOY_REQUESTER: PEOPLE.alice.email,
      ...env,
    });

  it('deploys after an approval, having checked the approved payload_sha256 against the request file', async () => {
    const s = script();
    const id = await s.id();
    await waitFor(() => cardOf(h, id), 'the card');
    await click(h, PEOPLE.bob.id, id, 'approve');
    const { code, stdout, stderr } = await s.done;
    expect({ code, stderr }).toMatchObject({ code: 0 });
    expect(stdout).toContain('approved');
    expect(stdout).toContain('deploying web 2.3.1 (approved by Bob Builder)');
  });

  it('refuses to ask without a requester Slack can find, saying what to set', async () => {
    for (const [env, message] of [
      [{ DEPLOY_REQUESTER: '' }, /set DEPLOY_REQUESTER to the requester's work email/],
      [
        { DEPLOY_REQUESTER: '1234+ana@users.noreply.github.com' },
        /noreply address that no Slack account has/,
      ],
    ] as const) {
      const { code, stderr } = await script(env).done;
      expect(code).toBe(4);
      expect(stderr).toMatch(message);
    }
  });

  it('asks with a Slack user ID instead of an email', async () => {
    const s = script({ DEPLOY_REQUESTER: '', DEPLOY_REQUESTER_SLACK_ID: PEOPLE.alice.id });
    const id = await s.id();
    expect((await h.api.request(id)).body.requester).toEqual({ slack_user_id: PEOPLE.alice.id });
    await click(h, PEOPLE.bob.id, id, 'approve');
    expect((await s.done).code).toBe(0);
  });

  it('stops with exit 1 and the reason when denied', async () => {
    const s = script();
    const id = await s.id();
    await submitDeny(h, PEOPLE.bob.id, id, 'wait for the release notes');
    const { code, stdout, stderr } = await s.done;
    expect(code).toBe(1);
    expect(stderr).toContain('denied: wait for the release notes');
    expect(stdout).not.toContain('deploying');
  });
});

describe('examples/agent/guarded-tool.mjs', () => {
  it('runs the tool only after approval and returns its result to the agent', async () => {
    const agent = run(process.execPath, ['examples/agent/guarded-tool.mjs', 'orders', 's3://exports']);
    const id = await agent.id();
    await waitFor(() => cardOf(h, id), 'the card');
    await click(h, PEOPLE.bob.id, id, 'approve');
    const { code, stdout } = await agent.done;
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ ok: true, result: 'exported orders to s3://exports' });
  });

  it('hands the deny reason back to the agent, and the tool does not run', async () => {
    const agent = run(process.execPath, ['examples/agent/guarded-tool.mjs', 'customers', 's3://public']);
    const id = await agent.id();
    await submitDeny(h, PEOPLE.bob.id, id, 'That bucket is public');
    const { code, stdout } = await agent.done;
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.ok).toBe(false);
    expect(result.error).toContain(
      'A human reviewer (Bob Builder) denied this call: "That bucket is public"',
    );
  });

  it('says which settings are missing instead of crashing when COUNTERSIGN_URL is unset', async () => {
    const started = spawnCaptured(process.execPath, ['examples/agent/guarded-tool.mjs'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '' },
    });
    const { code, stdout, stderr } = await started.done;
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(
      "guarded-tool: set COUNTERSIGN_URL and COUNTERSIGN_SECRET first: the Countersign server's base URL (e.g. http://localhost:3000) and this agent's whsec_... secret (its entry in the server's COUNTERSIGN_CLIENTS).",
    );
  });
});
