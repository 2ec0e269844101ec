import type { Metadata, ServiceError } from '@grpc/grpc-js';
import pg from 'pg';
import type { StripeEventResult } from '../../src/credits/checkout';
import type { CreditsStore } from '../../src/credits/ports';
import { createCreditsStore } from '../../src/db/credits-store';
import { migrateUp } from '../../src/db/migrations';
import { databaseAnswers, initORM, type MikroORM } from '../../src/db/orm';
import type { ApiTokenConfig } from '../../src/config';
import { createCreditsClient, type CreditsClientTls, type CreditsServiceClient } from '../../src/grpc/client';
import { startCreditsServer, type CreditsServer } from '../../src/grpc/server';
import type { ServerTlsOptions } from '../../src/grpc/tls';
import { ERROR_CODE_METADATA_KEY } from '../../src/grpc/status';
import { stripeChargeLookup } from '../../src/stripe-api/charge-lookup';
import { createStripeApi } from '../../src/stripe-api/client';
import { createTestDatabase, type TestDatabase } from './database';
import { FAKE_STRIPE_KEY } from './fake-stripe';
import { captureLogs } from './log-capture';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

export interface HarnessOptions {
  /** An all-scope token (CREDITS_API_TOKEN); TEST_TOKEN unless `tokens` are given. */
  token?: string;
  /** Scoped tokens (CREDITS_API_TOKENS). */
  tokens?: Pick<ApiTokenConfig, 'name' | 'token' | 'scopes'>[];
  /** TLS (and mutual TLS) for the server, and what the harness's own client presents. */
  tls?: ServerTlsOptions;
  clientTls?: CreditsClientTls;
  priceCredits?: Record<string, number>;
  maxPerPurchase?: number;
  maxBalance?: number;
  livemode?: boolean;
  /** STRIPE_WEBHOOK_SECRET of the service: forwarded Stripe signatures are then checked. */
  webhookSecrets?: string[];
  /** A fake Stripe (test/support/fake-stripe.ts) to look disputed charges up in, as with STRIPE_SECRET_KEY set. */
  stripeApiBase?: string;
  /** Told every ApplyCheckout and ApplyStripeEvent result, as the metrics are. */
  onEventResult?: (result: StripeEventResult, eventType: string) => void;
}

export interface CreditsHarness {
  database: TestDatabase;
  orm: MikroORM;
  /** The domain's store on the harness database, as the service uses it. */
  store: CreditsStore;
  server: CreditsServer;
  client: CreditsServiceClient;
  address: string;
  /** A plain pg pool on the same database, to read rows the way an auditor would. */
  sql: pg.Pool;
  logs: ReturnType<typeof captureLogs>;
  close(): Promise<void>;
}

/** A migrated database of its own, a real CreditsService on port 0 and a real client. */
export async function startCreditsHarness(options: HarnessOptions = {}): Promise<CreditsHarness> {
  const token = options.tokens && options.token === undefined ? undefined : (options.token ?? TEST_TOKEN);
  const database = await createTestDatabase();
  const logs = captureLogs();
  const orm = await initORM({ url: database.url, poolMax: 10, echo: false, logger: logs.logger });
  await migrateUp(orm);
  const store = createCreditsStore(orm);
  const server = await startCreditsServer({
    store,
    ...(options.webhookSecrets ? { signatureCheck: { secrets: options.webhookSecrets, toleranceSeconds: 300, acceptUnsigned: false } } : {}),
    databaseAnswers: () => databaseAnswers(orm),
    logger: logs.logger,
    rules: {
      priceCredits: options.priceCredits ?? { price_pack_100: 100 },
      maxPerPurchase: options.maxPerPurchase ?? 1_000_000,
      maxBalance: options.maxBalance ?? Number.MAX_SAFE_INTEGER,
      livemode: options.livemode ?? false,
    },
    charges: options.stripeApiBase
      ? stripeChargeLookup(createStripeApi({ secretKey: FAKE_STRIPE_KEY, apiBase: options.stripeApiBase, timeoutMs: 2_000, maxRetries: 0 }))
      : undefined,
    onEventResult: options.onEventResult,
    apiToken: token,
    tokens: options.tokens,
    tls: options.tls,
    host: '127.0.0.1',
    port: 0,
    healthIntervalMs: 200,
  });
  const address = `127.0.0.1:${server.port}`;
  const client = createCreditsClient(address, { token, tls: options.clientTls });
  const sql = new pg.Pool({ connectionString: database.url, max: 2 });
  sql.on('error', () => {}); // idle connections cut by outage tests; the next query reconnects
  return {
    database,
    orm,
    store,
    server,
    client,
    address,
    sql,
    logs,
    close: async () => {
      client.close();
      await server.close(1_000);
      await sql.end();
      await orm.close();
      await database.drop();
    },
  };
}

export type CallResult<Res> = { ok: true; response: Res } | { ok: false; error: ServiceError; errorCode: string | undefined };

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response?: Res) => void,
) => unknown;

/** Calls a unary method and returns its result or its error, with the stable error code. */
export function call<Req, Res>(
  client: CreditsServiceClient,
  method: UnaryMethod<Req, Res>,
  request: Req,
  metadata: Metadata,
): Promise<CallResult<Res>> {
  return new Promise((resolve) => {
    method.call(client, request, metadata, { deadline: new Date(Date.now() + 10_000) }, (error, response) => {
      if (error) {
        const code = error.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
        resolve({ ok: false, error, errorCode: typeof code === 'string' ? code : undefined });
      } else resolve({ ok: true, response: response as Res });
    });
  });
}

export interface LedgerCheck {
  users: number;
  mismatched: number;
  negative: number;
}

/** The invariant: every balance equals the sum of its ledger rows and is never negative. */
export async function checkLedger(sql: pg.Pool): Promise<LedgerCheck> {
  const { rows } = await sql.query<{ users: string; mismatched: string; negative: string }>(`
    SELECT count(*) AS users,
           count(*) FILTER (WHERE u.credits_balance <> coalesce(l.total, 0)) AS mismatched,
           count(*) FILTER (WHERE u.credits_balance < 0) AS negative
    FROM users u LEFT JOIN (SELECT user_id, sum(amount) AS total FROM credit_transactions GROUP BY user_id) l ON l.user_id = u.id`);
  const row = rows[0]!;
  return { users: Number(row.users), mismatched: Number(row.mismatched), negative: Number(row.negative) };
}
