import { decodeJwt } from 'jose';
import { CountersignError } from './errors.js';

/** Gives the OIDC ID token to send as `Authorization: Bearer`; called before every API call. */
export type TokenProvider = () => string | Promise<string>;

/** Refetch a provided token this long before its `exp`, so a call never carries one about to lapse. */
const EARLY_MS = 60_000;

/**
 * Wraps a token source so it is asked again only when the last token is within a minute of its
 * `exp` (read without verifying: the server verifies). A token without `exp` is used once per call.
 */
export function cachedTokenProvider(
  fetchToken: () => Promise<string>,
  now: () => number = Date.now,
): TokenProvider {
  let token: string | null = null;
  let expiresAt = 0;
  let pending: Promise<string> | null = null;
  return async () => {
    if (token !== null && now() < expiresAt - EARLY_MS) return token;
    pending ??= fetchToken()
      .then((fresh) => {
        token = fresh;
        const exp = readExp(fresh);
        expiresAt = exp === null ? 0 : exp * 1000;
        return fresh;
      })
      .finally(() => {
        pending = null;
      });
    return pending;
  };
}

function readExp(token: string): number | null {
  try {
    const exp = decodeJwt(token).exp;
    return typeof exp === 'number' ? exp : null;
  } catch {
    return null;
  }
}

/** True when this process runs in a GitHub Actions job allowed to request ID tokens (`id-token: write`). */
export function inGitHubActions(env: Record<string, string | undefined>): boolean {
  return Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
}

/**
 * Fetches GitHub Actions ID tokens for `audience` from `ACTIONS_ID_TOKEN_REQUEST_URL` with
 * `ACTIONS_ID_TOKEN_REQUEST_TOKEN` (present in a job with `permissions: id-token: write`), cached
 * until shortly before they expire. Network errors and 5xx are tried three times.
 */
export function githubActionsTokenProvider(opts: {
  env: Record<string, string | undefined>;
  audience: string;
  fetch?: typeof fetch;
  now?: () => number;
}): TokenProvider {
  const requestUrl = opts.env.ACTIONS_ID_TOKEN_REQUEST_URL ?? '';
  const requestToken = opts.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? '';
  const fetchFn = opts.fetch ?? globalThis.fetch;
  if (!requestUrl || !requestToken) {
    throw new CountersignError(
      'no GitHub Actions ID token: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are set only ' +
        'in a job with "permissions: id-token: write"',
      { code: 'oidc_token_unavailable' },
    );
  }
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    throw new CountersignError('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL', {
      code: 'oidc_token_unavailable',
    });
  }
  url.searchParams.set('audience', opts.audience);
  const fetchOnce = async (): Promise<string> => {
    let last = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      let res: Response;
      let text: string;
      try {
        res = await fetchFn(url, {
          headers: { authorization: `bearer ${requestToken}`, accept: 'application/json; api-version=2.0' },
          signal: AbortSignal.timeout(10_000),
        });
        text = await res.text();
      } catch (err) {
        last = (err as Error).message;
        continue;
      }
      if (res.status >= 500) {
        last = `HTTP ${res.status}`;
        continue;
      }
      const value = res.ok ? parseValue(text) : null;
      if (value !== null) return value;
      throw new CountersignError(
        `GitHub refused the ID token request (HTTP ${res.status}${res.ok ? ', no "value" in the answer' : ''}); ` +
          'the job needs "permissions: id-token: write"',
        { status: res.status, code: 'oidc_token_unavailable' },
      );
    }
    throw new CountersignError(`cannot get a GitHub Actions ID token (${last})`, {
      code: 'oidc_token_unavailable',
    });
  };
  return cachedTokenProvider(fetchOnce, opts.now);
}

function parseValue(text: string): string | null {
  try {
    const value = (JSON.parse(text) as { value?: unknown }).value;
    return typeof value === 'string' && value !== '' ? value : null;
  } catch {
    return null;
  }
}
