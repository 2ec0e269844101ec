/**
 * Sends a signed Stripe Checkout event to the edge, as Stripe would.
 *   npx tsx scripts/send-test-event.ts --email buyer@example.com --credits 100
 * Signs with STRIPE_WEBHOOK_SECRET, or with the development secret `npm start` made under DATA_DIR.
 * Options: --url (default http://localhost:3000/webhooks/stripe), --type (default checkout.session.completed),
 * --payment-status (paid|unpaid|no_payment_required), --session cs_... (reuse one to send a second event of the
 * same purchase), --client-reference-id, --curl (print an equivalent curl command instead of sending).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Stripe from 'stripe';
import { developmentSecretPath } from '../src/edge/webhook-secrets';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://localhost:3000/webhooks/stripe' },
    type: { type: 'string', default: 'checkout.session.completed' },
    email: { type: 'string', default: 'buyer@example.com' },
    credits: { type: 'string', default: '100' },
    'payment-status': { type: 'string', default: 'paid' },
    'client-reference-id': { type: 'string' },
    session: { type: 'string' },
    curl: { type: 'boolean', default: false },
  },
});

// The edge's secret: STRIPE_WEBHOOK_SECRET, else the development secret `npm start` keeps under DATA_DIR.
function developmentSecret(): string | undefined {
  try {
    return readFileSync(developmentSecretPath(process.env.DATA_DIR || '.data'), 'utf8').trim();
  } catch {
    return undefined;
  }
}
const secret = process.env.STRIPE_WEBHOOK_SECRET?.split(',')[0]?.trim() || developmentSecret();
if (!secret) {
  console.error('set STRIPE_WEBHOOK_SECRET (the same whsec_… the edge uses), or start the edge once with `npm start`');
  process.exit(2);
}

const id = (prefix: string) => `${prefix}_test_${randomBytes(12).toString('hex')}`;
const now = Math.floor(Date.now() / 1000);
const event = {
  id: id('evt'),
  object: 'event',
  api_version: '2025-10-29.clover',
  created: now,
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  type: values.type,
  data: {
    object: {
      id: values.session ?? id('cs'),
      object: 'checkout.session',
      amount_subtotal: 2000,
      amount_total: 2000,
      client_reference_id: values['client-reference-id'] ?? null,
      created: now - 60,
      currency: 'usd',
      customer: null,
      customer_details: { email: values.email, name: null, phone: null, tax_exempt: 'none', tax_ids: [] },
      customer_email: null,
      expires_at: now + 86_400,
      livemode: false,
      metadata: { credits: values.credits },
      mode: 'payment',
      payment_intent: id('pi'),
      payment_status: values['payment-status'],
      status: 'complete',
      success_url: 'https://example.com/success',
      url: null,
    },
  },
};

const payload = JSON.stringify(event);
const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });

if (values.curl) {
  const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
  console.log(
    `curl -sS -X POST ${quote(values.url)} -H 'content-type: application/json' -H ${quote(`stripe-signature: ${signature}`)} --data-binary ${quote(payload)}`,
  );
} else {
  const response = await fetch(values.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
  console.log(`${response.status} ${await response.text()}  (event ${event.id})`);
  process.exitCode = response.ok ? 0 : 1;
}
