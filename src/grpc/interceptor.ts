import * as grpc from '@grpc/grpc-js';
import { CreditsError } from '../credits/errors.js';
import type { Logger } from '../logger.js';
import { authorize, registerCaller, type TokenTable } from './auth.js';
import { accessFor, CREDITS_SERVICE_PATH, maxRequestBytes } from './scopes.js';
import { toServiceError } from './status.js';

/**
 * Every call to the server passes here first. grpc-js reads a call's messages only once the
 * interceptors have passed its metadata on (the HTTP/2 stream stays paused until then), so a call
 * refused in `onReceiveMetadata` is answered without its request ever being buffered or parsed:
 * an unauthenticated 1.9 MB ApplyCheckout costs what its headers cost.
 *
 * Then, per message, the per-method size cap: grpc-js only has a server-wide byte limit
 * (`grpc.max_receive_message_length`, 2 MiB here for ApplyCheckout), and an interceptor sees
 * messages already parsed. `withRequestSizeCaps` therefore wraps each method's deserializer so a
 * message over its method's cap is not parsed but replaced by a marker, which is refused here
 * with RESOURCE_EXHAUSTED (REQUEST_TOO_LARGE). Such a message was still read into memory (up to the
 * server-wide 2 MiB), but only ever from a caller whose token was accepted (or from a health check).
 */
export interface AuthInterceptorOptions {
  tokens: TokenTable;
  logger: Logger;
  /** Told every CreditsService call refused here, as unary() reports the calls it answers (metrics). */
  onRefused?: (method: string, code: string, seconds: number) => void;
}

const AUTHORIZATION = 'authorization';
const TOO_LARGE = Symbol('request over its method size cap');

interface TooLarge {
  [TOO_LARGE]: number;
}

function isTooLarge(message: unknown): message is TooLarge {
  return typeof message === 'object' && message !== null && TOO_LARGE in message;
}

/** The same service, whose deserializers leave a message over its method's cap unparsed (see above). */
export function withRequestSizeCaps<T extends grpc.ServiceDefinition>(definition: T): T {
  const capped: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    const max = maxRequestBytes(method.path);
    capped[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => (bytes.length > max ? ({ [TOO_LARGE]: bytes.length } satisfies TooLarge) : method.requestDeserialize(bytes)),
    };
  }
  return capped as T;
}

/** `/credits.v1.CreditsService/GetBalance` → `GetBalance`; other services keep their full path. */
function methodLabel(path: string): string {
  return path.startsWith(CREDITS_SERVICE_PATH) ? path.slice(CREDITS_SERVICE_PATH.length) : path;
}

export function createAuthInterceptor(options: AuthInterceptorOptions): grpc.ServerInterceptor {
  const { tokens, logger } = options;
  return (methodDescriptor, call) => {
    const path = methodDescriptor.path;
    const started = process.hrtime.bigint();
    let answered = false;
    const refuse = (error: CreditsError, extra: Record<string, unknown> = {}) => {
      if (answered) return;
      answered = true;
      const { code, details, metadata } = toServiceError(error);
      call.sendStatus({ code, details: details ?? '', metadata: metadata ?? null });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const method = methodLabel(path);
      if (path.startsWith(CREDITS_SERVICE_PATH)) options.onRefused?.(method, error.code, seconds);
      // The peer address and what was wrong; never the metadata, which may hold a token.
      logger.warn({ method, code: error.code, peer: call.getPeer(), ...extra }, 'grpc call refused');
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const result = authorize(tokens, metadata, call.getAuthContext().sslPeerCertificate, accessFor(path));
            if (!result.ok) {
              // nextMetadata is never called: grpc-js never starts reading this call's message.
              refuse(result.error);
              return;
            }
            // Handlers have no use for the token; without it, no handler can log it by mistake.
            metadata.remove(AUTHORIZATION);
            registerCaller(metadata, result.caller);
            nextMetadata(metadata);
          },
          onReceiveMessage: (message, nextMessage) => {
            if (isTooLarge(message)) {
              const max = maxRequestBytes(path);
              refuse(new CreditsError('REQUEST_TOO_LARGE', `request of ${message[TOO_LARGE]} bytes; this method accepts at most ${max}`), {
                bytes: message[TOO_LARGE],
              });
              return;
            }
            nextMessage(message);
          },
        }),
    });
  };
}
