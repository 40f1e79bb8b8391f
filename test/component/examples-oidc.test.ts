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
import { type StandIn, startStandIn } from '../support/api-stand-in.js';
import { spawnCaptured } from '../support/child.js';

// The OIDC examples' own shell steps, run as written with the one-file CLI their install step
// fetches (dist/countersign.mjs, copied where the step puts it) against the stand-in API and its
// stand-in for GitHub's ID token endpoint: ask, wait, consume, verify, deploy the approved bytes,
// once. (Against the real server once it accepts bearer tokens.)

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = resolve(ROOT, 'dist/countersign.mjs');
let api: StandIn;
let dir: string;

beforeAll(async () => {
  api = await startStandIn();
  dir = mkdtempSync(join(tmpdir(), 'countersign-examples-'));
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
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

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
    const before = api.githubTokens.length;
    const results = await runSteps(steps('77'), { ...env, ...api.githubEnv, COUNTERSIGN_URL: api.url });
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(results[2]?.stderr).toContain('verify-approval: OK (signature, expiry, payload, action)');
    expect(deployed()).toEqual([`deployed production ${env.GITHUB_SHA}`]);
    expect(api.githubTokens.length).toBeGreaterThan(before);
    for (const c of api.apiCalls().slice(-3)) expect(c.headers.authorization).toMatch(/^Bearer /);
    expect(api.apiCalls().filter((c) => c.url.endsWith('/consume'))).toHaveLength(1);

    // A second run of the same attempt finds the same, already used approval: nothing deploys.
    const again = await runSteps(steps('77'), { ...env, ...api.githubEnv, COUNTERSIGN_URL: api.url });
    expect(again.map((r) => r.code)).toEqual([0, 4]);
    expect(again[1]?.stderr).toContain('already been used');
    expect(deployed()).toHaveLength(1);
  });
});

describe('examples/gitlab/.gitlab-ci.yml', () => {
  it('asks with the id_tokens token from COUNTERSIGN_OIDC_TOKEN, verifies and deploys', async () => {
    const pipeline = parse(readFileSync(join(ROOT, 'examples/gitlab/.gitlab-ci.yml'), 'utf8'));
    const job = pipeline['deploy-production'] as { id_tokens: object; script: string[] };
    expect(job.id_tokens).toEqual({ COUNTERSIGN_OIDC_TOKEN: { aud: 'countersign' } });
    const results = await runSteps(job.script.slice(1), {
      COUNTERSIGN_URL: api.url,
      COUNTERSIGN_OIDC_TOKEN: 'gitlab.id.token',
      CI_PROJECT_PATH: 'infra/api',
      CI_COMMIT_SHORT_SHA: 'beef123',
      CI_COMMIT_SHA: 'beef123'.padEnd(40, '0'),
      CI_PIPELINE_URL: 'https://gitlab.example.com/infra/api/-/pipelines/5150',
      CI_PIPELINE_ID: '5150',
      CI_JOB_ID: '1',
    });
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(deployed().at(-1)).toBe(`deployed production ${'beef123'.padEnd(40, '0')}`);
    expect(api.apiCalls().at(-1)?.headers.authorization).toBe('Bearer gitlab.id.token');
  });
});
