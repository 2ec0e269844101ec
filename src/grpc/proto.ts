import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import type { ProtoGrpcType as CreditsProto } from './generated/credits';
import type { ProtoGrpcType as HealthProto } from './generated/health';
import { LOADER_OPTIONS, PROTO_FILES } from './loader-options';

const PROTO_ROOT = fileURLToPath(new URL('../../proto', import.meta.url));

export const CREDITS_SERVICE_NAME = 'credits.v1.CreditsService';

/** Both protocols from one loader, so reflection describes everything the server serves. */
export const packageDefinition: PackageDefinition = loadSync(PROTO_FILES, { ...LOADER_OPTIONS, includeDirs: [PROTO_ROOT] });

export const protos = grpc.loadPackageDefinition(packageDefinition) as unknown as CreditsProto & HealthProto;
