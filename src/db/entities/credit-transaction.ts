import { defineEntity, type InferEntity } from '@mikro-orm/core';

/** A purchase comes from Stripe; grants and revokes are support staff's corrections. */
export const LEDGER_KINDS = ['purchase', 'grant', 'revoke'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

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
    createdAt: p.datetime().defaultRaw('now()'),
  }),
});

export type CreditTransaction = InferEntity<typeof CreditTransaction>;
