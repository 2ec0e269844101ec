import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY } from '../contract/error-codes.js';
import { CreditsError, type ErrorKind } from '../credits/errors.js';

export { ERROR_CODE_METADATA_KEY };

const GRPC_STATUS: Record<ErrorKind, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  failed_precondition: status.FAILED_PRECONDITION,
  already_exists: status.ALREADY_EXISTS,
  unauthenticated: status.UNAUTHENTICATED,
  permission_denied: status.PERMISSION_DENIED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  aborted: status.ABORTED,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  internal: status.INTERNAL,
};

/** The one mapping from anything a handler threw to the status a caller sees; the unknown is INTERNAL. */
export function toServiceError(error: unknown): Partial<ServiceError> & { code: status; creditsError: CreditsError } {
  const known = error instanceof CreditsError ? error : new CreditsError('INTERNAL', 'internal error');
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, known.code);
  return { code: GRPC_STATUS[known.kind], details: known.message, metadata, creditsError: known };
}
