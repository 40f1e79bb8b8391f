/**
 * What one HTTP server lets a client hold, before anyone is authenticated. Every API call and every
 * Slack request is verified only once its body has arrived, so these bounds are what stands between
 * an anonymous client and the server's memory, sockets and time.
 */
export interface HttpLimits {
  /** Whole request (headers and body) must arrive within this; then `408` and the connection closes. */
  requestTimeoutMs: number;
  /** Request headers must arrive within this (at most `requestTimeoutMs`). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this; longer than common proxies' 60 s idle timeout. */
  keepAliveTimeoutMs: number;
  /** How often the timeouts above are checked (Node checks them on a timer). */
  timeoutCheckMs: number;
  /** Open connections at most; connection N+1 is closed at once (counts long polls and idle keep-alive). */
  maxConnections: number;
  /** Bytes of request bodies held at once across all requests not yet verified; above it, `503`. */
  bodyBudgetBytes: number;
  /** After a response with `Connection: close`, how long unread input is drained before the close. */
  lingerMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 65_000,
  timeoutCheckMs: 1_000,
  maxConnections: 1024,
  bodyBudgetBytes: 64 * 1024 * 1024,
  lingerMs: 2_000,
};

/** The defaults with `over` applied; the headers timeout never exceeds the request timeout. */
export function httpLimits(over: Partial<HttpLimits> = {}): HttpLimits {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...over };
  limits.headersTimeoutMs = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return limits;
}

/** Body limits per route (bytes). */
export const API_BODY_LIMIT = 1024 * 1024;
/** `{"reason": "..."}` of at most 500 characters, with room to spare. */
export const SMALL_BODY_LIMIT = 64 * 1024;

/**
 * Bytes of unverified request bodies held at once, across the whole server. A request reserves what
 * it may buffer (its declared length, or the route's limit when the length is not declared) before
 * reading a byte, and gives it back when its handler is done with the body.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly capacity: number) {}

  /** Reserves `bytes`; false when that would pass the capacity. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.capacity) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  get inUse(): number {
    return this.used;
  }
}
