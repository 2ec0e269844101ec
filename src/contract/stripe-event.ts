import { z } from 'zod';

/**
 * The one decoded Stripe event. The edge decodes what Stripe sent, CreditsService decodes the
 * event JSON it is asked to store, replay and reconcile decode what was stored or listed: all
 * with this function, so every path reads a purchase the same way.
 */

export const CHECKOUT_EVENT_TYPES = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
] as const;
export type CheckoutEventType = (typeof CHECKOUT_EVENT_TYPES)[number];

export function isCheckoutEventType(type: string): type is CheckoutEventType {
  return (CHECKOUT_EVENT_TYPES as readonly string[]).includes(type);
}

/** Events that take back (or give back) the credits of a purchase: refunds and disputes. */
export const REVERSAL_EVENT_TYPES = ['charge.refunded', 'charge.dispute.created', 'charge.dispute.closed'] as const;
export type ReversalEventType = (typeof REVERSAL_EVENT_TYPES)[number];

export function isReversalEventType(type: string): type is ReversalEventType {
  return (REVERSAL_EVENT_TYPES as readonly string[]).includes(type);
}

const CREDITABLE_PAYMENT_STATUSES = new Set(['paid', 'no_payment_required']);

/** A Checkout Session whose payment has cleared (or needed none) may be credited. */
export function isCreditablePaymentStatus(paymentStatus: string): boolean {
  return CREDITABLE_PAYMENT_STATUSES.has(paymentStatus);
}

export interface LineItem {
  priceId: string;
  quantity: number;
}

/** The fields of a Checkout Session that crediting reads; Stripe's nulls become ''. */
export interface CheckoutSession {
  id: string;
  status: string;
  paymentStatus: string;
  mode: string;
  clientReferenceId: string;
  customer: string;
  customerDetailsEmail: string;
  customerEmail: string;
  metadata: Record<string, string>;
  /** Smallest currency unit; null when Stripe sent none. */
  amountTotal: number | null;
  currency: string;
  paymentIntent: string;
}

/** The fields of a Charge that a refund reads; Stripe's nulls become '' (ids) or null (amounts). */
export interface Charge {
  id: string;
  /** The PaymentIntent the charge belongs to ('' when none): how its purchase is found. */
  paymentIntent: string;
  /** What was charged, in the currency's smallest unit; null when Stripe sent no integer. */
  amount: number | null;
  /** Cumulative: everything refunded of this charge so far, in the same unit. */
  amountRefunded: number | null;
  /** True once the whole charge is refunded. */
  refunded: boolean;
}

/** The fields of a Dispute that a dispute event reads. */
export interface Dispute {
  id: string;
  /** The disputed charge's id (Stripe may send the expanded charge). */
  charge: string;
  /** The PaymentIntent, from the dispute or its expanded charge; '' when neither says. */
  paymentIntent: string;
  /** The disputed amount, in the currency's smallest unit; null when Stripe sent no integer. */
  amount: number | null;
  /** warning_needs_response, needs_response, under_review, won, lost, warning_closed, ... */
  status: string;
}

export interface StripeEvent {
  id: string;
  type: string;
  /** Stripe's `livemode`; undefined when the event does not say. */
  livemode: boolean | undefined;
  /** When Stripe created the event (unix seconds); null when the event does not say. */
  created: number | null;
  /** The Checkout Session, for events whose data.object is one. */
  session?: CheckoutSession;
  /** The Charge, for events whose data.object is one (charge.refunded). */
  charge?: Charge;
  /** The Dispute, for events whose data.object is one (charge.dispute.*). */
  dispute?: Dispute;
  /** The session's line items, when they were fetched from the Stripe API. */
  lineItems: LineItem[];
  /** The whole event exactly as received: what is stored for audit and replay. */
  json: string;
}

/** Why a text is not a storable Stripe event: not JSON, not even an event envelope, or a field at fault. */
export class StripeEventInvalid extends Error {
  override name = 'StripeEventInvalid';

  constructor(
    readonly kind: 'not_json' | 'not_an_event' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

export const MAX_EVENT_JSON_BYTES = 1024 * 1024;
/** Stripe's events nest about ten levels; deeper JSON only overflows JSON.stringify and jsonb's parser. */
export const MAX_EVENT_JSON_DEPTH = 64;
export const MAX_LINE_ITEMS = 100;

// PostgreSQL cannot hold a NUL in text (the driver fails with a protocol error) nor \u0000 or an
// unpaired surrogate in jsonb: such input is refused here instead of failing as an outage later.
const UNSTORABLE = /[\u0000\p{Cs}]/u;
const UNSTORABLE_MESSAGE = 'must not contain NUL or unpaired surrogate characters';
export const STRIPE_ID = /^[A-Za-z0-9_-]{1,255}$/;

const stripeId = z.string().regex(STRIPE_ID, 'must be a Stripe id');
const storableText = (max: number) => z.string().max(max).refine((text) => !UNSTORABLE.test(text), UNSTORABLE_MESSAGE);
const text = storableText(1024);
// Stripe sends null for an absent string and may expand an id into its object. A field of another
// type than Stripe documents is read as absent, as it always was: the purchase is then ignored or
// rejected (stored, replayable) rather than the delivery refused.
const asText = (value: unknown): string => (typeof value === 'string' ? value : '');
const nullableText = z.unknown().transform(asText).pipe(text);
const expandableIdOf = (value: unknown): string =>
  typeof value === 'object' && value !== null ? asText((value as { id?: unknown }).id) : asText(value);
const expandableId = z.unknown().transform(expandableIdOf).pipe(text);
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const sessionSchema = z.looseObject({
  object: z.literal('checkout.session'),
  id: stripeId,
  status: nullableText,
  payment_status: nullableText,
  mode: nullableText,
  client_reference_id: nullableText,
  customer: expandableId,
  customer_details: z
    .unknown()
    .transform((value) => (isRecord(value) ? value : null))
    .pipe(z.looseObject({ email: nullableText }).nullable()),
  customer_email: nullableText,
  metadata: z
    .unknown()
    .transform((metadata) =>
      Object.fromEntries(Object.entries(isRecord(metadata) ? metadata : {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string')),
    )
    .pipe(z.record(storableText(40), storableText(500))),
  amount_total: z.unknown().transform((amount) => (Number.isSafeInteger(amount) ? (amount as number) : null)),
  currency: nullableText,
  payment_intent: expandableId,
});

// Optional, like every field read with z.unknown(): a field Stripe left out reads as absent.
const amount = z.unknown().optional().transform((value) => (Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : null));
const expandedPaymentIntent = (value: unknown): string => (isRecord(value) ? expandableIdOf(value.payment_intent) : '');

// Charges and disputes of older API versions may lack a field: absent reads as null, never a 400.
const absentId = z.unknown().optional().transform(expandableIdOf).pipe(text);
const absentText = z.unknown().optional().transform(asText).pipe(text);

const chargeSchema = z.looseObject({
  object: z.literal('charge'),
  id: stripeId,
  payment_intent: absentId,
  amount,
  amount_refunded: amount,
  refunded: z.unknown().optional().transform((value) => value === true),
});

const disputeSchema = z.looseObject({
  object: z.literal('dispute'),
  id: stripeId,
  charge: z.unknown().optional(),
  payment_intent: absentId,
  amount,
  status: absentText,
});

/** Only what every event has; the webhook's OpenAPI document is generated from it. */
export const stripeEventEnvelope = z
  .looseObject({
    id: z.string().min(1).describe('The Stripe event id (evt_…): the idempotency key of the delivery.'),
    type: z.string().min(1).describe('The event type, e.g. checkout.session.completed. Every type is accepted; unhandled ones are stored as ignored.'),
    data: z.looseObject({
      object: z
        .looseObject({})
        .describe(
          'The Stripe object the event is about. For checkout.session.* events a Checkout Session: id, status, payment_status, mode, client_reference_id, customer, customer_details.email, customer_email, metadata, amount_total, currency, payment_intent are read. For charge.refunded a Charge: id, payment_intent, amount, amount_refunded, refunded. For charge.dispute.created and charge.dispute.closed a Dispute: id, charge, payment_intent, amount, status.',
        ),
    }),
  })
  .describe('A Stripe event, exactly as Stripe sends it (https://docs.stripe.com/api/events/object). Other fields are kept and stored for audit and replay.');

const eventSchema = z.looseObject({
  id: stripeId,
  type: z.string().regex(/^[a-z0-9_.]{1,100}$/, 'must be a Stripe event type'),
  livemode: z.boolean().optional(),
  created: z.unknown().optional().transform((value) => (Number.isSafeInteger(value) ? (value as number) : null)),
});

const lineItemSchema = z.object({
  priceId: stripeId,
  quantity: z.number().int().min(1, 'must be 1..999999999').max(999_999_999, 'must be 1..999999999'),
});

function firstIssue(error: z.ZodError, prefix: string): string {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? [])].filter((part) => part !== '').join('.');
  return `${path || 'event'}: ${issue?.message ?? 'invalid'}`;
}

/** Walks the event without recursion (a hostile depth must not overflow the stack here either). */
function assertStorable(root: object): void {
  const pending: [value: unknown, depth: number][] = [[root, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, depth] = next;
    if (typeof value === 'string' && UNSTORABLE.test(value)) throw new StripeEventInvalid('invalid', `event_json: strings ${UNSTORABLE_MESSAGE}`);
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_EVENT_JSON_DEPTH) throw new StripeEventInvalid('invalid', `event_json: nested deeper than ${MAX_EVENT_JSON_DEPTH} levels`);
    for (const [key, child] of Object.entries(value)) pending.push([key, depth], [child, depth + 1]);
  }
}

function parseJson(json: string): unknown {
  if (json.length > MAX_EVENT_JSON_BYTES) throw new StripeEventInvalid('invalid', 'event_json: larger than 1 MiB');
  try {
    return JSON.parse(json);
  } catch {
    throw new StripeEventInvalid('not_json', 'event_json: not JSON');
  }
}

/** Which part of the envelope is missing; the messages are shown to the caller. */
function notAnEventMessage(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'body is not a JSON object';
  if (path[0] === 'data') return 'body is not a Stripe event: data.object required';
  return 'body is not a Stripe event: string id and type required';
}

/**
 * Decodes a Stripe event from its JSON text, with the line items fetched for its session (if
 * any). Throws StripeEventInvalid naming the field at fault; nothing else is trusted.
 */
export function decodeStripeEvent(json: string, lineItems: readonly LineItem[] = []): StripeEvent {
  const payload = parseJson(json);
  const envelope = stripeEventEnvelope.safeParse(payload);
  if (!envelope.success) throw new StripeEventInvalid('not_an_event', notAnEventMessage(envelope.error.issues[0]?.path ?? []));
  const event = eventSchema.safeParse(payload);
  if (!event.success) {
    const issue = event.error.issues[0];
    const field = { id: 'event_id', type: 'event_type' }[String(issue?.path[0])] ?? String(issue?.path[0]);
    throw new StripeEventInvalid('invalid', `${field}: ${issue?.message ?? 'invalid'}`);
  }
  assertStorable(payload as object);
  const object = envelope.data.data.object;
  let session: CheckoutSession | undefined;
  if (object.object === 'checkout.session') {
    const parsed = sessionSchema.safeParse(object);
    if (!parsed.success) throw new StripeEventInvalid('invalid', firstIssue(parsed.error, 'session'));
    const s = parsed.data;
    session = {
      id: s.id,
      status: s.status,
      paymentStatus: s.payment_status,
      mode: s.mode,
      clientReferenceId: s.client_reference_id,
      customer: s.customer,
      customerDetailsEmail: s.customer_details?.email ?? '',
      customerEmail: s.customer_email,
      metadata: s.metadata,
      amountTotal: s.amount_total,
      currency: s.currency,
      paymentIntent: s.payment_intent,
    };
  } else if (isCheckoutEventType(event.data.type)) {
    throw new StripeEventInvalid('invalid', `session: data.object of ${event.data.type} must be a checkout.session`);
  }
  const charge = object.object === 'charge' ? decodeCharge(object) : undefined;
  const dispute = object.object === 'dispute' ? decodeDispute(object) : undefined;
  if (event.data.type === 'charge.refunded' && !charge) {
    throw new StripeEventInvalid('invalid', 'charge: data.object of charge.refunded must be a charge');
  }
  if ((event.data.type === 'charge.dispute.created' || event.data.type === 'charge.dispute.closed') && !dispute) {
    throw new StripeEventInvalid('invalid', `dispute: data.object of ${event.data.type} must be a dispute`);
  }
  if (lineItems.length > MAX_LINE_ITEMS) throw new StripeEventInvalid('invalid', `line_items: at most ${MAX_LINE_ITEMS}`);
  const items = z.array(lineItemSchema).safeParse(lineItems);
  if (!items.success) throw new StripeEventInvalid('invalid', firstIssue(items.error, 'line_items'));
  return {
    id: event.data.id,
    type: event.data.type,
    livemode: event.data.livemode,
    created: event.data.created,
    session,
    ...(charge ? { charge } : {}),
    ...(dispute ? { dispute } : {}),
    lineItems: items.data,
    json,
  };
}

function decodeCharge(object: Record<string, unknown>): Charge {
  const parsed = chargeSchema.safeParse(object);
  if (!parsed.success) throw new StripeEventInvalid('invalid', firstIssue(parsed.error, 'charge'));
  const c = parsed.data;
  return { id: c.id, paymentIntent: c.payment_intent, amount: c.amount, amountRefunded: c.amount_refunded, refunded: c.refunded };
}

function decodeDispute(object: Record<string, unknown>): Dispute {
  const parsed = disputeSchema.safeParse(object);
  if (!parsed.success) throw new StripeEventInvalid('invalid', firstIssue(parsed.error, 'dispute'));
  const d = parsed.data;
  const charge = text.safeParse(expandableIdOf(d.charge));
  if (!charge.success) throw new StripeEventInvalid('invalid', firstIssue(charge.error, 'dispute.charge'));
  // An expanded charge names the PaymentIntent even when the dispute itself does not.
  return { id: d.id, charge: charge.data, paymentIntent: d.payment_intent || expandedPaymentIntent(d.charge), amount: d.amount, status: d.status };
}

/** The session whose line items the edge should fetch: one about to be credited. */
export function sessionAboutToBeCredited(event: StripeEvent): string | undefined {
  const session = event.session;
  const creditable = isCheckoutEventType(event.type) && session?.mode === 'payment' && isCreditablePaymentStatus(session.paymentStatus);
  return creditable ? session.id : undefined;
}
