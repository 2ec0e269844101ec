/** Latencies of one phase in milliseconds, kept whole (a phase is at most some 100k samples). */
export class LatencyLog {
  private samples = new Float64Array(4096);
  private size = 0;

  add(ms: number): void {
    if (this.size === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.size++] = ms;
  }

  get count(): number {
    return this.size;
  }

  summary(): LatencySummary {
    const sorted = this.samples.slice(0, this.size).sort();
    const at = (q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
    let total = 0;
    for (const value of sorted) total += value;
    return {
      p50: round(at(0.5)),
      p95: round(at(0.95)),
      p99: round(at(0.99)),
      max: round(sorted.length ? sorted[sorted.length - 1]! : NaN),
      mean: round(sorted.length ? total / sorted.length : NaN),
    };
  }
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
