import Stripe from 'stripe';
import type { Purchase } from './invariants';
import type { Random } from './seeded-random';
import { checkoutSession, stripeEvent } from './stripe-events';
import { seededId } from './webhook-traffic';

/** What may be stored for the event a request carries. */
export type Stored = 'nothing' | readonly ('completed' | 'failed' | 'ignored' | 'pending')[];

/** One generated request and everything the edge may do with it. */
export interface HostileRequest {
  category: string;
  method: 'POST' | 'GET' | 'PUT' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Sent with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean;
  /** The statuses the edge may answer; anything else is a finding. */
  expect: readonly number[];
  event?: { id: string; stored: Stored; sessionId?: string };
  /** A valid purchase among the hostile ones (the only kind that may create users and ledger rows). */
  purchase?: Purchase;
  /** Emails and signature headers it carries, for the log audit. */
  emails: string[];
  signature?: string;
}

export const MAX_BODY_BYTES = 1024 * 1024;

const nowSeconds = () => Math.floor(Date.now() / 1000);

const BAD_AMOUNTS = [
  '0', '-5', '-0', '00', '010', '1.5', '0.5', '1e3', '0x10', '+7', '99999999999999999999', '1000001', '9007199254740993',
  'NaN', 'Infinity', '-Infinity', '１０', '٣', '5 credits', '1_000', '1,000', '1; DROP TABLE users; --', "' OR '1'='1", '100)--',
];
const WRONG_TYPED_AMOUNTS: unknown[] = [100, -5, 1.5, null, true, {}, [], ['100'], { value: '100' }];
const PLACEHOLDERS = ['', '   ', 'null', 'NULL', 'None', 'undefined', 'nil', '<user_id>', '<USER_UUID>', '{{USER_ID}}', '{{ customer.email }}', '<email>'];
const MALFORMED_IDS = [
  '0', '-1', '1.0', '9223372036854775808', '99999999999999999999999', '１２３', '12abc', 'abc',
  '123e4567-e89b-12d3-a456-42661417400', '123e4567-e89b-12d3-a456-4266141740000', 'g23e4567-e89b-12d3-a456-426614174000',
  "1' OR '1'='1", '1; DROP TABLE users; --', "'; DELETE FROM credit_transactions; --", '1 UNION SELECT * FROM users',
  '%27%20OR%201%3D1', '\\x00', '../../etc/passwd', '${jndi:ldap://x}', '__proto__', 'constructor',
];
// Invisible characters (a bidi override, a zero-width space) only serve to spoof an address: refused like malformed ones.
const MALFORMED_EMAILS = ['not-an-email', 'a@b', 'a b@example.com', '@example.com', 'a@@example.com', 'a@b.c@d.com', 'user@', "x'; DROP TABLE users;--", 'rtl\u202egro.elpmaxe@example.com', 'zero\u200bwidth@example.com'];
const SIGNATURE_HEADERS = ['', ' ', 't=', 'v1=', 't=abc,v1=def', 'garbage', ',,,,', '=,=,=', 't=-5,v1=00', 't=1e3,v1=zz', 'v1=abc,t=1', 't=1,t=2,v1=3', 'sha256=deadbeef', 'Bearer whsec_x'];
const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz', 'application/xml', 'application/octet-stream', 'application/json; charset=utf-16',
  'image/png', 'application/json, text/html', '*/*', '',
];
const IGNORED_TYPES = ['charge.succeeded', 'customer.created', 'invoice.paid', 'payment_intent.succeeded', 'checkout.session.expired', 'x.y', 'a', 'checkout.session.completed.v2', 'checkout_session_completed'];
const BAD_EVENT_IDS = ['{{EVENT_ID}}', '<evt>', 'evt 123', 'evt\t123', "evt_1'; DROP TABLE stripe_events; --", 'evt_ünïcode', 'évt_1', `evt_${'a'.repeat(300)}`, 'evt_1;', '../evt', 'evt_1\\u0041'];
const BAD_EVENT_TYPES = ['Checkout.Session.Completed', "checkout.session.completed' OR '1'='1", 'checkout session completed', `checkout.${'a'.repeat(100)}`, 'checkout.session.completed;', 'CHECKOUT.SESSION.COMPLETED', 'checkout.session.ünicode'];
const CHECKOUT_TYPES = ['checkout.session.completed', 'checkout.session.async_payment_succeeded'] as const;

/**
 * Hostile requests (and a few valid purchases among them) from the seeded generator, without end:
 * every answer and every stored row each may cause is decided here. Pulled one at a time just
 * before sending, so each signature is fresh however long the run; the sequence depends on the seed only.
 */
export function* hostileRequests(random: Random, secret: string): Generator<HostileRequest, never> {
  const storedSoFar: HostileRequest[] = [];
  const signedSoFar: string[] = [];

  const unicodeEmail = () =>
    random.pick([
      `jürgen.${random.hex(6)}@exämple.de`,
      `δοκιμή.${random.hex(6)}@παράδειγμα.δοκιμή`,
      `用户${random.hex(6)}@例子.广告`,
      `emoji😀${random.hex(6)}@example.com`,
      `ZAŻÓŁĆ.${random.hex(6)}@example.pl`,
      `e\u0301.${random.hex(6)}@example.com`,
      `admin'--${random.hex(6)}@example.com`,
      `"quoted;drop"${random.hex(6)}@example.com`,
    ]);
  const plainEmail = () => `hostile-${random.hex(10)}@reliability.example`;

  /** A complete checkout event; `credits` undefined leaves metadata empty. */
  const checkoutEvent = (options: { type?: string; email?: string | null; credits?: string; session?: Record<string, unknown> } = {}) => {
    const sessionId = seededId(random, 'cs');
    const session = checkoutSession({
      id: sessionId,
      email: options.email === undefined ? plainEmail() : options.email,
      metadata: options.credits === undefined ? {} : { credits: options.credits },
    });
    session.payment_intent = seededId(random, 'pi');
    Object.assign(session, options.session);
    const event = stripeEvent(options.type ?? random.pick(CHECKOUT_TYPES), session, seededId(random, 'evt'));
    return { event, sessionId, id: event.id as string };
  };

  const emailsIn = (value: unknown): string[] => JSON.stringify(value).match(/[^\s"{}:,[\]]+@[^\s"{}:,[\]]+/g) ?? [];

  const headersFor = (signature: string | undefined): Record<string, string> => {
    const contentType = random.pick(CONTENT_TYPES);
    return { ...(contentType ? { 'content-type': contentType } : {}), ...(signature === undefined ? {} : { 'stripe-signature': signature }) };
  };

  const signedHeader = (body: string, options: { secret?: string; timestamp?: number } = {}) =>
    Stripe.webhooks.generateTestHeaderString({ payload: body, secret: options.secret ?? secret, ...(options.timestamp ? { timestamp: options.timestamp } : {}) });

  /** A request whose body is signed with the real secret. */
  const signed = (category: string, body: string, rest: Omit<HostileRequest, 'category' | 'method' | 'path' | 'headers' | 'body' | 'emails'> & { emails?: string[] }): HostileRequest => {
    const signature = signedHeader(body);
    signedSoFar.push(signature);
    return { category, method: 'POST', path: '/webhooks/stripe', headers: headersFor(signature), body, signature, emails: rest.emails ?? [], ...rest };
  };

  /** A would-be purchase that only a broken signature check would let through. */
  const untrusted = (category: string, signature: (body: string) => string | undefined, bodyOf?: (body: string) => string): HostileRequest => {
    const { event, id, sessionId } = checkoutEvent({ credits: String(random.int(1, 500)) });
    const original = JSON.stringify(event);
    const header = signature(original);
    const body = bodyOf ? bodyOf(original) : original;
    return { category, method: 'POST', path: '/webhooks/stripe', headers: headersFor(header), body, signature: header, expect: [400], event: { id, stored: 'nothing', sessionId }, emails: emailsIn(event) };
  };

  const storedAs = (stored: Stored, id: string, sessionId?: string) => ({ id, stored, sessionId });

  const categories: [weight: number, build: () => HostileRequest][] = [
    // Signatures: every body here is a valid purchase, so a hole in verification would show as a write.
    [6, () => untrusted('signature missing', () => undefined)],
    [6, () => untrusted('signature with a random digest', () => `t=${nowSeconds()},v1=${random.hex(64)}`)],
    [4, () => untrusted('signature made with another secret', (body) => signedHeader(body, { secret: `whsec_attacker_${random.hex(16)}` }))],
    [5, () => untrusted('signature of another body (reused)', () => (signedSoFar.length ? random.pick(signedSoFar) : signedHeader('{}')))],
    [5, () => untrusted('signature too old', (body) => signedHeader(body, { timestamp: nowSeconds() - random.int(301, 30 * 86_400) }))],
    [5, () => untrusted('signature header malformed', () => random.pick(SIGNATURE_HEADERS))],
    [4, () => untrusted('body changed after signing', (body) => signedHeader(body), (body) => body.replace(/"credits":"\d+"/, '"credits":"999999"'))],

    // Signed bodies the edge itself cannot read as an event.
    [6, () => {
      const { event } = checkoutEvent({ credits: '10' });
      const json = JSON.stringify(event);
      return signed('truncated JSON', json.slice(0, random.int(1, json.length - 1)), { expect: [400], emails: emailsIn(event) });
    }],
    [2, () => {
      const depth = Math.round(10 ** (2 + random.next() * 3.5)); // 100 … 300,000 levels
      const body = random.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      return signed('deeply nested JSON body', body, { expect: [Buffer.byteLength(body) > MAX_BODY_BYTES ? 413 : 400] });
    }],
    [5, () => {
      const id = seededId(random, 'evt');
      const body = random.pick([
        'null', '42', '"evt"', 'true', '[]', '{}', `[{"id":"${id}"}]`,
        JSON.stringify({ id: 42, type: 'checkout.session.completed', data: { object: {} } }),
        JSON.stringify({ id, type: null, data: { object: {} } }),
        JSON.stringify({ id, type: ['checkout.session.completed'], data: { object: {} } }),
        JSON.stringify({ id, type: 'checkout.session.completed', data: 'object' }),
        JSON.stringify({ id, type: 'checkout.session.completed', data: { object: [] } }),
        JSON.stringify({ id, type: 'checkout.session.completed', data: { object: null } }),
        JSON.stringify({ id: '', type: 'checkout.session.completed', data: { object: {} } }),
        JSON.stringify({ id, type: '', data: { object: {} } }),
        // An event, but its object is not a Checkout Session: CreditsService refuses a checkout type without one.
        JSON.stringify({ id, type: 'checkout.session.completed', data: { object: { object: 'charge', id: 'ch_1' } } }),
      ]);
      return signed('JSON that is not a usable event', body, { expect: [400], event: storedAs('nothing', id) });
    }],
    [2, () => {
      const { event, id } = checkoutEvent({ credits: '10' });
      const json = JSON.stringify(event);
      const body = random.pick([`\ufeff${json}`, `${json}garbage`, `${json}${json}`, json.replaceAll('"', "'"), '', '\u0000', 'undefined', 'NaN']);
      return signed('garbage around or instead of JSON', body, { expect: [400], event: storedAs('nothing', id), emails: emailsIn(event) });
    }],
    [2, () => {
      const { event, id } = checkoutEvent({ credits: '10' });
      const request = signed('compressed body', JSON.stringify(event), { expect: [415], event: storedAs('nothing', id), emails: emailsIn(event) });
      request.headers['content-encoding'] = random.pick(['gzip', 'deflate', 'br', 'compress', 'x-unknown']);
      return request;
    }],
    [1, () => {
      const { event, id } = checkoutEvent({ credits: '10' });
      const padding = 'x'.repeat(MAX_BODY_BYTES + random.int(1, MAX_BODY_BYTES));
      const request = signed('body over 1 MiB', JSON.stringify({ ...event, padding }), { expect: [413], event: storedAs('nothing', id), emails: emailsIn(event) });
      request.chunked = random.chance(0.5);
      return request;
    }],

    // Signed events CreditsService refuses as INVALID_ARGUMENT: nothing may be stored.
    [5, () => {
      const { event } = checkoutEvent({ credits: '10' });
      const id = random.pick(BAD_EVENT_IDS);
      return signed('malformed event id', JSON.stringify({ ...event, id }), { expect: [400], event: storedAs('nothing', id), emails: emailsIn(event) });
    }],
    [3, () => {
      const { event, id } = checkoutEvent({ credits: '10' });
      return signed('malformed event type', JSON.stringify({ ...event, type: random.pick(BAD_EVENT_TYPES) }), { expect: [400], event: storedAs('nothing', id), emails: emailsIn(event) });
    }],
    [4, () => {
      const session = random.pick<Record<string, unknown>>([
        { id: 'cs_<script>alert(1)</script>' },
        { id: "cs_1' OR '1'='1" },
        { id: '' },
        { id: 42 },
        { id: `cs_${'a'.repeat(300)}` },
        { metadata: { credits: '10', ['k'.repeat(41)]: 'v' } },
        { metadata: { credits: '10', note: 'v'.repeat(501) } },
        { client_reference_id: 'c'.repeat(1025) },
        { customer: `cus_${'c'.repeat(1030)}` },
      ]);
      const { event, id } = checkoutEvent({ credits: '10', session });
      return signed('malformed Checkout Session field', JSON.stringify(event), { expect: [400], event: storedAs('nothing', id), emails: emailsIn(event) });
    }],
    [2, () => {
      const { event, id } = checkoutEvent({ credits: '10' });
      const depth = Math.round(10 ** (1.82 + random.next() * 3.4)); // 66 … 165,000 levels
      const json = JSON.stringify(event);
      const body = `${json.slice(0, -1)},"nested":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      return signed('deeply nested field in an event', body, { expect: [400], event: storedAs('nothing', id), emails: emailsIn(event) });
    }],
    [3, () => {
      const where = random.pick(['metadata value', 'email', 'unread field', 'key', 'surrogate']);
      const { event, id } = checkoutEvent({
        credits: '10',
        session: {
          ...(where === 'metadata value' ? { metadata: { credits: '10', note: 'a\u0000b' } } : {}),
          ...(where === 'email' ? { customer_email: `nul\u0000${random.hex(6)}@example.com` } : {}),
          ...(where === 'unread field' ? { locale: 'x\u0000' } : {}),
          ...(where === 'key' ? { ['a\u0000b']: 1 } : {}),
          ...(where === 'surrogate' ? { locale: `x\ud800${random.hex(4)}` } : {}),
        },
      });
      return signed('NUL or unpaired surrogate in an event', JSON.stringify(event), { expect: [400], event: storedAs('nothing', id), emails: emailsIn(event) });
    }],

    // Signed events that are answered 200 and stored as failed (rejected): amounts no purchase can have.
    [10, () => {
      const email = random.chance(0.5) ? unicodeEmail() : plainEmail();
      const key = random.pick(['credits', 'credits', 'credit_amount', 'credits_to_add']);
      const value = random.chance(0.8) ? random.pick(BAD_AMOUNTS) : random.pick(WRONG_TYPED_AMOUNTS);
      const { event, id, sessionId } = checkoutEvent({ email, session: { metadata: { [key]: value } } });
      return signed('bad credit amount', JSON.stringify(event), { expect: [200], event: storedAs(['failed'], id, sessionId), emails: [email] });
    }],
    // … and purchases that name nobody: placeholder, malformed or SQL-looking identifiers, no usable email.
    [8, () => {
      const identifier = () =>
        random.pick([
          ...PLACEHOLDERS, ...MALFORMED_IDS,
          `${random.hex(8)}-${random.hex(4)}-4${random.hex(3)}-a${random.hex(3)}-${random.hex(12)}`, // well-formed, but nobody's
          String(10n ** 15n + BigInt(random.int(1, 1e9))),
        ]);
      const details = random.pick([null, random.pick(PLACEHOLDERS), random.pick(MALFORMED_EMAILS)]);
      const { event, id, sessionId } = checkoutEvent({
        credits: String(random.int(1, 100)),
        email: details,
        session: {
          client_reference_id: random.chance(0.7) ? identifier() : null,
          customer_email: random.chance(0.5) ? random.pick([...PLACEHOLDERS, ...MALFORMED_EMAILS]) : null,
          customer: random.chance(0.3) ? seededId(random, 'cus') : null,
          metadata: { credits: String(random.int(1, 100)), ...(random.chance(0.5) ? { user_id: identifier() } : {}), ...(random.chance(0.3) ? { user_uuid: identifier() } : {}) },
        },
      });
      return signed('identifiers that resolve nobody', JSON.stringify(event), { expect: [200], event: storedAs(['failed'], id, sessionId), emails: emailsIn(event) });
    }],
    // Wrong JSON types in the session: each has one documented outcome.
    [5, () => {
      const variant = random.int(0, 5);
      const email = plainEmail();
      const wrong = random.pick<unknown>([42, true, null, {}, [], 'x']);
      const variants: [session: Record<string, unknown>, stored: Stored, credits: string | undefined][] = [
        [{ payment_status: random.pick<unknown>([42, true, null, {}, []]) }, ['ignored'], '10'],
        [{ mode: random.pick<unknown>([42, null, [], {}]) }, ['ignored'], '10'],
        [{ metadata: random.pick<unknown>(['credits=10', ['10'], null, 42, true]) }, ['failed'], undefined],
        [{ customer_details: random.pick<unknown>([email, 42, [], 'x']), customer_email: null }, ['failed'], '10'],
        [{ customer_email: wrong, customer_details: { email: wrong } }, ['failed'], '10'],
        [{ amount_total: random.pick<unknown>(['lots', -1, 1e308, null]), currency: wrong, created: 'yesterday' }, ['failed'], random.pick(BAD_AMOUNTS)],
      ];
      const [session, stored, credits] = variants[variant]!;
      const { event, id, sessionId } = checkoutEvent({ email: variant === 3 || variant === 4 ? null : email, credits, session });
      return signed(`wrong JSON types (${Object.keys(session)[0]})`, JSON.stringify(event), { expect: [200], event: storedAs(stored, id, sessionId), emails: emailsIn(event) });
    }],
    // Events nobody handles, subscriptions and unpaid sessions: 200, stored as ignored or pending.
    [4, () => {
      const variant = random.int(0, 2);
      if (variant === 0) {
        const event = stripeEvent(random.pick(IGNORED_TYPES), { object: 'charge', id: seededId(random, 'ch') }, seededId(random, 'evt'));
        return signed('event type nobody handles', JSON.stringify(event), { expect: [200], event: storedAs(['ignored'], event.id as string) });
      }
      const { event, id, sessionId } = checkoutEvent(
        variant === 1
          ? { credits: '10', session: { mode: random.pick(['subscription', 'setup', 'PAYMENT', 'payment ']) } }
          : { type: 'checkout.session.completed', credits: random.pick(BAD_AMOUNTS), session: { payment_status: 'unpaid' } },
      );
      return signed(variant === 1 ? 'not a payment' : 'unpaid session', JSON.stringify(event), { expect: [200], event: storedAs(variant === 1 ? ['ignored'] : ['pending'], id, sessionId), emails: emailsIn(event) });
    }],
    [0.4, () => {
      const { event, id, sessionId } = checkoutEvent({ credits: random.pick(BAD_AMOUNTS) });
      const padding = 'p'.repeat(MAX_BODY_BYTES - JSON.stringify(event).length - random.int(100, 50_000));
      return signed('body just under 1 MiB', JSON.stringify({ ...event, padding }), { expect: [200], event: storedAs(['failed'], id, sessionId), emails: emailsIn(event) });
    }],
    // Stripe-style redelivery of something already stored: same answer class, same stored status.
    [3, () => {
      if (storedSoFar.length === 0) return untrusted('signature missing', () => undefined);
      const original = random.pick(storedSoFar);
      return signed(`redelivered: ${original.category}`, original.body!, { expect: original.expect, event: original.event, emails: original.emails });
    }],

    // Requests that are not webhooks at all.
    [2, () => {
      const [method, path] = random.pick<[HostileRequest['method'], string]>([
        ['GET', '/webhooks/stripe'], ['PUT', '/webhooks/stripe'], ['DELETE', '/webhooks/stripe'], ['POST', '/webhooks'],
        ['POST', '/webhooks/stripe/other'], ['POST', '/%2e%2e/%2e%2e/etc/passwd'], ['POST', '/admin'], ['GET', "/users?id=1'%20OR%20'1'='1"],
      ]);
      const body = method === 'GET' ? undefined : JSON.stringify(checkoutEvent({ credits: '10', email: null }).event);
      return { category: 'no such route', method, path, headers: headersFor(undefined), body, expect: [404], emails: [] };
    }],

    // A few real purchases in the middle of it all, some by unicode emails and through an alias path.
    [3, () => {
      const email = random.chance(0.5) ? unicodeEmail() : plainEmail();
      const credits = random.int(1, 500);
      const { event, id, sessionId } = checkoutEvent({ email, credits: String(credits) });
      const request = signed('valid purchase', JSON.stringify(event), { expect: [200], event: storedAs(['completed'], id, sessionId), emails: [email], purchase: { sessionId, email, credits } });
      request.path = random.pick(['/webhooks/stripe', '/webhooks/stripe/hotfix', '/api/stripe/webhook/hotfix']);
      return request;
    }],
  ];

  const totalWeight = categories.reduce((sum, [weight]) => sum + weight, 0);
  for (;;) {
    let roll = random.next() * totalWeight;
    const [, build] = categories.find(([weight]) => (roll -= weight) < 0) ?? categories[0]!;
    const request = build();
    if (request.event && request.event.stored !== 'nothing' && !request.category.startsWith('redelivered')) storedSoFar.push(request);
    yield request;
  }
}
