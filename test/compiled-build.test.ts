import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCreditsClient } from '../src/grpc/client';
import { call } from './support/credits-harness';
import { createTestDatabase, type TestDatabase } from './support/database';
import { deliver } from './support/edge-harness';
import { startCreditsProcess, startEdgeProcess, type CreditsProcess, type EdgeProcess } from './support/service-process';
import { checkoutSession, stripeEvent, stripeId } from './support/stripe-events';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = `${ROOT}dist/src/main.js`;
// What the production image runs (Dockerfile): compiled JavaScript, NODE_ENV=production.
const TOKEN = 'compiled-build-token-0123456789abcdef0123';
const SECRET = 'whsec_test_compiled_build_7c1e9a';
const PRODUCTION = { NODE_ENV: 'production', STRIPE_LIVEMODE: 'false', STRIPE_WEBHOOK_SECRET: SECRET };

// CI builds before it tests, so there the build must be present; elsewhere, `npm run build` first.
const built = existsSync(MAIN) && statSync(MAIN).mtimeMs >= statSync(`${ROOT}src/main.ts`).mtimeMs;
if (process.env.CI && !built) throw new Error('dist/ is missing or older than src/: CI must run `npm run build` before the tests');

const run = promisify(execFile);

describe.skipIf(!built)('the compiled build (dist/), as the production image runs it', () => {
  let database: TestDatabase;
  let credits: CreditsProcess;
  let edge: EdgeProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    await run(process.execPath, ['--enable-source-maps', 'dist/src/cli/migrate.js'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...PRODUCTION, CREDITS_API_TOKEN: TOKEN, LOG_LEVEL: 'warn', DATABASE_URL: database.url },
    });
    credits = await startCreditsProcess('compiled-credits', { databaseUrl: database.url, token: TOKEN, build: 'compiled', env: PRODUCTION });
    edge = await startEdgeProcess('compiled-edge', { creditsUrl: credits.url, token: TOKEN, webhookSecret: SECRET, build: 'compiled', env: PRODUCTION });
  });

  afterAll(async () => {
    await edge?.stop();
    await credits?.stop();
    await database?.drop();
  });

  it('when a signed purchase arrives, then the compiled edge and CreditsService credit it and GetBalance reads it', async () => {
    const email = `compiled-${stripeId('u')}@example.com`;
    const event = stripeEvent('checkout.session.completed', checkoutSession({ email, metadata: { credits: '70' } }));
    expect(await deliver(edge.url, event, { secret: SECRET })).toMatchObject({ status: 200, body: { outcome: 'applied', creditsGranted: 70 } });
    const client = createCreditsClient(credits.url, { token: TOKEN });
    const metadata = new Metadata();
    const balance = await call(client, client.GetBalance, { identifier: email }, metadata);
    client.close();
    expect(balance).toMatchObject({ ok: true, response: { balance: '70' } });
  });

  it('when stopped with SIGTERM, then both processes exit 0', async () => {
    await edge.stop();
    await credits.stop();
    expect([await edge.exited, await credits.exited]).toEqual([0, 0]);
  });

  it('when NODE_ENV=production and DATABASE_URL is unset, then CreditsService stops with exit 78 naming DATABASE_URL', async () => {
    const failure = await run(process.execPath, [MAIN, 'credits'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...PRODUCTION, CREDITS_API_TOKEN: TOKEN, GRPC_PORT: '0', METRICS_PORT: '0' },
    }).then(
      () => ({ code: 0, stderr: '', stdout: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure.code).toBe(78);
    expect(`${failure.stdout}${failure.stderr}`).toContain('DATABASE_URL: required when NODE_ENV=production');
  });

  it('when NODE_ENV=production and STRIPE_WEBHOOK_SECRET is unset, then CreditsService refuses to start: it could not check forwarded signatures', async () => {
    const failure = await run(process.execPath, [MAIN, 'credits'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', STRIPE_LIVEMODE: 'false', CREDITS_API_TOKEN: TOKEN, DATABASE_URL: database.url, GRPC_PORT: '0', METRICS_PORT: '0' },
    }).then(
      () => ({ code: 0, stderr: '', stdout: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure.code).toBe(78);
    expect(`${failure.stdout}${failure.stderr}`).toContain('STRIPE_WEBHOOK_SECRET: required for CreditsService');
  });
});
