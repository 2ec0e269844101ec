import type { CheckoutSession } from '../contract/stripe-event.js';
import type { Logger } from '../logger.js';
import { CheckoutRejected, CreditsError } from './errors.js';
import { parseIdentifier, type Identifier } from './identifiers.js';
import type { UserRecord, UserRepository } from './ports.js';

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

async function existingUser(users: UserRepository, source: Source, identifier: Identifier | undefined, logger: Logger) {
  if (!identifier) return undefined;
  const user = await users.find(identifier);
  if (!user) logger.warn({ source, kind: identifier.kind }, 'checkout identifier matches no user; skipped');
  return user;
}

async function userByCheckoutEmail(users: UserRepository, session: CheckoutSession, logger: Logger) {
  const email =
    candidate('customer_details.email', session.customerDetailsEmail, ['email'], logger) ??
    candidate('customer_email', session.customerEmail, ['email'], logger);
  return email ? users.findOrCreateByEmail(email.value) : undefined;
}

const IDS = ['uuid', 'legacy_id'] as const;

/**
 * Which user a purchase credits, first match wins: explicit ids set by our checkout page, then
 * the Stripe customer we linked before, then the email typed into Checkout (created if new).
 */
export async function resolveCheckoutUser(users: UserRepository, session: CheckoutSession, logger: Logger): Promise<UserRecord> {
  const explicit = (source: Source, raw: string, allowed: readonly Identifier['kind'][]) =>
    existingUser(users, source, candidate(source, raw, allowed, logger), logger);
  const user =
    (await explicit('metadata.user_id', session.metadata.user_id ?? '', IDS)) ??
    (await explicit('metadata.user_uuid', session.metadata.user_uuid ?? '', IDS)) ??
    (await explicit('client_reference_id', session.clientReferenceId, [...IDS, 'email'])) ??
    (session.customer ? await users.findByStripeCustomer(session.customer) : undefined) ??
    (await userByCheckoutEmail(users, session, logger));
  if (!user) throw new CheckoutRejected('user_unresolved', 'no identifier in the session names or creates a user');
  // A returning buyer found by this very customer id is linked already: spare the write.
  if (session.customer && user.stripeCustomerId !== session.customer) await users.linkStripeCustomer(user.id, session.customer);
  return user;
}
