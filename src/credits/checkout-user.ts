import type { EntityManager } from '../db/orm';
import type { Logger } from '../logger';
import type { CheckoutSession } from './checkout-event';
import { CheckoutRejected, CreditsError } from './errors';
import { parseIdentifier, type Identifier } from './identifiers';
import { findOrCreateUserByEmail, findUser, findUserByStripeCustomer, linkStripeCustomer, type UserRecord } from './users';

type Source = 'metadata.user_id' | 'metadata.user_uuid' | 'client_reference_id' | 'customer_details.email' | 'customer_email';

/** Reads one candidate; a placeholder or malformed value is skipped and logged by source, never by value. */
function candidate(source: Source, raw: string, allowed: readonly Identifier['kind'][], logger: Logger): Identifier | undefined {
  if (raw.trim() === '') return undefined;
  try {
    const identifier = parseIdentifier(raw);
    if (allowed.includes(identifier.kind)) return identifier;
    logger.warn({ source, kind: identifier.kind }, 'checkout identifier of the wrong kind skipped');
  } catch (error) {
    if (!(error instanceof CreditsError)) throw error;
    logger.warn({ source, code: error.code }, 'checkout identifier skipped');
  }
  return undefined;
}

async function existingUser(em: EntityManager, source: Source, identifier: Identifier | undefined, logger: Logger) {
  if (!identifier) return undefined;
  const user = await findUser(em, identifier);
  if (!user) logger.warn({ source, kind: identifier.kind }, 'checkout identifier matches no user; skipped');
  return user;
}

/**
 * Which user a purchase credits, first match wins: explicit ids set by our checkout page, then
 * the Stripe customer we linked before, then the email typed into Checkout (created if new).
 */
export async function resolveCheckoutUser(em: EntityManager, session: CheckoutSession, logger: Logger): Promise<UserRecord> {
  const ids = ['uuid', 'legacy_id'] as const;
  const user =
    (await existingUser(em, 'metadata.user_id', candidate('metadata.user_id', session.metadata.user_id ?? '', ids, logger), logger)) ??
    (await existingUser(em, 'metadata.user_uuid', candidate('metadata.user_uuid', session.metadata.user_uuid ?? '', ids, logger), logger)) ??
    (await existingUser(
      em,
      'client_reference_id',
      candidate('client_reference_id', session.clientReferenceId, [...ids, 'email'], logger),
      logger,
    )) ??
    (session.customer ? await findUserByStripeCustomer(em, session.customer) : undefined) ??
    (await userByCheckoutEmail(em, session, logger));
  if (!user) throw new CheckoutRejected('user_unresolved', 'no identifier in the session names or creates a user');
  // A returning buyer found by this very customer id is linked already: spare the write.
  if (session.customer && user.stripeCustomerId !== session.customer) await linkStripeCustomer(em, user.id, session.customer);
  return user;
}

async function userByCheckoutEmail(em: EntityManager, session: CheckoutSession, logger: Logger) {
  const email =
    candidate('customer_details.email', session.customerDetailsEmail, ['email'], logger) ??
    candidate('customer_email', session.customerEmail, ['email'], logger);
  return email ? findOrCreateUserByEmail(em, email.value) : undefined;
}
