import { type Countersign, CountersignError, type RequestObject } from '../client/index.js';

/** Room left after the last poll for the answer to travel back within the promised time. */
const SLACK_MS = 1500;

/**
 * Waits at most `ms` for `request` to be decided and returns it as it then stands (still pending
 * when no decision came in time). Long-polls the server in whole seconds that fit in `ms`; a
 * server that stops answering is given up on at the deadline, so the caller always answers on time.
 * Throws only when `signal` aborts or the server refuses (not found, bad signature, ...).
 */
export async function waitChunk(
  cs: Countersign,
  request: RequestObject,
  ms: number,
  signal: AbortSignal,
): Promise<RequestObject> {
  const seconds = Math.floor(ms / 1000);
  if (request.status !== 'pending' || seconds < 1) return request;
  let last = request;
  const stop = AbortSignal.any([signal, AbortSignal.timeout(seconds * 1000 + SLACK_MS)]);
  try {
    return await cs.waitForDecision(request.id, {
      timeoutMs: seconds * 1000,
      pollSeconds: seconds,
      signal: stop,
      onUpdate: (r) => {
        last = r;
      },
    });
  } catch (err) {
    if (signal.aborted) throw err;
    if (err instanceof CountersignError && (err.code === 'wait_timeout' || err.code === 'aborted')) {
      return err.request ?? last;
    }
    throw err;
  }
}
