import type { EntityManager } from '../db/orm';
import { classifyDatabaseError, translateDatabaseErrors } from '../db/errors';
import type { Logger } from '../logger';
import { isCheckoutEventType, isCreditablePaymentStatus, type CheckoutEvent, type CheckoutSession } from './checkout-event';
import { resolveCheckoutUser } from './checkout-user';
import { CheckoutRejected } from './errors';
import { purchaseCredits, type CreditRules } from './purchase-credits';
import { findUser, QUALIFIED_USER_COLUMNS, toUserRecord, type UserRecord, type UserRow } from './users';
import type { EventStatus } from '../db/entities';
import { sql } from '../db/sql';

export type CheckoutOutcome = 'applied' | 'duplicate' | 'payment_pending' | 'payment_failed' | 'ignored' | 'rejected';

export interface CheckoutResult {
  outcome: CheckoutOutcome;
  user?: UserRecord;
  creditsGranted: number;
  reason: string;
}

interface Decision extends CheckoutResult {
  status: EventStatus;
}

const CONFLICT_RETRIES = 3;

/** Inserts the event row, or locks the existing one; the unique key makes concurrent deliveries queue here. */
async function claimEvent(em: EntityManager, event: CheckoutEvent) {
  const rows = await sql<{ status: EventStatus; outcome: string | null; user_id: string | null }[]>(em,
    `INSERT INTO stripe_events (event_id, event_type, status, checkout_session_id, payload)
     VALUES (?, ?, 'processing', ?, ?::jsonb)
     ON CONFLICT (event_id) DO UPDATE SET attempts = stripe_events.attempts + 1
     RETURNING status, outcome, user_id`,
    [event.eventId, event.eventType, event.session?.id ?? null, event.eventJson],
  );
  return rows[0]!;
}

async function finishEvent(em: EntityManager, eventId: string, decision: Decision): Promise<void> {
  await sql(em,
    `UPDATE stripe_events SET status = ?, outcome = ?, error_message = ?, user_id = ?, processed_at = now()
     WHERE event_id = ?`,
    [decision.status, decision.outcome, decision.reason || null, decision.user?.id ?? null, eventId],
  );
}

/** One credit per Checkout Session: the ledger's unique key decides, even between concurrent events. */
async function grantPurchaseCredits(em: EntityManager, event: CheckoutEvent, session: CheckoutSession, rules: CreditRules, logger: Logger): Promise<Decision> {
  const credits = purchaseCredits(event.lineItems, session.metadata, rules);
  const user = await resolveCheckoutUser(em, session, logger);
  // One statement: the balance moves only if this transaction inserted the session's ledger row.
  const credited = await sql<UserRow[]>(em,
    `WITH ledger AS (
       INSERT INTO credit_transactions (user_id, amount, kind, checkout_session_id, stripe_event_id)
       VALUES (?, ?, 'purchase', ?, ?) ON CONFLICT (checkout_session_id) DO NOTHING RETURNING user_id, amount
     )
     UPDATE users SET credits_balance = users.credits_balance + ledger.amount, updated_at = now()
     FROM ledger WHERE users.id = ledger.user_id
     RETURNING ${QUALIFIED_USER_COLUMNS}`,
    [user.id, credits, session.id, event.eventId],
  );
  if (!credited[0]) {
    return { status: 'completed', outcome: 'duplicate', user, creditsGranted: 0, reason: 'checkout_session_already_credited' };
  }
  return { status: 'completed', outcome: 'applied', user: toUserRecord(credited[0]), creditsGranted: credits, reason: '' };
}

async function decide(em: EntityManager, event: CheckoutEvent, rules: CreditRules, logger: Logger): Promise<Decision> {
  const session = event.session;
  const none = { creditsGranted: 0 };
  if (!isCheckoutEventType(event.eventType) || !session) {
    return { ...none, status: 'ignored', outcome: 'ignored', reason: 'event_type_not_handled' };
  }
  if (session.mode !== 'payment') {
    return { ...none, status: 'ignored', outcome: 'ignored', reason: `mode_${session.mode || 'missing'}` };
  }
  if (event.eventType === 'checkout.session.async_payment_failed') {
    return { ...none, status: 'completed', outcome: 'payment_failed', reason: 'async_payment_failed' };
  }
  if (session.paymentStatus === 'unpaid') {
    return { ...none, status: 'pending', outcome: 'payment_pending', reason: 'awaiting_async_payment' };
  }
  if (!isCreditablePaymentStatus(session.paymentStatus)) {
    return { ...none, status: 'ignored', outcome: 'ignored', reason: `payment_status_${session.paymentStatus || 'missing'}` };
  }
  return grantPurchaseCredits(em, event, session, rules, logger);
}

async function applyInTransaction(em: EntityManager, event: CheckoutEvent, rules: CreditRules, logger: Logger): Promise<CheckoutResult> {
  const claimed = await claimEvent(em, event);
  if (claimed.status === 'completed' || claimed.status === 'ignored') {
    const user = claimed.user_id ? await findUser(em, { kind: 'legacy_id', value: claimed.user_id }) : undefined;
    return { outcome: 'duplicate', user, creditsGranted: 0, reason: 'event_already_processed' };
  }
  // 'pending' and 'failed' events are decided afresh: a redelivery or a replay may now succeed.
  const decision = await decide(em, event, rules, logger);
  await finishEvent(em, event.eventId, decision);
  const { status: _status, ...result } = decision;
  return result;
}

/** A rejection survives the rolled-back purchase: it is stored as failed, in a transaction of its own. */
async function recordRejection(em: EntityManager, event: CheckoutEvent, rejection: CheckoutRejected): Promise<void> {
  await sql(em,
    `INSERT INTO stripe_events (event_id, event_type, status, outcome, error_message, checkout_session_id, payload, processed_at)
     VALUES (?, ?, 'failed', 'rejected', ?, ?, ?::jsonb, now())
     ON CONFLICT (event_id) DO UPDATE SET status = 'failed', outcome = 'rejected', error_message = EXCLUDED.error_message,
       attempts = stripe_events.attempts + 1, processed_at = now()
     WHERE stripe_events.status NOT IN ('completed', 'ignored')`,
    [event.eventId, event.eventType, rejection.message, event.session?.id ?? null, event.eventJson],
  );
}

/**
 * Applies one Stripe event exactly once: the event row, the ledger row and the balance are
 * committed together or not at all. A lost race is retried; an outage surfaces as UNAVAILABLE.
 */
export async function applyCheckout(em: EntityManager, event: CheckoutEvent, rules: CreditRules, logger: Logger): Promise<CheckoutResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await em.transactional((tx) => applyInTransaction(tx, event, rules, logger));
    } catch (error) {
      if (error instanceof CheckoutRejected) {
        await translateDatabaseErrors(() => recordRejection(em, event, error));
        logger.info({ reason: error.reason }, 'checkout rejected');
        return { outcome: 'rejected', creditsGranted: 0, reason: error.reason };
      }
      const classified = classifyDatabaseError(error);
      if (classified?.code === 'TRANSACTION_CONFLICT' && attempt < CONFLICT_RETRIES) continue;
      throw classified ?? error;
    }
  }
}
