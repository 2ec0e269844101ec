import { applyCheckout, type CheckoutOutcome, type CheckoutResult } from '../credits/checkout';
import { checkoutEventFromRequest } from '../credits/checkout-event';
import type { CreditRules } from '../credits/purchase-credits';
import { resolveUser, type UserRecord } from '../credits/users';
import { translateDatabaseErrors } from '../db/errors';
import type { EntityManager } from '../db/orm';
import type { ApplyCheckoutOutcome } from './generated/credits/v1/ApplyCheckoutOutcome';
import type { ApplyCheckoutRequest__Output } from './generated/credits/v1/ApplyCheckoutRequest';
import type { ApplyCheckoutResponse } from './generated/credits/v1/ApplyCheckoutResponse';
import type { CreditsServiceHandlers } from './generated/credits/v1/CreditsService';
import type { GetBalanceRequest__Output } from './generated/credits/v1/GetBalanceRequest';
import type { GetBalanceResponse } from './generated/credits/v1/GetBalanceResponse';
import type { MatchKind } from './generated/credits/v1/MatchKind';
import type { ResolveUserRequest__Output } from './generated/credits/v1/ResolveUserRequest';
import type { ResolveUserResponse } from './generated/credits/v1/ResolveUserResponse';
import type { User } from './generated/credits/v1/User';
import { unary, type UnaryOptions } from './unary';

const OUTCOMES: Record<CheckoutOutcome, ApplyCheckoutOutcome> = {
  applied: 'APPLY_CHECKOUT_OUTCOME_APPLIED',
  duplicate: 'APPLY_CHECKOUT_OUTCOME_DUPLICATE',
  payment_pending: 'APPLY_CHECKOUT_OUTCOME_PAYMENT_PENDING',
  payment_failed: 'APPLY_CHECKOUT_OUTCOME_PAYMENT_FAILED',
  ignored: 'APPLY_CHECKOUT_OUTCOME_IGNORED',
  rejected: 'APPLY_CHECKOUT_OUTCOME_REJECTED',
};

const MATCH_KINDS: Record<'uuid' | 'legacy_id' | 'email', MatchKind> = {
  uuid: 'MATCH_KIND_UUID',
  legacy_id: 'MATCH_KIND_LEGACY_ID',
  email: 'MATCH_KIND_EMAIL',
};

function toUser(user: UserRecord): User {
  return { id: user.uuid, legacy_id: user.id, email: user.email ?? '', credits_balance: user.creditsBalance };
}

export interface CreditsServiceDeps {
  em: EntityManager;
  rules: CreditRules;
  call: Omit<UnaryOptions, 'method'>;
  /** Told every ApplyCheckout result (metrics count outcomes and credits granted). */
  onCheckoutResult?: (result: CheckoutResult) => void;
}

export function creditsServiceHandlers({ em, rules, call, onCheckoutResult }: CreditsServiceDeps): CreditsServiceHandlers {
  return {
    ApplyCheckout: unary<ApplyCheckoutRequest__Output, ApplyCheckoutResponse>(
      { ...call, method: 'ApplyCheckout' },
      async (request, { logger, summary }) => {
        const event = checkoutEventFromRequest(request);
        const result = await applyCheckout(em, event, rules, logger);
        onCheckoutResult?.(result);
        Object.assign(summary, { eventType: event.eventType, outcome: result.outcome, reason: result.reason || undefined, credits: result.creditsGranted });
        return {
          outcome: OUTCOMES[result.outcome],
          ...(result.user ? { user: toUser(result.user), balance_after: result.user.creditsBalance } : {}),
          credits_granted: result.creditsGranted,
          reason: result.reason,
        };
      },
    ),
    ResolveUser: unary<ResolveUserRequest__Output, ResolveUserResponse>({ ...call, method: 'ResolveUser' }, async (request) => {
      const { user, matchedBy } = await translateDatabaseErrors(() => resolveUser(em, request.identifier));
      return { user: toUser(user), matched_by: MATCH_KINDS[matchedBy] };
    }),
    GetBalance: unary<GetBalanceRequest__Output, GetBalanceResponse>({ ...call, method: 'GetBalance' }, async (request) => {
      const { user } = await translateDatabaseErrors(() => resolveUser(em, request.identifier));
      return { user_id: user.uuid, balance: user.creditsBalance };
    }),
  };
}
