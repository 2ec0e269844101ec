import { outcomeToProto } from '../contract/apply-checkout.js';
import { stripeEventOutcomeToProto } from '../contract/apply-stripe-event.js';
import type { ApplyCheckoutRequest__Output } from '../contract/generated/credits/v1/ApplyCheckoutRequest.js';
import type { ApplyCheckoutResponse } from '../contract/generated/credits/v1/ApplyCheckoutResponse.js';
import type { ApplyStripeEventRequest__Output } from '../contract/generated/credits/v1/ApplyStripeEventRequest.js';
import type { ApplyStripeEventResponse } from '../contract/generated/credits/v1/ApplyStripeEventResponse.js';
import type { CreditsServiceHandlers } from '../contract/generated/credits/v1/CreditsService.js';
import type { GetBalanceRequest__Output } from '../contract/generated/credits/v1/GetBalanceRequest.js';
import type { GetBalanceResponse } from '../contract/generated/credits/v1/GetBalanceResponse.js';
import type { MatchKind } from '../contract/generated/credits/v1/MatchKind.js';
import type { ResolveUserRequest__Output } from '../contract/generated/credits/v1/ResolveUserRequest.js';
import type { ResolveUserResponse } from '../contract/generated/credits/v1/ResolveUserResponse.js';
import type { User } from '../contract/generated/credits/v1/User.js';
import { getBalance } from '../credits/balances.js';
import { applyStripeEvent, type StripeEventResult } from '../credits/checkout.js';
import type { CreditRules } from '../credits/credit-rules.js';
import type { Identifier } from '../credits/identifiers.js';
import type { ChargeLookup, CreditsStore, UserRecord } from '../credits/ports.js';
import type { SpendingEvent } from '../credits/spending-events.js';
import { resolveUser } from '../credits/users.js';
import { stripeEventFromApplyRequest, stripeEventFromRequest, type ForwardedSignatureCheck } from './apply-checkout-request.js';
import { spendingHandlers } from './spending-handlers.js';
import { unary, type UnaryOptions } from './unary.js';

const MATCH_KINDS: Record<Identifier['kind'], MatchKind> = {
  uuid: 'MATCH_KIND_UUID',
  legacy_id: 'MATCH_KIND_LEGACY_ID',
  email: 'MATCH_KIND_EMAIL',
};

function toUser(user: UserRecord): User {
  return { id: user.uuid, legacy_id: user.id, email: user.email ?? '', credits_balance: user.creditsBalance };
}

export interface CreditsServiceDeps {
  store: CreditsStore;
  rules: CreditRules;
  call: Omit<UnaryOptions, 'method'>;
  /** Looks up a disputed charge's PaymentIntent; absent without STRIPE_SECRET_KEY. */
  charges?: ChargeLookup;
  /** Told every ApplyCheckout and ApplyStripeEvent result (metrics count outcomes and credits moved). */
  onEventResult?: (result: StripeEventResult, eventType: string) => void;
  /** Told what each spend, reservation, capture or release changed (metrics). */
  onSpending?: (event: SpendingEvent) => void;
  /** Checks the Stripe-Signature forwarded with each event (STRIPE_WEBHOOK_SECRET); none: not checked. */
  signatureCheck?: ForwardedSignatureCheck;
}

/** Each handler translates the wire to the domain and back; the decisions are the domain's. */
export function creditsServiceHandlers({ store, rules, call, charges, onEventResult, onSpending, signatureCheck }: CreditsServiceDeps): CreditsServiceHandlers {
  return {
    ...spendingHandlers({ store, call, onSpending }),
    ApplyCheckout: unary<ApplyCheckoutRequest__Output, ApplyCheckoutResponse>(
      { ...call, method: 'ApplyCheckout' },
      async (request, { logger, summary, caller }) => {
        const event = stripeEventFromRequest(request, signatureCheck);
        // ApplyCheckout is how the edge hands over what Stripe delivered: the event came by webhook.
        const result = await applyStripeEvent(store, event, rules, logger, { source: 'webhook', appliedBy: caller.name }, { charges });
        onEventResult?.(result, event.type);
        Object.assign(summary, { eventType: event.type, outcome: result.outcome, reason: result.reason || undefined, credits: result.creditsGranted });
        return {
          outcome: outcomeToProto(result.outcome),
          ...(result.user ? { user: toUser(result.user), balance_after: result.user.creditsBalance } : {}),
          credits_granted: result.creditsGranted,
          reason: result.reason,
        };
      },
    ),
    ApplyStripeEvent: unary<ApplyStripeEventRequest__Output, ApplyStripeEventResponse>(
      { ...call, method: 'ApplyStripeEvent' },
      async (request, { logger, summary, caller }) => {
        const event = stripeEventFromApplyRequest(request, signatureCheck);
        // Like ApplyCheckout, this is how the edge hands over what Stripe delivered: the event came by webhook.
        const result = await applyStripeEvent(store, event, rules, logger, { source: 'webhook', appliedBy: caller.name }, { charges });
        onEventResult?.(result, event.type);
        Object.assign(summary, {
          eventType: event.type,
          outcome: result.outcome,
          reason: result.reason || undefined,
          credits: result.creditsGranted || undefined,
          reversed: result.creditsReversed || undefined,
          restored: result.creditsRestored || undefined,
          shortfall: result.shortfall || undefined,
        });
        return {
          outcome: stripeEventOutcomeToProto(result.outcome),
          ...(result.user ? { user: toUser(result.user), balance_after: result.user.creditsBalance } : {}),
          credits_granted: result.creditsGranted,
          credits_reversed: result.creditsReversed,
          credits_restored: result.creditsRestored,
          shortfall: result.shortfall,
          reason: result.reason,
        };
      },
    ),
    ResolveUser: unary<ResolveUserRequest__Output, ResolveUserResponse>({ ...call, method: 'ResolveUser' }, async (request) => {
      const { user, matchedBy } = await resolveUser(store.users, request.identifier);
      return { user: toUser(user), matched_by: MATCH_KINDS[matchedBy] };
    }),
    GetBalance: unary<GetBalanceRequest__Output, GetBalanceResponse>({ ...call, method: 'GetBalance' }, async (request) => {
      const { user, balance, held, available } = await getBalance(store.users, request.identifier);
      return { user_id: user.uuid, balance, held, available };
    }),
  };
}
