import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCreditsClient, type CreditsServiceClient } from '../../src/grpc/client';
import type { ApplyCheckoutRequest } from '../../src/contract/generated/credits/v1/ApplyCheckoutRequest';
import { call, TEST_TOKEN } from '../support/credits-harness';
import { assertInvariants } from '../support/invariants';
import { startReliabilityStack, type ReliabilityStack } from '../support/reliability-stack';
import { reliabilityRandom } from '../support/seeded-random';
import { checkoutDelivery, deliver, seededId } from '../support/webhook-traffic';
import { applyCheckoutRequestFor } from '../support/stripe-events';

// Scenario 8 of issue 4: CreditsService (a real process) refuses malformed and unauthenticated calls, and writes nothing.
const random = reliabilityRandom('gRPC malformed and unauthenticated calls (scenario 8)');
let stack: ReliabilityStack;
let client: CreditsServiceClient;
let anonymous: CreditsServiceClient;
let buyer: { email: string; uuid: string; id: string };

beforeAll(async () => {
  stack = await startReliabilityStack({ name: 'grpc' });
  client = createCreditsClient(stack.credits[0]!.url, { token: TEST_TOKEN });
  anonymous = createCreditsClient(stack.credits[0]!.url);
  // One real purchase, so there is a user and a balance that must not change.
  const email = `grpc-${random.hex(10)}@reliability.example`;
  stack.audit.rememberEmail(email);
  const sessionId = seededId(random, 'cs');
  stack.record.expectPurchase({ sessionId, email, credits: 40 });
  await deliver(stack.traffic, checkoutDelivery(random, { sessionId, email, credits: '40' }));
  const { rows } = await stack.probe.sql.query('SELECT id, uuid FROM users WHERE email = $1', [email]);
  buyer = { email, ...rows[0] };
}, 120_000);
afterAll(async () => {
  client?.close();
  anonymous?.close();
  await stack?.close();
}, 60_000);

/** Every row of every table, hashed: equal before and after means nothing was written. */
async function fingerprint(): Promise<string> {
  const { rows } = await stack.probe.sql.query<{ digest: string }>(`
    SELECT md5(concat_ws('|',
      (SELECT string_agg(u::text, ',' ORDER BY id) FROM users u),
      (SELECT string_agg(e::text, ',' ORDER BY id) FROM stripe_events e),
      (SELECT string_agg(t::text, ',' ORDER BY id) FROM credit_transactions t))) AS digest`);
  return rows[0]!.digest;
}

/** A valid, creditable ApplyCheckout request for a new purchase: it would write if it were let through. */
function validRequest(): ApplyCheckoutRequest {
  const email = `would-be-${random.hex(10)}@reliability.example`;
  stack.audit.rememberEmail(email);
  const delivery = checkoutDelivery(random, { sessionId: seededId(random, 'cs'), email, credits: '25' });
  return applyCheckoutRequestFor(delivery.payload);
}

type Mutation = [label: string, mutate: (request: ApplyCheckoutRequest) => ApplyCheckoutRequest];

const session = (request: ApplyCheckoutRequest, fields: Record<string, unknown>): ApplyCheckoutRequest => ({
  ...request,
  session: { ...request.session!, ...fields },
});

const MALFORMED_CHECKOUTS: Mutation[] = [
  ['no event id', (r) => ({ ...r, event_id: '' })],
  ['placeholder event id', (r) => ({ ...r, event_id: '{{EVENT_ID}}' })],
  ['event id with spaces', (r) => ({ ...r, event_id: 'evt 123' })],
  ['event id with SQL', (r) => ({ ...r, event_id: "evt_1'; DROP TABLE stripe_events; --" })],
  ['non-ASCII event id', (r) => ({ ...r, event_id: 'evt_ünïcode' })],
  ['event id of 300 characters', (r) => ({ ...r, event_id: `evt_${'a'.repeat(296)}` })],
  ['event type in capitals', (r) => ({ ...r, event_type: 'Checkout.Session.Completed' })],
  ['event type with SQL', (r) => ({ ...r, event_type: "checkout.session.completed' OR '1'='1" })],
  ['no event type', (r) => ({ ...r, event_type: '' })],
  ['checkout event without a session', (r) => ({ ...r, session: null })],
  ['session id with markup', (r) => session(r, { id: 'cs_<script>' })],
  ['empty session id', (r) => session(r, { id: '' })],
  ['metadata key of 41 characters', (r) => session(r, { metadata: { ['k'.repeat(41)]: '1', credits: '5' } })],
  ['metadata value of 501 characters', (r) => session(r, { metadata: { credits: '5', note: 'v'.repeat(501) } })],
  ['client_reference_id of 1025 characters', (r) => session(r, { client_reference_id: 'c'.repeat(1025) })],
  ['email of 1025 characters', (r) => session(r, { customer_email: `${'e'.repeat(1013)}@example.com` })],
  ['line item quantity 0', (r) => ({ ...r, line_items: [{ price_id: 'price_pack_100', quantity: '0' }] })],
  ['line item quantity -1', (r) => ({ ...r, line_items: [{ price_id: 'price_pack_100', quantity: '-1' }] })],
  ['line item quantity of 10 digits', (r) => ({ ...r, line_items: [{ price_id: 'price_pack_100', quantity: '1000000000' }] })],
  ['line item price id with SQL', (r) => ({ ...r, line_items: [{ price_id: "price' OR 1=1 --", quantity: '1' }] })],
  ['101 line items', (r) => ({ ...r, line_items: Array.from({ length: 101 }, () => ({ price_id: 'price_pack_100', quantity: '1' })) })],
  ['event_json not JSON', (r) => ({ ...r, event_json: '{"id": "evt_' })],
  ['event_json an array', (r) => ({ ...r, event_json: '[]' })],
  ['event_json of another event', (r) => ({ ...r, event_json: JSON.stringify({ id: 'evt_other', type: r.event_type }) })],
  ['event_json over 1 MiB', (r) => ({ ...r, event_json: JSON.stringify({ id: r.event_id, pad: 'x'.repeat(1024 * 1024) }) })],
  ['event_json nested 10,000 deep', (r) => ({ ...r, event_json: `{"id":${JSON.stringify(r.event_id)},"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}` })],
  ['event_json with a NUL character', (r) => ({ ...r, event_json: JSON.stringify({ ...JSON.parse(r.event_json!), note: 'a\u0000b' }) })],
  ['event_json with a lone surrogate', (r) => ({ ...r, event_json: JSON.stringify({ ...JSON.parse(r.event_json!), note: 'a\ud800b' }) })],
  ['email with a NUL character', (r) => session(r, { customer_email: 'nul\u0000byte@example.com', customer_details: { email: '' } })],
];

const MALFORMED_IDENTIFIERS: [label: string, identifier: string, code: string][] = [
  ['empty', '', 'IDENTIFIER_PLACEHOLDER'],
  ['blank', '   ', 'IDENTIFIER_PLACEHOLDER'],
  ['template', '{{user_id}}', 'IDENTIFIER_PLACEHOLDER'],
  ['angle placeholder', '<USER_ID>', 'IDENTIFIER_PLACEHOLDER'],
  ['null', 'null', 'IDENTIFIER_PLACEHOLDER'],
  ['None', 'None', 'IDENTIFIER_PLACEHOLDER'],
  ['undefined', 'undefined', 'IDENTIFIER_PLACEHOLDER'],
  ['zero', '0', 'IDENTIFIER_INVALID'],
  ['negative', '-1', 'IDENTIFIER_INVALID'],
  ['2^63', '9223372036854775808', 'IDENTIFIER_INVALID'],
  ['fraction', '1.5', 'IDENTIFIER_INVALID'],
  ['fullwidth digits', '１２３', 'IDENTIFIER_INVALID'],
  ['UUID missing a digit', '123e4567-e89b-12d3-a456-42661417400', 'IDENTIFIER_INVALID'],
  ['email without a dot', 'someone@localhost', 'IDENTIFIER_INVALID'],
  ['email with a space', 'some one@example.com', 'IDENTIFIER_INVALID'],
  ['email over 254 characters', `${'a'.repeat(250)}@example.com`, 'IDENTIFIER_INVALID'],
  ['SQL', "1' OR '1'='1", 'IDENTIFIER_INVALID'],
  ['SQL comment', '1; DROP TABLE users; --', 'IDENTIFIER_INVALID'],
  ['email with a NUL character', 'nul\u0000byte@example.com', 'IDENTIFIER_INVALID'],
];

describe('gRPC calls that must be refused', { timeout: 120_000 }, () => {
  it('8a. when ApplyCheckout is malformed, then INVALID_ARGUMENT (REQUEST_INVALID) and nothing is written', async () => {
    const before = await fingerprint();
    const refused: string[] = [];
    for (const [label, mutate] of MALFORMED_CHECKOUTS) {
      const result = await call(client, client.ApplyCheckout, mutate(validRequest()), new Metadata());
      if (result.ok || result.error.code !== status.INVALID_ARGUMENT || result.errorCode !== 'REQUEST_INVALID') {
        refused.push(`${label}: ${result.ok ? `OK ${(result.response as { outcome?: string }).outcome}` : `${status[result.error.code]} ${result.errorCode}`}`);
      }
    }
    expect(refused).toEqual([]);
    expect(await fingerprint()).toBe(before);
    await assertInvariants(stack.probe, stack.record);
  });

  it('8b. when ResolveUser or GetBalance get a malformed identifier, then INVALID_ARGUMENT with its code, and nothing is written', async () => {
    const before = await fingerprint();
    const wrong: string[] = [];
    for (const [label, identifier, code] of MALFORMED_IDENTIFIERS) {
      for (const method of [client.ResolveUser, client.GetBalance] as const) {
        const result = await call(client, method as typeof client.GetBalance, { identifier }, new Metadata());
        if (result.ok || result.error.code !== status.INVALID_ARGUMENT || result.errorCode !== code) {
          wrong.push(`${label}: ${result.ok ? 'OK' : `${status[result.error.code]} ${result.errorCode}`}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // The well-formed ones still work, so the refusals above are not an outage.
    for (const identifier of [buyer.email, buyer.email.toUpperCase(), buyer.uuid, buyer.id]) {
      const result = await call(client, client.GetBalance, { identifier }, new Metadata());
      expect(result).toMatchObject({ ok: true, response: { balance: '40', user_id: buyer.uuid } });
    }
    expect(await fingerprint()).toBe(before);
    await assertInvariants(stack.probe, stack.record);
  });

  it('8c. when the token is missing or wrong, then UNAUTHENTICATED for every method, and nothing is written', async () => {
    const before = await fingerprint();
    const wrongTokens = [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `Bearer ${TEST_TOKEN}x`,
      `Bearer ${TEST_TOKEN.slice(0, -1)}`,
      `Bearer ${TEST_TOKEN.toUpperCase()}`,
      `Basic ${Buffer.from(`user:${TEST_TOKEN}`).toString('base64')}`,
      TEST_TOKEN,
      `Bearer wrong-token-${random.hex(16)}`,
      `Bearer ${'t'.repeat(4096)}`,
    ];
    const accepted: string[] = [];
    for (const [index, authorization] of wrongTokens.entries()) {
      if (authorization) stack.audit.rememberToken(authorization.replace(/^(Bearer|Basic) ?/, '') || authorization);
      const metadata = () => {
        const m = new Metadata();
        if (authorization !== undefined) m.set('authorization', authorization);
        return m;
      };
      // An empty value, or a scheme with nothing after it, is as good as no token.
      const expectedCodes = authorization?.replace(/^Bearer\s*$/, '') ? ['AUTH_TOKEN_INVALID'] : ['AUTH_TOKEN_MISSING', 'AUTH_TOKEN_INVALID'];
      const results = [
        await call(anonymous, anonymous.ApplyCheckout, validRequest(), metadata()),
        // Refused before it is read: a malformed request without a valid token is still UNAUTHENTICATED.
        await call(anonymous, anonymous.ApplyCheckout, { ...validRequest(), event_id: '{{EVENT_ID}}' }, metadata()),
        await call(anonymous, anonymous.ResolveUser, { identifier: buyer.email }, metadata()),
        await call(anonymous, anonymous.GetBalance, { identifier: buyer.uuid }, metadata()),
      ];
      for (const result of results) {
        if (result.ok || result.error.code !== status.UNAUTHENTICATED || !expectedCodes.includes(result.errorCode ?? '')) {
          accepted.push(`token #${index}: ${result.ok ? 'OK' : `${status[result.error.code]} ${result.errorCode}`}`);
        }
      }
    }
    expect(accepted).toEqual([]);
    expect(await fingerprint()).toBe(before);
    await assertInvariants(stack.probe, stack.record);
  });

  it('9a. when the database fails unexpectedly, then the edge answers 503, the log names the failure without its SQL values, and a redelivery applies', async () => {
    const email = `unexpected-${random.hex(10)}@reliability.example`;
    stack.audit.rememberEmail(email);
    const sessionId = seededId(random, 'cs');
    stack.record.expectPurchase({ sessionId, email, credits: 7 });
    const delivery = checkoutDelivery(random, { sessionId, email, credits: '7' });
    // Schema drift an operator might cause: every new event row now violates a constraint.
    await stack.probe.sql.query('ALTER TABLE stripe_events ADD CONSTRAINT reliability_refuse_all CHECK (false) NOT VALID');
    try {
      expect((await deliver(stack.traffic, delivery)).status).toBe(503);
    } finally {
      await stack.probe.sql.query('ALTER TABLE stripe_events DROP CONSTRAINT reliability_refuse_all');
    }
    const failure = stack.credits[0]!.output().split('\n').find((line) => line.includes('unexpected failure'));
    expect(JSON.parse(failure ?? '{}')).toMatchObject({ err: { type: 'CheckConstraintViolationException', sqlState: '23514', constraint: 'reliability_refuse_all' } });
    expect(await deliver(stack.traffic, delivery)).toEqual({ status: 200, outcome: 'applied' });
    await assertInvariants(stack.probe, stack.record);
  });

  it('9. the logs of this file hold no customer email, Stripe-Signature value or token', () => {
    expect(stack.audit.findLeaks()).toEqual([]);
  });
});
