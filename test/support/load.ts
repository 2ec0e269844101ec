/**
 * Load sizes of the reliability suite: the sizes times RELIABILITY_SCALE (default 1),
 * never below `min`. CI runs the defaults; RELIABILITY_SCALE=5 makes a heavier local run.
 */
export function scaled(base: number, min = 1): number {
  const raw = process.env.RELIABILITY_SCALE?.trim();
  const factor = raw ? Number(raw) : 1;
  if (!(factor > 0)) throw new Error(`RELIABILITY_SCALE must be a positive number, got ${raw}`);
  return Math.max(min, Math.round(base * factor));
}

/** Runs `work` over `items` with at most `limit` in flight; resolves when all have settled. */
export async function runConcurrently<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < items.length) {
      const index = nextIndex++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Polls `check` until true; fails with `what` after timeoutMs. A bound, not a timing assertion. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve(check()).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
