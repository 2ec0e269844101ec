/**
 * Reads a balance through CreditsService.GetBalance, as an internal service would.
 *   npx tsx scripts/get-balance.ts buyer@example.com      (an email, a UUID or an integer id)
 * Uses CREDITS_GRPC_URL (default 127.0.0.1:50051) and CREDITS_API_TOKEN from the environment.
 */
import { Metadata, status } from '@grpc/grpc-js';
import { loadConfig } from '../src/config';
import { createCreditsClient } from '../src/grpc/client';
import type { GetBalanceResponse__Output } from '../src/contract/generated/credits/v1/GetBalanceResponse';

const identifier = process.argv[2];
if (!identifier) {
  console.error('usage: npx tsx scripts/get-balance.ts <email | uuid | id>');
  process.exit(2);
}

const config = loadConfig();
const client = createCreditsClient(config.grpc.url, { token: config.grpc.apiToken });
client.GetBalance({ identifier }, new Metadata(), { deadline: new Date(Date.now() + 5_000) }, (error, response?: GetBalanceResponse__Output) => {
  if (error) {
    console.error(`${status[error.code]}: ${error.details}`);
    process.exitCode = 1;
  } else {
    console.log(JSON.stringify(response));
  }
  client.close();
});
