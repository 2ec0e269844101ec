import { defineEntity, type InferEntity } from '@mikro-orm/core';

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: (p) => ({
    id: p.bigint('string').primary().autoincrement(),
    uuid: p.uuid().unique(),
    email: p.text().nullable(),
    creditsBalance: p.bigint('string').default(0),
    stripeCustomerId: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  }),
});

export type User = InferEntity<typeof User>;
