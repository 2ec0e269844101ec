import { readdirSync, readFileSync } from 'node:fs';
import { round } from './latency';

const TICKS_PER_S = 100; // USER_HZ on Linux

/** utime + stime of a process in clock ticks, undefined once it is gone. */
function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Direct children of a process (PostgreSQL's backends are children of the postmaster). */
export function childrenOf(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

export interface CpuFigures {
  /** CPU seconds each group of processes used during the phase. */
  seconds: Record<string, number>;
  /** Share of all cores busy during the phase, whoever used them (other work on the machine included). */
  machineBusyPct: number;
}

/** Which processes make up a group, asked at each snapshot (a pool may open backends meanwhile). */
export type CpuGroups = Record<string, () => number[]>;

/**
 * CPU time per group of processes between start() and stop(). Processes are sampled every
 * intervalMs and remembered after they exit, so a PostgreSQL backend that ends mid-phase (a
 * pool closing idle connections, pgbench's clients) keeps what it used up to its last sample.
 */
export class CpuMeter {
  private readonly seen = new Map<string, Map<number, number>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly groups: CpuGroups,
    private readonly intervalMs = 200,
  ) {}

  start(): () => CpuFigures {
    this.sample();
    this.timer ??= setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    const before = this.copy();
    const machineBefore = machineTicks();
    return () => {
      this.sample();
      const machineAfter = machineTicks();
      const seconds: Record<string, number> = {};
      for (const [group, pids] of this.seen) {
        let ticks = 0;
        for (const [pid, value] of pids) ticks += value - (before.get(group)?.get(pid) ?? 0);
        seconds[group] = round(ticks / TICKS_PER_S);
      }
      const busy = machineAfter.busy - machineBefore.busy;
      const total = machineAfter.total - machineBefore.total;
      return { seconds, machineBusyPct: round((busy / Math.max(total, 1)) * 100, 1) };
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sample(): void {
    for (const [group, pidsOf] of Object.entries(this.groups)) {
      const pids = this.seen.get(group) ?? new Map<number, number>();
      this.seen.set(group, pids);
      for (const pid of pidsOf()) {
        const value = processTicks(pid);
        if (value !== undefined) pids.set(pid, value);
      }
    }
  }

  private copy(): Map<string, Map<number, number>> {
    return new Map([...this.seen].map(([group, pids]) => [group, new Map(pids)]));
  }
}

export interface PhaseCpu {
  machineBusyPct: number;
  /** CPU milliseconds per request of each group: the figure other load on the machine disturbs least. */
  msPerRequest: Record<string, number>;
}

export function phaseCpu(figures: CpuFigures, requests: number, groups: readonly string[]): PhaseCpu {
  return {
    machineBusyPct: figures.machineBusyPct,
    msPerRequest: Object.fromEntries(groups.map((group) => [group, round(((figures.seconds[group] ?? 0) * 1000) / Math.max(requests, 1), 3)])),
  };
}
