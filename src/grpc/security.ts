import { ConfigError, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { CreditsServerOptions } from './server.js';

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i;

/**
 * CreditsService's tokens, TLS and stream limit from the configuration, with the checks that only
 * make sense for the process that serves gRPC: in production it needs at least one token, and
 * plaintext on an address other machines can reach is said loudly.
 */
export function creditsServerSecurity(
  config: Config,
  logger: Logger,
): Required<Pick<CreditsServerOptions, 'tokens' | 'maxConcurrentStreams'>> & Pick<CreditsServerOptions, 'tls'> {
  const { grpc, nodeEnv } = config;
  if (nodeEnv === 'production' && grpc.tokens.length === 0) {
    throw new ConfigError('CREDITS_API_TOKENS or CREDITS_API_TOKENS_FILE (or CREDITS_API_TOKEN): CreditsService needs at least one token when NODE_ENV=production');
  }
  if (nodeEnv === 'production' && !grpc.tls && !LOOPBACK.test(grpc.host)) {
    logger.warn(
      { host: grpc.host, port: grpc.port },
      'PLAINTEXT gRPC on a non-loopback address in production: tokens and balances cross the network unencrypted; set GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE (and GRPC_TLS_CLIENT_CA_FILE for mutual TLS)',
    );
  }
  return { tokens: grpc.tokens, tls: grpc.tls, maxConcurrentStreams: grpc.maxConcurrentStreams };
}
