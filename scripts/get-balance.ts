/**
 * Reads a balance through CreditsService.GetBalance, as an internal service would.
 *   npx tsx scripts/get-balance.ts buyer@example.com      (an email, a UUID or an integer id)
 * Uses CREDITS_GRPC_URL (default 127.0.0.1:50051), CREDITS_GRPC_TOKEN (or CREDITS_API_TOKEN; it needs
 * the credits:read scope) and, for TLS, CREDITS_GRPC_CA_FILE (+ CREDITS_GRPC_CERT_FILE/KEY_FILE for
 * mutual TLS) from the environment.
 */
import { Metadata, status } from '@grpc/grpc-js';
import { loadConfig } from '../src/config';
import { createCreditsClient, creditsClientSecurity } from '../src/grpc/client';

import { createLogger } from '../src/logger';
import type { GetBalanceResponse__Output } from '../src/contract/generated/credits/v1/GetBalanceResponse';

const identifier = process.argv[2];
if (!identifier) {
  console.error('usage: npx tsx scripts/get-balance.ts <email | uuid | id>');
  process.exit(2);
}

const config = loadConfig();
const security = creditsClientSecurity(config, createLogger({ level: 'warn', destination: process.stderr }));
const client = createCreditsClient(config.grpc.url, security);
client.GetBalance({ identifier }, new Metadata(), { deadline: new Date(Date.now() + 5_000) }, (error, response?: GetBalanceResponse__Output) => {
  if (error) {
    console.error(`${status[error.code]}: ${error.details}`);
    process.exitCode = 1;
  } else {
    console.log(JSON.stringify(response));
  }
  client.close();
  security.tls?.close();
});
