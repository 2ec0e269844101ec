import * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import type { ProtoGrpcType as CreditsProto } from '../contract/generated/credits.js';
import type { ProtoGrpcType as HealthProto } from '../contract/generated/health.js';
import { LOADER_OPTIONS, PROTO_FILES } from '../contract/proto-files.js';
import { PROTO_DIR } from '../paths.js';

export { CREDITS_SERVICE_NAME } from '../contract/proto-files.js';

/** Both protocols from one loader, so reflection describes everything the server serves. */
export const packageDefinition: PackageDefinition = loadSync(PROTO_FILES, { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });

export const protos = grpc.loadPackageDefinition(packageDefinition) as unknown as CreditsProto & HealthProto;
