// Generates src/contract/generated from the .proto files with the runtime loader's own options.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { LOADER_OPTIONS, PROTO_FILES } from '../src/contract/proto-files';

const flags = [
  LOADER_OPTIONS.keepCase && '--keepCase',
  `--longs=${LOADER_OPTIONS.longs.name}`,
  `--enums=${LOADER_OPTIONS.enums.name}`,
  LOADER_OPTIONS.defaults && '--defaults',
  LOADER_OPTIONS.oneofs && '--oneofs',
].filter((flag): flag is string => typeof flag === 'string');

const outDir = 'src/contract/generated';
rmSync(outDir, { recursive: true, force: true });
execFileSync(
  'npx',
  ['proto-loader-gen-types', ...flags, '--grpcLib=@grpc/grpc-js', '--includeDirs=proto', `--outDir=${outDir}`, ...PROTO_FILES],
  { stdio: 'inherit' },
);
