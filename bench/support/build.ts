import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from './processes';

const run = promisify(execFile);

/** `npm run build`: the product's compiled dist/, what production runs (and what the bench measures by default). */
export async function buildProduct(): Promise<number> {
  const started = performance.now();
  await run('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT, env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 16 * 1024 * 1024 });
  return Math.round(performance.now() - started);
}
