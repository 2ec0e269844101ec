import { defineEntity, type InferEntity } from '@mikro-orm/core';

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: (p) => ({
    id: p.bigint('string').primary().autoincrement(),
    uuid: p.uuid().unique(),
    email: p.text().nullable(),
    creditsBalance: p.bigint('string').default(0),
    /** The identity compared when looking a user up by email (credits/identifiers.ts normalizeEmail). */
    emailNormalized: p.text().nullable().unique(),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  }),
});

export type User = InferEntity<typeof User>;
