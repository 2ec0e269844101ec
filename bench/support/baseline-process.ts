import { spawnTsNode, type Service } from './processes';

const READY_TIMEOUT_MS = 30_000;

/** Starts a baseline script and resolves with its port once it prints {"ready": port}. */
export function startBaseline(name: string, script: string, env: NodeJS.ProcessEnv): Promise<{ service: Service; port: number }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      service.child.kill('SIGKILL');
      reject(new Error(`${name} ${message}:\n${service.output()}`));
    };
    const service = spawnTsNode(name, script, [], {
      env,
      onLine: (line) => {
        if (settled || !line.startsWith('{"ready"')) return;
        settled = true;
        clearTimeout(timer);
        resolve({ service, port: (JSON.parse(line) as { ready: number }).ready });
      },
    });
    const timer = setTimeout(() => fail(`was not ready within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    void service.exited.then((code) => fail(`exited (${code}) before it was ready`));
  });
}
