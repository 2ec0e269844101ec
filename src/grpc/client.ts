import * as grpc from '@grpc/grpc-js';
import type { CreditsServiceClient } from '../contract/generated/credits/v1/CreditsService.js';
import type { HealthClient } from '../contract/generated/grpc/health/v1/Health.js';
import { protos } from './proto.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createClientTls, type ClientTls } from './tls.js';

export type { CreditsServiceClient, HealthClient };

/** Adds `authorization: Bearer <token>` to every call, over TLS or not (insecure channels refuse call credentials). */
function bearerInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

/** PEM buffers, read once; or credentials that re-read their files on SIGHUP (`createClientTls`). */
export type CreditsClientTls =
  | {
      /** The CA that signed the server's certificate; the system's roots when absent. */
      ca?: Buffer;
      /** This client's certificate chain and key, for mutual TLS. */
      cert?: Buffer;
      key?: Buffer;
      /** The name to expect in the server's certificate when it is not the host dialled. */
      serverName?: string;
    }
  | ClientTls;

export interface CreditsClientOptions {
  token?: string;
  /** TLS to CreditsService; plaintext without it. */
  tls?: CreditsClientTls;
  channelOptions?: grpc.ChannelOptions;
}

function channelSecurity(tls: CreditsClientTls | undefined): { credentials: grpc.ChannelCredentials; channelOptions: grpc.ChannelOptions } {
  if (!tls) return { credentials: grpc.credentials.createInsecure(), channelOptions: {} };
  if ('credentials' in tls) return { credentials: tls.credentials, channelOptions: tls.channelOptions };
  return {
    credentials: grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null),
    channelOptions: tls.serverName ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {},
  };
}

/** One long-lived client per process: it holds the HTTP/2 connection and reconnects by itself. */
export function createCreditsClient(url: string, options: CreditsClientOptions = {}): CreditsServiceClient {
  const { credentials, channelOptions } = channelSecurity(options.tls);
  return new protos.credits.v1.CreditsService(url, credentials, {
    ...channelOptions,
    ...options.channelOptions,
    interceptors: options.token ? [bearerInterceptor(options.token)] : [],
  });
}

/**
 * grpc.health.v1 needs no token; over TLS it needs the same channel security as CreditsService,
 * or the very channel of a CreditsService client (`channelOverride`), credentials included.
 */
export function createHealthClient(url: string, options: { tls?: CreditsClientTls; channelOverride?: grpc.ClientOptions['channelOverride'] } = {}): HealthClient {
  const { credentials, channelOptions } = channelSecurity(options.tls);
  return new protos.grpc.health.v1.Health(url, credentials, { ...channelOptions, ...(options.channelOverride ? { channelOverride: options.channelOverride } : {}) });
}

/** How this process calls CreditsService: its token and, when configured, TLS that re-reads its files on SIGHUP. */
export function creditsClientSecurity(config: Config, logger: Logger): { token: string | undefined; tls?: ClientTls } {
  const { client } = config.grpc;
  return {
    token: client.token,
    ...(client.tls ? { tls: createClientTls(client.tls, logger, { refreshIntervalMs: client.tls.reloadIntervalMs }) } : {}),
  };
}
