import { readFileSync } from 'node:fs';

export interface MemoryFigures {
  /** Peak resident set since the process started (VmHWM), in MB. */
  peakMb: number;
  /** Highest VmRSS seen by the sampler while load ran, in MB. */
  maxSampledMb: number;
  samples: number;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

/** Samples VmRSS of some processes every intervalMs; `read()` adds the kernel's own peak (VmHWM). */
export class MemorySampler {
  private readonly max = new Map<string, { pid: number; kb: number; samples: number; hwmKb: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 200) {}

  watch(name: string, pid: number): void {
    this.max.set(name, { pid, kb: 0, samples: 0, hwmKb: 0 });
  }

  start(): void {
    this.timer ??= setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Reads once more; call before a watched process exits (its VmHWM goes with it). */
  sample(): void {
    for (const entry of this.max.values()) {
      const rss = statusKb(entry.pid, 'VmRSS');
      if (rss === undefined) continue;
      entry.kb = Math.max(entry.kb, rss);
      entry.samples++;
      entry.hwmKb = Math.max(entry.hwmKb, statusKb(entry.pid, 'VmHWM') ?? 0);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  read(): Record<string, MemoryFigures> {
    return Object.fromEntries(
      [...this.max].map(([name, entry]) => [name, { peakMb: mb(entry.hwmKb), maxSampledMb: mb(entry.kb), samples: entry.samples }]),
    );
  }
}
