import { createHash } from 'node:crypto';

const HOUR = 3_600_000;
export const CALLBACK_RETRY_WINDOW_MS = 24 * HOUR;

/** Deterministic jitter in [0, 0.2) from a seed, so every process computes the same schedule. */
function jitter(seed: string, n: number): number {
  const h = createHash('sha256').update(`${seed}:${n}`).digest();
  return (h.readUInt32BE(0) / 0x1_0000_0000) * 0.2;
}

/**
 * Delay before callback retry `attempt` (1 = first retry): about 1 s, then each delay at most
 * double the previous one, capped at 1 hour (CONTRACT §3). Jitter spreads receivers' load.
 */
export function callbackDelay(seed: string, attempt: number): number {
  let prev = 0;
  let delay = 0;
  for (let n = 1; n <= attempt; n++) {
    const envelope = Math.min(1000 * 2 ** Math.min(n - 1, 22), HOUR);
    delay = Math.round(envelope * (1 - jitter(seed, n)));
    if (prev > 0) delay = Math.min(delay, prev * 2);
    prev = delay;
  }
  return delay;
}

/** Delay before retrying a failed Slack call: 1 s doubling, with jitter, never over 5 minutes. */
export function slackDelay(attempt: number, random = Math.random): number {
  const base = Math.min(1000 * 2 ** Math.min(attempt, 20), 300_000);
  return Math.min(Math.round(base * (0.8 + 0.4 * random())), 300_000);
}
