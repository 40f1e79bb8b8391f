import { type Countersign, CountersignError, type RequestObject } from '../client/index.js';

/** Room left after the last poll for the answer to travel back within the promised time. */
const SLACK_MS = 1500;

/**
 * Waits at most `ms` for request `id` to be decided and returns it as it then stands (still pending
 * when no decision came in time). `known` is the request as last seen, if any: a decided one is
 * returned at once. Long-polls the server in whole seconds that fit in `ms`; a server that stops
 * answering is given up on at the deadline, so the caller always answers on time. Throws when
 * `signal` aborts, when the server refuses (not found, bad signature, ...), or when it gave no
 * answer at all before the deadline (code `timeout`).
 */
export async function waitChunk(
  cs: Countersign,
  id: string,
  ms: number,
  signal: AbortSignal,
  known: RequestObject | null = null,
): Promise<RequestObject> {
  if (known !== null && known.status !== 'pending') return known;
  const seconds = Math.floor(ms / 1000);
  const stop = AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, seconds) * 1000 + SLACK_MS)]);
  let last = known;
  try {
    if (seconds < 1) return known ?? (await cs.get(id, { signal: stop }));
    return await cs.waitForDecision(id, {
      timeoutMs: seconds * 1000,
      pollSeconds: seconds,
      signal: stop,
      onUpdate: (r) => {
        last = r;
      },
    });
  } catch (err) {
    if (signal.aborted || !(err instanceof CountersignError)) throw err;
    if (err.code !== 'wait_timeout' && err.code !== 'aborted') throw err;
    const seen = err.request ?? last;
    if (seen !== null) return seen;
    throw new CountersignError(`no answer from Countersign about ${id} within ${Math.max(1, seconds)} s`, {
      code: 'timeout',
    });
  }
}
