/** Documents an issuer publishes (discovery, JWKS) are small; anything larger is refused. */
export const MAX_DOCUMENT_BYTES = 512 * 1024;

export type FetchJsonResult = { ok: true; value: unknown } | { ok: false; why: string };

/**
 * GETs a JSON document with a time limit, without following redirects, refusing bodies over
 * `MAX_DOCUMENT_BYTES`. Never throws: a failure is a value whose `why` names it for an operator.
 */
export async function fetchJson(
  fetchFn: typeof fetch,
  url: string,
  timeoutMs: number,
): Promise<FetchJsonResult> {
  let res: Response;
  let text: string;
  try {
    res = await fetchFn(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > MAX_DOCUMENT_BYTES) {
      await res.body?.cancel();
      return { ok: false, why: `${url}: the document is larger than ${MAX_DOCUMENT_BYTES} bytes` };
    }
    text = await res.text();
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, why: `${url}: ${why}` };
  }
  if (res.status !== 200) return { ok: false, why: `${url}: HTTP ${res.status}` };
  if (text.length > MAX_DOCUMENT_BYTES) {
    return { ok: false, why: `${url}: the document is larger than ${MAX_DOCUMENT_BYTES} bytes` };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, why: `${url}: the answer is not JSON` };
  }
}

/** Loopback hosts, on which `http://` is accepted (local issuers, tests). */
const LOOPBACK_HOST = /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/;

/** An `https://` URL, or `http://` on a loopback address. */
export function isSecureUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname));
  } catch {
    return false;
  }
}
