/** Latency samples in milliseconds; percentiles by nearest rank on a sorted copy. */
export class Samples {
  private values = new Float64Array(1024);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    const sorted = this.values.slice(0, this.n).sort();
    const at = (p: number) =>
      this.n === 0 ? Number.NaN : (sorted[Math.min(this.n - 1, Math.ceil(p * this.n) - 1)] ?? 0);
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      count: this.n,
      mean: this.n === 0 ? Number.NaN : sum / this.n,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: this.n === 0 ? Number.NaN : (sorted[this.n - 1] ?? 0),
    };
  }
}

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

export const fmt = (v: number, digits = 1): string =>
  Number.isFinite(v)
    ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

export const sleep = (delay: number) => new Promise<void>((r) => setTimeout(r, delay));
