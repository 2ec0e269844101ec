import { Metadata } from '@grpc/grpc-js';
import type { ApplyCheckoutRequest } from '../../src/contract/generated/credits/v1/ApplyCheckoutRequest';
import type { ApplyCheckoutResponse__Output } from '../../src/contract/generated/credits/v1/ApplyCheckoutResponse';
import { call, type CreditsHarness } from './credits-harness';
import { applyCheckoutRequestFor, checkoutSession, stripeEvent, stripeId, type SessionOverrides, type StripeEventType } from './stripe-events';

export interface Applied {
  request: ApplyCheckoutRequest;
  response: ApplyCheckoutResponse__Output;
  eventId: string;
  sessionId: string;
}

/** Sends one Stripe-shaped event through the real gRPC ApplyCheckout, as the edge would. */
export async function sendCheckout(
  h: CreditsHarness,
  overrides: SessionOverrides = {},
  type: StripeEventType = 'checkout.session.completed',
): Promise<Applied> {
  const session = checkoutSession({ metadata: { credits: '100' }, ...overrides });
  const event = stripeEvent(type, session);
  const request = applyCheckoutRequestFor(event);
  const result = await call(h.client, h.client.ApplyCheckout, request, new Metadata());
  if (!result.ok) throw new Error(`ApplyCheckout failed: ${result.error.code} ${result.error.details}`);
  return { request, response: result.response as ApplyCheckoutResponse__Output, eventId: event.id as string, sessionId: session.id as string };
}

export const uniqueEmail = (label: string) => `${label}-${stripeId('u')}@example.com`;

export async function insertUser(h: CreditsHarness, email: string): Promise<{ id: string; uuid: string }> {
  const { rows } = await h.sql.query<{ id: string; uuid: string }>('INSERT INTO users (email) VALUES ($1) RETURNING id, uuid', [email]);
  return rows[0]!;
}

export async function balanceOf(h: CreditsHarness, userId: string): Promise<string> {
  const { rows } = await h.sql.query<{ credits_balance: string }>('SELECT credits_balance FROM users WHERE id = $1', [userId]);
  return rows[0]!.credits_balance;
}
