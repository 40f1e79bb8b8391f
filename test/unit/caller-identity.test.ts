import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/core/caller.js';
import { callerFacts } from '../../src/identity/caller-facts.js';
import { callerOwner, sameOwner } from '../../src/identity/caller-owner.js';

const github = (
  claims: Record<string, unknown> = {},
  subject = 'repo:acme/web:ref:refs/heads/main',
): Caller => ({
  issuer: 'https://token.actions.githubusercontent.com',
  subject,
  claims: {
    repository: 'acme/web',
    repository_id: '4242',
    ref: 'refs/heads/main',
    workflow: 'deploy',
    actor: 'octocat',
    environment: 'production',
    run_id: '9001',
    run_attempt: '2',
    ...claims,
  },
});

const gitlab: Caller = {
  issuer: 'https://gitlab.example.com',
  subject: 'project_path:infra/platform/api:ref_type:branch:ref:main',
  claims: {
    project_path: 'infra/platform/api',
    project_id: '17',
    ref: 'main',
    user_login: 'jdoe',
    pipeline_id: '5150',
  },
};

describe('callerFacts', () => {
  it('shows a GitHub caller with a link to its run on github.com', () => {
    expect(callerFacts(github())).toEqual({
      repository: 'acme/web',
      ref: 'refs/heads/main',
      workflow: 'deploy',
      actor: 'octocat',
      environment: 'production',
      runUrl: 'https://github.com/acme/web/actions/runs/9001/attempts/2',
    });
  });

  it('links a GitHub Enterprise Server run on its own host, and a GitLab pipeline on the issuer', () => {
    const ghes = { ...github(), issuer: 'https://git.corp.example/_services/token' };
    expect(callerFacts(ghes).runUrl).toBe('https://git.corp.example/acme/web/actions/runs/9001/attempts/2');
    expect(callerFacts(gitlab)).toMatchObject({
      repository: 'infra/platform/api',
      actor: 'jdoe',
      runUrl: 'https://gitlab.example.com/infra/platform/api/-/pipelines/5150',
    });
  });

  it('builds no link from claims that could break out of a URL or a Slack link', () => {
    expect(callerFacts(github({ repository: 'acme/web|<evil>' })).runUrl).toBeNull();
    expect(callerFacts(github({ run_id: '1/../../x' })).runUrl).toBeNull();
    expect(callerFacts({ issuer: 'https://x.example', subject: 's', claims: {} })).toEqual({
      repository: null,
      ref: null,
      workflow: null,
      actor: null,
      environment: null,
      runUrl: null,
    });
  });
});

describe('callerOwner and sameOwner', () => {
  it('owns by repository id, so later jobs of the same repository (another sub) are the owner', () => {
    const ask = github();
    const deploy = github({ environment: 'production' }, 'repo:acme/web:environment:production');
    expect(callerOwner(ask)).toBe('https://token.actions.githubusercontent.com#repo:4242');
    expect(sameOwner({ client: 'github', caller: ask }, { client: 'github', caller: deploy })).toBe(true);
  });

  it('keeps other repositories, other clients and secret callers out', () => {
    const ask = github();
    const other = github(
      { repository: 'evil/web', repository_id: '666' },
      'repo:evil/web:ref:refs/heads/main',
    );
    expect(sameOwner({ client: 'github', caller: ask }, { client: 'github', caller: other })).toBe(false);
    expect(sameOwner({ client: 'github', caller: ask }, { client: 'gh2', caller: ask })).toBe(false);
    expect(sameOwner({ client: 'github', caller: ask }, { client: 'github', caller: null })).toBe(false);
    expect(sameOwner({ client: 'ci', caller: null }, { client: 'ci', caller: null })).toBe(true);
  });

  it('falls back to the exact subject without a repository id', () => {
    const bare = (sub: string): Caller => ({ issuer: 'https://i.example', subject: sub, claims: {} });
    expect(callerOwner(bare('a'))).toBe('https://i.example#sub:a');
    expect(sameOwner({ client: 'x', caller: bare('a') }, { client: 'x', caller: bare('b') })).toBe(false);
  });
});
