import { benchExpiryLateness } from './expiry-lateness.js';
import { fmt } from './lib/stats.js';

type Row = (figure: string, value: string, target?: string, ok?: boolean | null) => void;

/** The `lateness` section of `npm run bench`: expiry lateness after `expires_at`, p99 < 2 s. */
export async function latenessSection(section: (name: string) => void, row: Row): Promise<void> {
  const cfg = { requests: 500, spreadMs: 3000, background: 2000 };
  section(
    `expiry lateness (${cfg.requests} requests falling due over ${cfg.spreadMs / 1000} s, ${cfg.background} more pending, intake running)`,
  );
  const f = await benchExpiryLateness(cfg);
  const l = f.lateness;
  row(
    'expiry lateness after expires_at, p99',
    `${fmt(l.p99, 0)} ms (p50 ${fmt(l.p50, 0)}, max ${fmt(l.max, 0)}; ${f.expired} of ${f.requests} expired)`,
    '< 2 s',
    l.p99 < 2000 && f.expired === f.requests,
  );
}
