import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { spawnCaptured } from '../support/child.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { type LocalIssuer, startOidcIssuer } from '../support/oidc-issuer.js';
import { cardOf, click, waitFor } from '../support/slack-user.js';

// The OIDC examples' own shell steps, run as written with the one-file CLI (dist/countersign.mjs,
// fetched from the real server as their install step does) against the real server, which trusts
// two local issuers (one also standing in for GitHub's ID token endpoint) under the policy the
// examples describe: ask with an ID token and no secret, wait while a reviewer approves in Slack,
// verify the attestation, deploy exactly the approved bytes, once.

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = resolve(ROOT, 'dist/countersign.mjs');
const POLICY = `version: 1
requesters:
  - client: github
    claim: actor
    email: "{value}@example.com"
  - client: gitlab
    claim: user_login
    users: { jdoe: ${PEOPLE.dave.id} }
    required: true
rules:
  - name: prod-from-main
    match: { action: "deploy.*", environment: production,
             claims: { repository: "acme/*", ref: refs/heads/main } }
  - name: gitlab-prod-from-main
    match: { action: "deploy.*", environment: production,
             claims: { project_path: "infra/*", ref: main, ref_protected: "true" } }
  - name: prod-otherwise
    match: { action: "deploy.*", environment: production }
    outcome: deny
`;
let github: LocalIssuer;
let gitlab: LocalIssuer;
let h: Harness;
let dir: string;

beforeAll(async () => {
  github = await startOidcIssuer();
  await github.addKey('RS256');
  gitlab = await startOidcIssuer();
  await gitlab.addKey('ES256');
  dir = mkdtempSync(join(tmpdir(), 'countersign-examples-'));
  writeFileSync(join(dir, 'server-policy.yml'), POLICY);
  h = await startHarness({
    env: {
      COUNTERSIGN_OIDC: `github=${github.url},gitlab=${gitlab.url}`,
      COUNTERSIGN_POLICY: join(dir, 'server-policy.yml'),
    },
  });
  h.slack.addUser({ id: 'UOCTOCAT', name: 'Octo Cat', email: 'octocat@example.com' });
  // Where the install steps put it: $RUNNER_TEMP on GitHub, the job's folder on GitLab.
  copyFileSync(CLI, join(dir, 'countersign.mjs'));
  mkdirSync(join(dir, 'scripts'));
  writeFileSync(
    join(dir, 'scripts', 'deploy.sh'),
    '#!/usr/bin/env bash\necho "deployed $*" >> deployed.log\n',
  );
  chmodSync(join(dir, 'scripts', 'deploy.sh'), 0o755);
});
afterAll(async () => {
  await h.stop();
  await github.stop();
  await gitlab.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Approves, as Bob in Slack, the next request whose card appears with `title`. */
async function approveInSlack(title: string) {
  const card = await waitFor(
    () => h.slack.cards().find((m) => m.text.includes(title)),
    `the card "${title}"`,
  );
  const id = /req_\w+/.exec(JSON.stringify(card.blocks))?.[0] as string;
  expect(cardOf(h, id)).toBeDefined();
  await click(h, PEOPLE.bob.id, id, 'approve');
  return id;
}

/** Runs shell steps in order, each with bash -e, stopping at the first failure. */
async function runSteps(steps: string[], env: Record<string, string>) {
  const out: { code: number | null; stderr: string }[] = [];
  for (const script of steps) {
    const r = await spawnCaptured('bash', ['-e', '-c', script], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', RUNNER_TEMP: dir, ...env },
    }).done;
    out.push({ code: r.code, stderr: r.stderr });
    if (r.code !== 0) break;
  }
  return out;
}

const deployed = () => {
  try {
    return readFileSync(join(dir, 'deployed.log'), 'utf8').trim().split('\n');
  } catch {
    return [];
  }
};

describe('examples/github-actions/deploy-with-oidc.yml', () => {
  const workflow = parse(readFileSync(join(ROOT, 'examples/github-actions/deploy-with-oidc.yml'), 'utf8'));
  const job = workflow.jobs.deploy as { steps: { name?: string; run?: string }[] };
  const steps = (runId: string) =>
    job.steps
      .filter((s) => s.run !== undefined && s.name !== 'Install the countersign CLI')
      .map((s) =>
        (s.run as string)
          .replace(/\$\{\{ github\.run_id \}\}/g, runId)
          .replace(/\$\{\{ github\.run_attempt \}\}/g, '1'),
      );
  const env = {
    ...{ COUNTERSIGN_URL: '' },
    GITHUB_REPOSITORY: 'acme/web',
    GITHUB_SHA: 'c0ffee'.padEnd(40, '0'),
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '77',
  };

  it('asks with a GitHub ID token and no secret, then verifies and deploys the approved commit once', async () => {
    expect(workflow.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
    const install = job.steps.find((s) => s.name === 'Install the countersign CLI')?.run as string;
    const jobEnv = { ...env, ...github.githubEnv, COUNTERSIGN_URL: h.server.url };
    expect((await runSteps([install], jobEnv)).map((r) => r.code)).toEqual([0]);
    expect(readFileSync(join(dir, 'countersign.mjs'))).toEqual(readFileSync(CLI));

    const running = runSteps(steps('77'), jobEnv);
    const id = await approveInSlack('Deploy acme/web@c0ffee0 to production');
    const results = await running;
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(results[2]?.stderr).toContain('verify-approval: OK (signature, expiry, payload, action)');
    expect(deployed()).toEqual([`deployed production ${env.GITHUB_SHA}`]);
    const outcome = JSON.parse(readFileSync(join(dir, 'outcome.json'), 'utf8'));
    expect(outcome).toMatchObject({
      id,
      status: 'approved',
      client: 'github',
      requester: { email: 'octocat@example.com', name: 'octocat' },
      caller: { issuer: github.url, claims: { repository: 'acme/web', actor: 'octocat' } },
      votes: [{ user_id: PEOPLE.bob.id, decision: 'approve' }],
      consumed_at: expect.any(String),
    });
    expect(github.githubTokens.map((t) => t.audience)).toContain('countersign');

    // A second run of the same attempt finds the same, already used approval: nothing deploys.
    const again = await runSteps(steps('77'), jobEnv);
    expect(again.map((r) => r.code)).toEqual([0, 4]);
    expect(again[1]?.stderr).toContain('already been used');
    expect(deployed()).toHaveLength(1);
  });

  it('a run from another branch is refused by policy, and nothing deploys', async () => {
    github.githubClaims = { ref: 'refs/heads/dev' };
    try {
      const results = await runSteps(steps('78'), {
        ...env,
        ...github.githubEnv,
        COUNTERSIGN_URL: h.server.url,
      });
      expect(results.map((r) => r.code)).toEqual([0, 4]);
      expect(results[1]?.stderr).toContain('prod-otherwise');
      expect(deployed()).toHaveLength(1);
    } finally {
      github.githubClaims = {};
    }
  });
});

describe('examples/gitlab/.gitlab-ci.yml', () => {
  it('asks with the id_tokens token from COUNTERSIGN_OIDC_TOKEN, verifies and deploys', async () => {
    const pipeline = parse(readFileSync(join(ROOT, 'examples/gitlab/.gitlab-ci.yml'), 'utf8'));
    const job = pipeline['deploy-production'] as { id_tokens: object; script: string[] };
    expect(job.id_tokens).toEqual({ COUNTERSIGN_OIDC_TOKEN: { aud: 'countersign' } });
    const token = await gitlab.token({
      claims: {
        sub: 'project_path:infra/api:ref_type:branch:ref:main',
        project_path: 'infra/api',
        project_id: '77',
        ref: 'main',
        ref_protected: 'true',
        user_login: 'jdoe',
        pipeline_id: '5150',
        repository: undefined,
        repository_id: undefined,
        actor: undefined,
        run_id: undefined,
      },
    });
    const running = runSteps(job.script.slice(1), {
      COUNTERSIGN_URL: h.server.url,
      COUNTERSIGN_OIDC_TOKEN: token,
      CI_PROJECT_PATH: 'infra/api',
      CI_COMMIT_SHORT_SHA: 'beef123',
      CI_COMMIT_SHA: 'beef123'.padEnd(40, '0'),
      CI_PIPELINE_URL: 'https://gitlab.example.com/infra/api/-/pipelines/5150',
      CI_PIPELINE_ID: '5150',
      CI_JOB_ID: '1',
    });
    await approveInSlack('Deploy infra/api@beef123 to production');
    const results = await running;
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(deployed().at(-1)).toBe(`deployed production ${'beef123'.padEnd(40, '0')}`);
    const outcome = JSON.parse(readFileSync(join(dir, 'outcome.json'), 'utf8'));
    expect(outcome).toMatchObject({
      client: 'gitlab',
      requester: { slack_user_id: PEOPLE.dave.id, name: 'jdoe' },
      caller: { claims: { project_path: 'infra/api', user_login: 'jdoe' } },
      consumed_at: expect.any(String),
    });
  });
});
