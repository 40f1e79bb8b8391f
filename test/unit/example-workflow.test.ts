import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * The shipped GitHub Actions example must send a requester Slack can find: GitHub's
 * `<login>@users.noreply.github.com` never matches a Slack account, so self-approval could not be
 * caught. Its mapping step runs here as GitHub would run it (bash, with the same environment).
 */
const ROOT = resolve(import.meta.dirname, '../..');
const workflow = parse(
  readFileSync(join(ROOT, 'examples/github-actions/deploy-with-approval.yml'), 'utf8'),
) as {
  jobs: { deploy: { steps: { name?: string; id?: string; run?: string; env?: Record<string, string> }[] } };
};
const steps = workflow.jobs.deploy.steps;
/** A GitHub Actions expression, `${{ … }}`, as written in the workflow. */
const expr = (inner: string) => `$${'{{'} ${inner} }}`;
const mapping = steps.find((s) => s.id === 'requester');
const dir = mkdtempSync(join(tmpdir(), 'countersign-gha-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runMapping(env: Record<string, string>) {
  const output = join(dir, `output-${Math.random().toString(36).slice(2)}`);
  const r = spawnSync('bash', ['-e', '-c', mapping?.run ?? 'exit 99'], {
    env: { PATH: process.env.PATH ?? '', GITHUB_OUTPUT: output, ...env },
    encoding: 'utf8',
  });
  let out = '';
  try {
    out = readFileSync(output, 'utf8');
  } catch {
    // Nothing written.
  }
  return { code: r.status, stdout: r.stdout, output: out };
}

describe('examples/github-actions/deploy-with-approval.yml', () => {
  it('asks with the Slack user ID mapped from the GitHub actor, never a noreply address', () => {
    expect(mapping?.env).toMatchObject({
      SLACK_IDS: expr('vars.COUNTERSIGN_SLACK_IDS'),
      ACTOR: expr('github.actor'),
    });
    const ask = steps.find((s) => /countersign(\.mjs")? request/.test(s.run ?? ''))?.run ?? '';
    expect(ask).toContain(`--requester-slack-id "${expr('steps.requester.outputs.slack_id')}"`);
    expect(ask).not.toContain('noreply');
  });

  it('maps a known login to its Slack user ID', () => {
    const r = runMapping({ SLACK_IDS: '{"octocat": "U012ABCDEF", "hubot": "W034GHIJKL"}', ACTOR: 'hubot' });
    expect(r.code).toBe(0);
    expect(r.output).toBe('slack_id=W034GHIJKL\n');
  });

  it.each([
    [
      'a login without an entry',
      { SLACK_IDS: '{"octocat": "U012ABCDEF"}', ACTOR: 'dependabot[bot]' },
      /GitHub user dependabot\[bot\] has no Slack user ID/,
    ],
    [
      'no variable at all',
      { ACTOR: 'octocat' },
      /has no Slack user ID in the repository variable COUNTERSIGN_SLACK_IDS/,
    ],
    [
      'an entry that is not a Slack user ID',
      { SLACK_IDS: '{"octocat": "octocat@example.com"}', ACTOR: 'octocat' },
      /has no Slack user ID/,
    ],
    [
      'a variable that is not JSON',
      { SLACK_IDS: 'octocat=U012ABCDEF', ACTOR: 'octocat' },
      /is not a JSON object/,
    ],
  ])('fails the job clearly for %s', (_what, env, message) => {
    const r = runMapping(env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error::/m);
    expect(r.stdout).toMatch(message);
    expect(r.output).toBe('');
  });
});
