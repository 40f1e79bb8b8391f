import { redactText } from './redact.js';
import { VALUE_MARKER } from './secret-patterns.js';

/** A path segment or bare query word that reads like a credential: long, or mixing letters and digits. */
function tokenLike(part: string): boolean {
  let text = part;
  try {
    text = decodeURIComponent(part);
  } catch {
    // A malformed escape: judge the raw text.
  }
  if (text.length >= 32) return true;
  if (text.length >= 16 && /[0-9]/.test(text) && /[A-Za-z]/.test(text)) return true;
  return redactText(text).count > 0;
}

/**
 * A URL fit for audit data and log lines. A `callback_url` may carry its receiver's credential
 * (`https://hooks.example.com/ci/3f9a…?token=…`), and the audit log and the logs are read by more
 * people than the pipeline that sent it. Kept: scheme, host, port, ordinary path segments and
 * query keys. Masked: the userinfo, every query value, the fragment, and path segments that look
 * like a token (16 or more characters mixing letters and digits, 32 or more of anything, or a
 * recognised secret). The full URL stays only where it is needed to deliver.
 */
export function maskUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return redactText(raw).text;
  }
  if (url.host === '' || !url.pathname.startsWith('/')) return `${url.protocol}${VALUE_MARKER}`;
  const userinfo = url.username !== '' || url.password !== '' ? `${VALUE_MARKER}@` : '';
  const path = url.pathname
    .split('/')
    .map((segment) => (segment !== '' && tokenLike(segment) ? VALUE_MARKER : segment))
    .join('/');
  const query =
    url.search === ''
      ? ''
      : `?${url.search
          .slice(1)
          .split('&')
          .map((pair) => {
            const eq = pair.indexOf('=');
            if (eq < 0) return pair !== '' && tokenLike(pair) ? VALUE_MARKER : pair;
            const key = pair.slice(0, eq);
            const name = tokenLike(key) ? VALUE_MARKER : key;
            return eq === pair.length - 1 ? `${name}=` : `${name}=${VALUE_MARKER}`;
          })
          .join('&')}`;
  const hash = url.hash.length > 1 ? `#${VALUE_MARKER}` : '';
  return `${url.protocol}//${userinfo}${url.host}${path}${query}${hash}`;
}
