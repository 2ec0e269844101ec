import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { call, startCreditsHarness, TEST_TOKEN, type CreditsHarness } from './support/credits-harness';
import { deliver, startEdge, WEBHOOK_SECRET, type EdgeHarness } from './support/edge-harness';
import { uniqueEmail } from './support/ops-seed';
import { applyCheckoutRequestFor, checkoutSession, stripeEvent } from './support/stripe-events';

// One source of truth for a Stripe event: CreditsService credits what the event JSON says, and
// only JSON that Stripe signed with our secret (forwarded by the edge), so a token alone cannot mint.
let h: CreditsHarness;
let edge: EdgeHarness;

beforeAll(async () => {
  h = await startCreditsHarness({ webhookSecrets: [WEBHOOK_SECRET], tokens: [{ name: 'edge', token: TEST_TOKEN, scopes: ['stripe:apply', 'credits:read', 'credits:spend'] }] });
  edge = await startEdge(h.address);
});
afterAll(async () => {
  await edge?.close();
  await h?.close();
});

const signed = (json: string, secret = WEBHOOK_SECRET) => Stripe.webhooks.generateTestHeaderString({ payload: json, secret });

function purchase(credits: string) {
  const email = uniqueEmail('forged');
  const event = stripeEvent('checkout.session.completed', checkoutSession({ email, metadata: { credits } }));
  return { email, event, json: JSON.stringify(event) };
}

/** The token the edge holds (scope stripe:apply), as whoever leaked it would send it. */
function edgeToken(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${TEST_TOKEN}`);
  return metadata;
}

async function apply(request: ReturnType<typeof applyCheckoutRequestFor>) {
  return call(h.client, h.client.ApplyCheckout, request, edgeToken());
}

async function stored(eventId: string): Promise<number> {
  const { rows } = await h.sql.query('SELECT count(*)::int AS n FROM stripe_events WHERE event_id = $1', [eventId]);
  return rows[0].n;
}

describe('ApplyCheckout with a token but without Stripe', () => {
  it('when the Stripe-Signature is missing, forged with another secret, or signs other JSON, then PERMISSION_DENIED and nothing is stored', async () => {
    const { event, json } = purchase('1000000');
    const other = purchase('1');
    for (const signature of ['', signed(json, 'whsec_not_ours_0123456789'), signed(other.json), 't=1,v1=00']) {
      const result = await apply({ ...applyCheckoutRequestFor(json), stripe_signature: signature });
      expect(!result.ok && [result.error.code, result.errorCode]).toEqual([grpc.status.PERMISSION_DENIED, 'STRIPE_SIGNATURE_INVALID']);
    }
    expect(await stored(event.id as string)).toBe(0);
  });

  it('when a signed event is sent with session fields that say more than its JSON, then it is refused and nothing is credited', async () => {
    const { event, json, email } = purchase('1');
    const request = applyCheckoutRequestFor(json);
    const inflated = { ...request, stripe_signature: signed(json), session: { ...request.session!, metadata: { credits: '1000000' } } };
    const result = await apply(inflated);
    expect(!result.ok && [result.error.code, result.errorCode]).toEqual([grpc.status.INVALID_ARGUMENT, 'REQUEST_INVALID']);
    expect(await stored(event.id as string)).toBe(0);
    const { rows } = await h.sql.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
    expect(rows[0].n).toBe(0);
  });

  it('when Stripe signed it and the edge forwards the signature, then it is credited, and the ledger row names the caller', async () => {
    const { email, event } = purchase('25');
    expect(await deliver(edge.url, event)).toMatchObject({ status: 200, body: { outcome: 'applied', creditsGranted: 25 } });
    const { rows } = await h.sql.query(
      `SELECT t.created_by FROM credit_transactions t JOIN users u ON u.id = t.user_id WHERE u.email = $1 AND t.kind = 'purchase'`,
      [email],
    );
    expect(rows).toEqual([{ created_by: 'edge' }]);
    const page = await call(h.client, h.client.ListTransactions, { identifier: email }, edgeToken());
    expect(page).toMatchObject({ ok: true, response: { transactions: [{ created_by: 'edge', amount: '25' }] } });
  });
});
