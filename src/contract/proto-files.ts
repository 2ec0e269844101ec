import type { Options } from '@grpc/proto-loader';

/** The loader's options; scripts/generate-proto-types.ts passes the same ones to the type generator. */
export const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const satisfies Options;

/** Relative to PROTO_DIR (src/paths.ts). */
export const PROTO_FILES = ['credits/v1/credits.proto', 'grpc/health/v1/health.proto'];

export const CREDITS_SERVICE_NAME = 'credits.v1.CreditsService';
