import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { LEDGER_KINDS } from '../../credits/ports.js';

export const CreditTransaction = defineEntity({
  name: 'CreditTransaction',
  tableName: 'credit_transactions',
  properties: (p) => ({
    id: p.bigint('string').primary().autoincrement(),
    userId: p.bigint('string'),
    amount: p.bigint('string'),
    kind: p.enum([...LEDGER_KINDS]),
    /** Unique: one credit per Checkout Session; NULL for manual corrections. */
    checkoutSessionId: p.text().nullable().unique(),
    stripeEventId: p.text().nullable(),
    reason: p.text().nullable(),
    /** Who wrote the row: the operator of a manual correction. */
    createdBy: p.text().nullable(),
    /** The user's balance right after this row (backfilled for rows older than the column). */
    balanceAfter: p.bigint('string').nullable(),
    /** Unique: a spend's key, so a spend is taken once. */
    idempotencyKey: p.text().nullable().unique(),
    /** Unique: a capture's reservation, so a reservation is captured once. */
    reservationId: p.uuid().nullable().unique(),
    description: p.text().nullable(),
    metadata: p.json<Record<string, string>>().defaultRaw(`'{}'`),
    /** A purchase's PaymentIntent: how its refunds and disputes find it. */
    paymentIntent: p.text().nullable(),
    /** A refund's, dispute's or win's purchase row. */
    purchaseId: p.bigint('string').nullable(),
    stripeChargeId: p.text().nullable(),
    /** Unique per kind: a dispute is reversed once and won back once. */
    stripeDisputeId: p.text().nullable(),
    /** A refund's cumulative amount_refunded; unique with the charge. */
    refundedAmount: p.bigint('string').nullable(),
    /** Credits a reversal could not take (a win: did not give back, never taken). */
    shortfall: p.bigint('string').default('0'),
    createdAt: p.datetime().defaultRaw('now()'),
  }),
});

export type CreditTransaction = InferEntity<typeof CreditTransaction>;
