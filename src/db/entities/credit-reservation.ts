import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { RESERVATION_STATUSES } from '../../credits/ports.js';

export const CreditReservation = defineEntity({
  name: 'CreditReservation',
  tableName: 'credit_reservations',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    userId: p.bigint('string'),
    amount: p.bigint('string'),
    /** Stored status; a held row whose expire_time has passed reads as expired. */
    status: p.enum([...RESERVATION_STATUSES]).default('held'),
    /** Unique: a reservation is made once per key. */
    idempotencyKey: p.text().unique(),
    description: p.text().nullable(),
    metadata: p.json<Record<string, string>>().defaultRaw(`'{}'`),
    expireTime: p.datetime(),
    createdAt: p.datetime().defaultRaw('now()'),
    settledAt: p.datetime().nullable(),
    capturedAmount: p.bigint('string').nullable(),
  }),
});

export type CreditReservation = InferEntity<typeof CreditReservation>;
