import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Config } from '../config.js';
import type { Logger } from '../logger.js';

export const DEVELOPMENT_SECRET_FILE = 'webhook-secret';

export function developmentSecretPath(dataDir: string): string {
  return join(dataDir, DEVELOPMENT_SECRET_FILE);
}

function readOrCreateDevelopmentSecret(dataDir: string): string {
  const path = developmentSecretPath(dataDir);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = `whsec_dev_${randomBytes(24).toString('hex')}`;
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  }
}

/**
 * The secrets the edge verifies signatures with. In development, with none configured, a random
 * secret is made once and kept under DATA_DIR, so `npm start` works on a fresh clone without a
 * secret anyone else knows; production must configure STRIPE_WEBHOOK_SECRET.
 */
export function resolveWebhookSecrets(config: Config, logger: Logger): readonly string[] {
  const configured = config.stripe.webhookSecrets;
  if (configured.length > 0 || config.e2eTestMode) return configured;
  if (config.nodeEnv === 'production') {
    throw new ConfigError('STRIPE_WEBHOOK_SECRET: required (whsec_…, comma-separated for rotation) when NODE_ENV=production');
  }
  const path = developmentSecretPath(config.database.dataDir);
  const secret = readOrCreateDevelopmentSecret(config.database.dataDir);
  logger.warn({ file: path }, `STRIPE_WEBHOOK_SECRET unset: verifying with the development secret in ${path} (never in production)`);
  return [secret];
}
