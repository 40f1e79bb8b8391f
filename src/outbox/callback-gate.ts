/**
 * Who may start a callback attempt now. Callbacks have slots of their own (Slack rows never wait
 * for them), at most `perClient` in flight for one client and `perHost` for one receiver (host and
 * port, as in the URL), and a receiver that cannot be reached is backed off as a whole: one failure
 * schedule per host, not per row, and after the pause a single attempt probes it before the rest
 * follow. So 40 callbacks to a receiver that never answers hold a handful of slots, retry a few
 * times an hour, and leave every other client's callbacks and every card alone.
 */

export interface CallbackLimits {
  /** Callback attempts in flight at most, all clients together. */
  total: number;
  perClient: number;
  perHost: number;
}

export const DEFAULT_CALLBACK_LIMITS: CallbackLimits = { total: 32, perClient: 8, perHost: 4 };

/** Pause after the n-th failure in a row of a host: 1 s doubling to 5 minutes. */
export function hostDelay(failures: number): number {
  return Math.min(1000 * 2 ** Math.min(Math.max(failures, 1) - 1, 20), 300_000);
}

/** `host[:port]` of a callback URL, as the URL spells it ('' when it does not parse). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

const PREFIX = 'callback:';

/**
 * The outbox lane of a client's callbacks to one receiver: `callback:<client>/<host>`. One lane per
 * pair keeps a receiver's backlog from hiding the rows behind it (rows are fetched per lane).
 * Client names hold no `/` (config), hosts no `/` (URL).
 */
export function callbackLane(client: string, url: string): string {
  return `${PREFIX}${client}/${hostOf(url)}`;
}

/** Callback rows: `callback:<client>/<host>`, or `callback` (rows queued by earlier versions). */
export function isCallbackLane(lane: string): boolean {
  return lane === 'callback' || lane.startsWith(PREFIX);
}

function clientOf(lane: string): string {
  const slash = lane.indexOf('/');
  return lane.startsWith(PREFIX) && slash > 0 ? lane.slice(PREFIX.length, slash) : '';
}

function laneHost(lane: string): string | null {
  const slash = lane.indexOf('/');
  return lane.startsWith(PREFIX) && slash > 0 ? lane.slice(slash + 1) : null;
}

export interface CallbackSlot {
  client: string;
  host: string;
}

/** How an attempt went, for the host's health: it answered (any status), or could not be reached. */
export type HostOutcome = 'reached' | 'unreachable' | 'not_tried';

interface HostState {
  failures: number;
  until: number;
}

export class CallbackGate {
  private inFlight = 0;
  private readonly byClient = new Map<string, number>();
  private readonly byHost = new Map<string, number>();
  private readonly hosts = new Map<string, HostState>();
  /** Lanes refused a slot lately: listed as blocked (not even read) while they still would be. */
  private readonly refusedLanes = new Set<string>();
  readonly limits: CallbackLimits;

  constructor(
    limits: Partial<CallbackLimits>,
    private readonly now: () => number,
  ) {
    this.limits = { ...DEFAULT_CALLBACK_LIMITS, ...limits };
  }

  get full(): boolean {
    return this.inFlight >= this.limits.total;
  }

  get size(): number {
    return this.inFlight;
  }

  /** Whether one more attempt for this client and host would be refused right now. */
  private refuses(client: string, host: string): boolean {
    if (this.full) return true;
    if ((this.byClient.get(client) ?? 0) >= this.limits.perClient) return true;
    const busy = this.byHost.get(host) ?? 0;
    if (busy >= this.limits.perHost) return true;
    const state = this.hosts.get(host);
    if (!state) return false;
    // Backing off; once the pause is over, one probe at a time until the host answers again.
    return state.until > this.now() || busy > 0;
  }

  /** Takes a slot for one attempt to `url` in `lane`, or null when a cap or the host's pause says wait. */
  acquire(lane: string, url: string): CallbackSlot | null {
    const slot = { client: clientOf(lane), host: laneHost(lane) ?? hostOf(url) };
    if (this.refuses(slot.client, slot.host)) {
      if (lane !== 'callback') this.refusedLanes.add(lane);
      return null;
    }
    this.inFlight++;
    this.byClient.set(slot.client, (this.byClient.get(slot.client) ?? 0) + 1);
    this.byHost.set(slot.host, (this.byHost.get(slot.host) ?? 0) + 1);
    return slot;
  }

  /**
   * Records how the attempt went. Returns the pause in ms when this failure backs the host off; null
   * otherwise (attempts that were already in flight and fail during the pause add nothing).
   */
  settle(slot: CallbackSlot, outcome: HostOutcome): number | null {
    if (outcome === 'reached') {
      this.hosts.delete(slot.host);
      return null;
    }
    if (outcome === 'not_tried') return null;
    const now = this.now();
    const state = this.hosts.get(slot.host) ?? { failures: 0, until: 0 };
    if (state.until > now) return null;
    state.failures++;
    state.until = now + hostDelay(state.failures);
    this.hosts.set(slot.host, state);
    return state.until - now;
  }

  release(slot: CallbackSlot): void {
    this.inFlight--;
    const c = (this.byClient.get(slot.client) ?? 1) - 1;
    if (c > 0) this.byClient.set(slot.client, c);
    else this.byClient.delete(slot.client);
    const h = (this.byHost.get(slot.host) ?? 1) - 1;
    if (h > 0) this.byHost.set(slot.host, h);
    else this.byHost.delete(slot.host);
  }

  /** Lanes that would be refused now (skipped when the worker reads due rows); forgets the others. */
  blockedLanes(): string[] {
    const out: string[] = [];
    for (const lane of this.refusedLanes) {
      const host = laneHost(lane);
      if (host !== null && this.refuses(clientOf(lane), host)) out.push(lane);
      else this.refusedLanes.delete(lane);
    }
    return out;
  }

  /** Whether the host is backed off now (tests, logs). */
  backingOff(host: string): boolean {
    return (this.hosts.get(host)?.until ?? 0) > this.now();
  }
}
