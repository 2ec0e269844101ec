import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { STRIPE_EVENT_METADATA_KEY } from '../contract/error-codes.js';
import { STRIPE_ID } from '../contract/stripe-event.js';
import { CreditsError } from '../credits/errors.js';
import type { Logger } from '../logger.js';
import { callerOf, type Caller } from './auth.js';
import { toServiceError } from './status.js';

export interface CallContext {
  logger: Logger;
  /** Fields for the call's one summary log line (outcome, reason, ...). */
  summary: Record<string, unknown>;
  /** Who called: the token's name (or client certificate CN), established by the auth interceptor. */
  caller: Caller;
}

export interface UnaryOptions {
  method: string;
  logger: Logger;
  isClosing: () => boolean;
  onFinish?: (method: string, code: string, seconds: number) => void;
}

/**
 * Wraps an async handler: a per-call logger carrying the caller and the Stripe event id, one
 * answer per call, and every throw mapped once by toServiceError. Token and scope were checked by
 * the auth interceptor (src/grpc/interceptor.ts) before the request was read.
 */
export function unary<Req, Res>(options: UnaryOptions, handler: (request: Req, context: CallContext) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const started = process.hrtime.bigint();
    const eventId = call.metadata.get(STRIPE_EVENT_METADATA_KEY)[0];
    const caller = callerOf(call.metadata);
    // Client-sent metadata reaches the logs only when it is what it claims to be.
    const logger = options.logger.child({
      method: options.method,
      ...(caller ? { caller: caller.name } : {}),
      ...(typeof eventId === 'string' && STRIPE_ID.test(eventId) ? { stripeEventId: eventId } : {}),
    });
    const summary: Record<string, unknown> = {};
    const finish = (code: string) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      options.onFinish?.(options.method, code, seconds);
      logger.info({ code, durationMs: Math.round(seconds * 1e4) / 10, ...summary }, 'grpc call');
    };
    const run = async () => {
      if (options.isClosing()) throw new CreditsError('SHUTTING_DOWN', 'the server is shutting down; retry');
      // Only a server built without the auth interceptor gets here without a caller: refuse, never serve open.
      if (!caller) throw new CreditsError('INTERNAL', 'no authenticated caller for this call');
      const deadline = call.getDeadline();
      if (deadline instanceof Date && deadline.getTime() <= Date.now()) {
        throw new CreditsError('DEADLINE_EXCEEDED', 'the deadline passed before the call started');
      }
      // Work that outlives its deadline still commits whole; the caller's retry then finds it done.
      return handler(call.request, { logger, summary, caller });
    };
    run().then(
      (response) => {
        finish('OK');
        callback(null, response);
      },
      (error: unknown) => {
        const serviceError = toServiceError(error);
        if (serviceError.creditsError.kind === 'internal') {
          logger.error(error instanceof CreditsError ? { code: error.code, ...error.logDetail } : { err: error }, 'unexpected failure');
        }
        finish(serviceError.creditsError.code);
        callback(serviceError);
      },
    );
  };
}
