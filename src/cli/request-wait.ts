import { createInterface } from 'node:readline';
import type { Countersign, DecidedRequest, RequestObject } from '../client/index.js';
import { CountersignError } from '../client/index.js';
import type { RequestFlags } from './request-args.js';
import type { RequestIo } from './request-command.js';
import {
  deliveryErrorLines,
  EXIT,
  formatLeft,
  outcome,
  pendingLog,
  statusLine,
  voteLog,
  what,
} from './request-display.js';

type Signal = 'SIGINT' | 'SIGTERM';

/** Asks a yes/no question on the terminal; resolves false on anything but y/yes, EOF or `bail`. */
function confirm(io: RequestIo, question: string, bail: AbortSignal): Promise<boolean> {
  return new Promise((done) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
    let settled = false;
    const finish = (yes: boolean) => {
      if (settled) return;
      settled = true;
      bail.removeEventListener('abort', onEscape);
      rl.close();
      done(yes);
    };
    const onEscape = () => finish(false);
    bail.addEventListener('abort', onEscape, { once: true });
    rl.once('close', () => finish(false));
    io.stderr.write(question);
    rl.once('line', (line) => finish(/^\s*y(es)?\s*$/i.test(line)));
  });
}

/**
 * Waits for the decision of `first` and returns the exit code: a live status line on a terminal,
 * log lines otherwise; Ctrl-C offers to cancel (or cancels with --cancel-on-interrupt).
 */
export async function waitForOutcome(
  client: Countersign,
  first: RequestObject,
  flags: RequestFlags,
  io: RequestIo,
): Promise<number> {
  const tty = io.stderr.isTTY === true;
  const interactive = tty && io.stdin.isTTY === true;
  let latest = first;
  let votesShown = first.votes.length;
  const draw = () => {
    if (tty) io.stderr.write(`\r\x1b[2K${statusLine(latest, Date.now(), io.stderr.columns)}`);
  };
  const clear = () => {
    if (tty) io.stderr.write('\r\x1b[2K');
  };
  const log = (line: string) => {
    clear();
    io.stderr.write(`${line}\n`);
  };
  const finish = (r: DecidedRequest) => {
    const { code, lines } = outcome(r);
    for (const line of lines) log(line);
    if (flags.json) io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return code;
  };

  const waiting = new AbortController();
  const bail = new AbortController();
  let interrupted: Signal | null = null;
  // A Slack error that retrying cannot fix (CONTRACT §8): say what to do, exit 4.
  let undeliverable: RequestObject | null = first.delivery_error ? first : null;
  const giveUp = () => {
    const r = undeliverable as RequestObject;
    for (const line of deliveryErrorLines(r)) log(line);
    if (flags.json) io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return EXIT.error;
  };
  if (undeliverable) return giveUp();
  const stopSignals = io.onSignal((signal) => {
    if (interrupted) return bail.abort();
    interrupted = signal;
    waiting.abort();
  });
  let ticker: NodeJS.Timeout | null = null;
  if (tty) ticker = setInterval(draw, 1000);
  else {
    const left = formatLeft(Date.parse(first.expires_at) - Date.now());
    log(`Waiting for a decision on ${what(first)} (${first.min_approvals} approval(s) needed, ${left} left)`);
  }
  draw();
  try {
    const decided = await client.waitForDecision(first.id, {
      signal: waiting.signal,
      // Until the card is in Slack, look more often: a delivery error should not wait a minute.
      pollSeconds: first.slack_url ? 60 : 10,
      onUpdate: (r) => {
        latest = r;
        if (r.delivery_error && r.status === 'pending') {
          undeliverable = r;
          waiting.abort();
          return;
        }
        for (; votesShown < r.votes.length; votesShown++) log(voteLog(r, votesShown));
        if (r.status === 'pending') {
          if (tty) draw();
          else log(pendingLog(r, Date.now()));
        }
      },
    });
    if (ticker) clearInterval(ticker);
    if (decided.status === 'approved' && flags.consume) return await consumeThenFinish(decided);
    return finish(decided);
  } catch (e) {
    if (ticker) clearInterval(ticker);
    clear();
    if (undeliverable && !interrupted) return giveUp();
    if (!interrupted) throw e;
    return await onInterrupt(interrupted);
  } finally {
    if (ticker) clearInterval(ticker);
    stopSignals();
  }

  /** --consume: the approval is used once; a second consume (a re-run) is refused, and so is acting on it. */
  async function consumeThenFinish(approved: DecidedRequest): Promise<number> {
    try {
      const consumed = (await client.consume(approved.id)) as DecidedRequest;
      finish(consumed);
      log(`Consumed: this approval is now used (${consumed.consumed_at ?? 'now'}); run the action once.`);
      return EXIT.approved;
    } catch (e) {
      for (const line of outcome(approved).lines) log(line);
      log(`Not consumed: ${(e as Error).message}`);
      if (flags.json)
        io.stdout.write(
          `${JSON.stringify(e instanceof CountersignError && e.request ? e.request : approved, null, 2)}\n`,
        );
      return EXIT.error;
    }
  }

  async function onInterrupt(signal: Signal): Promise<number> {
    const id = first.id;
    const leave = () => {
      log(
        `Left pending: ${id} can still be decided in Slack${latest.slack_url ? ` (${latest.slack_url})` : ''}.`,
      );
      return signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
    };
    let cancel = flags['cancel-on-interrupt'] === true;
    if (!cancel && interactive && signal === 'SIGINT') {
      log(`Interrupted while waiting for ${id}.`);
      cancel = await confirm(io, 'Cancel the request? [y/N] ', bail.signal);
    }
    if (!cancel || bail.signal.aborted) return leave();
    log(`Cancelling ${id}...`);
    try {
      const r = await client.cancel(id, 'interrupted while waiting (countersign request)', {
        signal: bail.signal,
      });
      return finish(r as DecidedRequest);
    } catch (e) {
      if (e instanceof CountersignError && e.request && e.request.status !== 'pending') {
        log(`Too late to cancel: it is already ${e.request.status}.`);
        return finish(e.request as DecidedRequest);
      }
      log(`Could not cancel: ${(e as Error).message}`);
      return leave();
    }
  }
}
