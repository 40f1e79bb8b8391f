import type { Caller, CallerFacts } from '../core/caller.js';

export type { CallerFacts };

const text = (v: unknown) => (typeof v === 'string' && v !== '' && v.length <= 300 ? v : null);
const id = (v: unknown) =>
  (typeof v === 'string' || typeof v === 'number') && /^\d{1,20}$/.test(String(v)) ? String(v) : null;
/** `owner/name` or a GitLab `group/sub/project` path: nothing that could break out of a URL or a Slack link. */
const PATH = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;

/**
 * The facts of a caller from its claims: GitHub's `repository`, `ref`, `workflow`, `actor`,
 * `environment`, `run_id`; GitLab's `project_path`, `ref`, `user_login`, `environment`,
 * `pipeline_id`. The run link is built only from a well-formed path and a numeric id.
 */
export function callerFacts(caller: Caller): CallerFacts {
  const c = caller.claims;
  const repository = text(c.repository) ?? text(c.project_path);
  return {
    repository,
    ref: text(c.ref),
    workflow: text(c.workflow) ?? text(c.job_workflow_ref) ?? text(c.ci_config_ref_uri),
    actor: text(c.actor) ?? text(c.user_login),
    environment: text(c.environment),
    runUrl: runUrl(caller, repository),
  };
}

function runUrl(caller: Caller, repository: string | null): string | null {
  if (repository === null || !PATH.test(repository)) return null;
  let issuer: URL;
  try {
    issuer = new URL(caller.issuer);
  } catch {
    return null;
  }
  const c = caller.claims;
  const githubRun = id(c.run_id);
  if (githubRun !== null && typeof c.repository === 'string') {
    // github.com's issuer is token.actions.githubusercontent.com; GitHub Enterprise Server's is <host>/_services/token.
    const host =
      issuer.hostname === 'token.actions.githubusercontent.com' ? 'https://github.com' : issuer.origin;
    const attempt = id(c.run_attempt);
    return `${host}/${repository}/actions/runs/${githubRun}${attempt ? `/attempts/${attempt}` : ''}`;
  }
  const pipeline = id(c.pipeline_id);
  if (pipeline !== null && typeof c.project_path === 'string') {
    // A GitLab issuer is the instance's base URL (https://gitlab.com, or a self-managed host).
    return `${caller.issuer.replace(/\/+$/, '')}/${repository}/-/pipelines/${pipeline}`;
  }
  return null;
}
