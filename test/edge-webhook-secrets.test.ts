import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { developmentSecretPath, resolveWebhookSecrets } from '../src/edge/webhook-secrets';
import { captureLogs } from './support/log-capture';

const dataDir = mkdtempSync(join(tmpdir(), 'credits-secret-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('resolveWebhookSecrets', () => {
  it('when secrets are configured, then exactly those are used', () => {
    const config = loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_one,whsec_two', DATA_DIR: dataDir });
    expect(resolveWebhookSecrets(config, captureLogs().logger)).toEqual(['whsec_one', 'whsec_two']);
  });

  it('when none is configured in development, then one random secret is made, kept private, reused, and never logged', () => {
    const logs = captureLogs();
    const config = loadConfig({ DATA_DIR: dataDir });
    const [first] = resolveWebhookSecrets(config, logs.logger);
    const [second] = resolveWebhookSecrets(config, logs.logger);
    expect(first).toMatch(/^whsec_dev_[0-9a-f]{48}$/);
    expect(second).toBe(first);
    expect(readFileSync(developmentSecretPath(dataDir), 'utf8').trim()).toBe(first);
    expect(statSync(developmentSecretPath(dataDir)).mode & 0o077).toBe(0);
    expect(logs.text()).toContain('STRIPE_WEBHOOK_SECRET unset');
    expect(logs.text()).not.toContain(first);
  });

  it('when none is configured in production, then the edge refuses to start', () => {
    const config = loadConfig({ NODE_ENV: 'production', CREDITS_API_TOKEN: 'production-token-0123456789abcdef', STRIPE_LIVEMODE: 'false', DATA_DIR: dataDir });
    expect(() => resolveWebhookSecrets(config, captureLogs().logger)).toThrow(ConfigError);
  });

  it('when E2E test mode is on, then no secret is needed', () => {
    expect(resolveWebhookSecrets(loadConfig({ E2E_TEST_MODE: 'true', DATA_DIR: dataDir }), captureLogs().logger)).toEqual([]);
  });
});
