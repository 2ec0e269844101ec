import type { ApplyCheckoutRequest, ApplyCheckoutRequest__Output } from '../grpc/generated/credits/v1/ApplyCheckoutRequest';

const text = (value: string | undefined): string => value ?? '';

/**
 * The request as the gRPC loader would deliver it (defaults filled, int64 as strings), so an
 * in-process caller such as replay goes through checkoutEventFromRequest exactly like a call.
 */
export function requestAsReceived(request: ApplyCheckoutRequest): ApplyCheckoutRequest__Output {
  const session = request.session;
  return {
    event_id: text(request.event_id),
    event_type: text(request.event_type),
    session: session
      ? {
          id: text(session.id),
          status: text(session.status),
          payment_status: text(session.payment_status),
          mode: text(session.mode),
          client_reference_id: text(session.client_reference_id),
          customer: text(session.customer),
          customer_details: session.customer_details ? { email: text(session.customer_details.email) } : null,
          customer_email: text(session.customer_email),
          metadata: { ...session.metadata },
          amount_total: String(session.amount_total ?? '0'),
          currency: text(session.currency),
          payment_intent: text(session.payment_intent),
        }
      : null,
    line_items: (request.line_items ?? []).map((item) => ({ price_id: text(item.price_id), quantity: String(item.quantity ?? '0') })),
    event_json: text(request.event_json),
  };
}
