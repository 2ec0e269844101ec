import * as grpc from '@grpc/grpc-js';
import type { CreditsServiceClient } from '../contract/generated/credits/v1/CreditsService.js';
import type { HealthClient } from '../contract/generated/grpc/health/v1/Health.js';
import { protos } from './proto.js';

export type { CreditsServiceClient, HealthClient };

/** Adds `authorization: Bearer <token>` to every call (insecure channels refuse call credentials). */
function bearerInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

export interface CreditsClientOptions {
  token?: string;
  channelOptions?: grpc.ChannelOptions;
}

/** One long-lived client per process: it holds the HTTP/2 connection and reconnects by itself. */
export function createCreditsClient(url: string, options: CreditsClientOptions = {}): CreditsServiceClient {
  return new protos.credits.v1.CreditsService(url, grpc.credentials.createInsecure(), {
    ...options.channelOptions,
    interceptors: options.token ? [bearerInterceptor(options.token)] : [],
  });
}

export function createHealthClient(url: string, options: grpc.ClientOptions = {}): HealthClient {
  return new protos.grpc.health.v1.Health(url, grpc.credentials.createInsecure(), options);
}
