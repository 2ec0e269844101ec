import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

export const REPO_ROOT = new URL('../..', import.meta.url).pathname;

/** A child process whose output is kept (the last lines) for the error message when it dies. */
export interface Service {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The last lines it printed. */
  output(): string;
  /** Resolves with the exit code (or signal name) once it has exited. */
  exited: Promise<number | string>;
  /** SIGINT (graceful, writes CPU profiles), SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<number | string>;
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Called with each stdout line (baselines report their port this way). */
  onLine?: (line: string) => void;
}

/**
 * Runs `node --import tsx <script> ...args`, so the pid is the node process that serves
 * (plain `tsx` would put a wrapper process in between and RSS would measure the wrapper).
 */
export function spawnTsNode(name: string, script: string, args: string[], options: SpawnOptions): Service {
  return adopt(
    name,
    spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', script, ...args], {
      cwd: REPO_ROOT,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    options.onLine,
  );
}

/** Runs `node <args>` (the compiled build: `--enable-source-maps dist/src/main.js <role>`). */
export function spawnNode(name: string, args: string[], options: SpawnOptions): Service {
  return adopt(
    name,
    spawn(process.execPath, [...(options.nodeFlags ?? []), ...args], { cwd: REPO_ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] }),
    options.onLine,
  );
}

export function adopt(name: string, child: ChildProcess, onLine?: (line: string) => void): Service {
  const lines: string[] = [];
  let partial = '';
  // Always drained: a full pipe would block the child's logger and distort its figures.
  const collect = (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      onLine?.(line);
      lines.push(line);
    }
    lines.splice(0, Math.max(0, lines.length - 40));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  if (child.pid === undefined) throw new Error(`${name}: could not be started`);
  let exitSeen = false;
  void exited.then(() => (exitSeen = true));
  return {
    name,
    pid: child.pid,
    child,
    output: () => [...lines, partial].filter(Boolean).join('\n'),
    exited,
    stop: async (graceMs = 15_000) => {
      if (!exitSeen) child.kill('SIGINT');
      const result = await Promise.race([exited, sleep(graceMs, undefined, { ref: false }).then(() => 'timeout' as const)]);
      if (result !== 'timeout') return result;
      child.kill('SIGKILL');
      return exited;
    },
  };
}

/** Polls `check` until it answers true; fails early, with the child's output, if the child dies. */
export async function waitUntil(what: string, check: () => Promise<boolean>, options: { timeoutMs: number; service?: Service; intervalMs?: number }): Promise<number> {
  const started = performance.now();
  let died: string | undefined;
  void options.service?.exited.then((code) => (died = String(code)));
  for (;;) {
    if (died !== undefined) {
      throw new Error(`${options.service?.name} exited (${died}) before ${what}:\n${options.service?.output()}`);
    }
    if (await check().catch(() => false)) return performance.now() - started;
    if (performance.now() - started > options.timeoutMs) {
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${options.service ? `:\n${options.service.output()}` : ''}`);
    }
    await sleep(options.intervalMs ?? 50);
  }
}

/** True when GET url answers 200. */
export async function answers200(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  await response.body?.cancel();
  return response.status === 200;
}
