import type { CliIo } from './io.js';

export interface Progress {
  update(done: number, total: number, label: string): void;
  finish(): void;
}

const WIDTH = 24;

/** A one-line bar redrawn in place on a terminal; nothing at all when stderr is a pipe or a file. */
export function progressBar(stream: CliIo['stderr']): Progress {
  if (!stream.isTTY) return { update: () => {}, finish: () => {} };
  let drawn = false;
  return {
    update(done, total, label) {
      const filled = total === 0 ? WIDTH : Math.round((done / total) * WIDTH);
      const line = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done}/${total} ${label}`;
      stream.write(`\r\x1b[2K${line.slice(0, (stream.columns ?? 80) - 1)}`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}
