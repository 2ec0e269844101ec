import type { CheckoutSession } from '../contract/stripe-event.js';
import type { Logger } from '../logger.js';
import { CheckoutRejected, CreditsError } from './errors.js';
import { parseIdentifier, type Identifier } from './identifiers.js';
import type { CustomerLink, UserRecord, UserRepository } from './ports.js';

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
  return email?.kind === 'email' ? users.findOrCreateByEmail(email) : undefined;
}

const IDS = ['uuid', 'legacy_id'] as const;

export interface CheckoutUser {
  user: UserRecord;
  /** Set when the buyer's own email resolved the user and the session names a Stripe customer. */
  customerLink?: CustomerLink;
}

/**
 * Which user a purchase credits, first match wins: explicit ids set by our checkout page, then
 * the Stripe customer linked before, then the email typed into Checkout (created if new).
 *
 * Only the buyer's own email links the session's Stripe customer to the user: an explicit id may
 * name someone else (a gift, a team account), and linking the buyer's customer to them would send
 * every later purchase of that buyer there. A customer linked to another user is never moved.
 */
export async function resolveCheckoutUser(users: UserRepository, session: CheckoutSession, logger: Logger): Promise<CheckoutUser> {
  const explicit = (source: Source, raw: string, allowed: readonly Identifier['kind'][]) =>
    existingUser(users, source, candidate(source, raw, allowed, logger), logger);
  const byReference =
    (await explicit('metadata.user_id', session.metadata.user_id ?? '', IDS)) ??
    (await explicit('metadata.user_uuid', session.metadata.user_uuid ?? '', IDS)) ??
    (await explicit('client_reference_id', session.clientReferenceId, [...IDS, 'email']));
  if (byReference) return { user: byReference };
  const byCustomer = session.customer ? await users.findByStripeCustomer(session.customer) : undefined;
  if (byCustomer) return { user: byCustomer };
  const byEmail = await userByCheckoutEmail(users, session, logger);
  if (!byEmail) throw new CheckoutRejected('user_unresolved', 'no identifier in the session names or creates a user');
  if (!session.customer) return { user: byEmail };
  const customerLink = await users.linkStripeCustomer(byEmail.id, session.customer);
  if (customerLink === 'linked_to_another_user') {
    // findByStripeCustomer missed it: another purchase linked it concurrently. Left as it is, for a person to look at.
    logger.warn({ userId: byEmail.id }, 'Stripe customer already linked to another user; link left unchanged');
  }
  return { user: byEmail, customerLink };
}
