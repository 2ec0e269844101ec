import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_SECRET } from '../support/edge-harness';
import { hostileRequests, type HostileRequest } from '../support/hostile-requests';
import { assertInvariants } from '../support/invariants';
import { runConcurrently, scaled } from '../support/load';
import { sendRaw, type RawAnswer } from '../support/raw-http';
import { startReliabilityStack, type ReliabilityStack } from '../support/reliability-stack';
import { reliabilityRandom } from '../support/seeded-random';
import { checkoutDelivery, deliver, seededId } from '../support/webhook-traffic';

// Scenario 7 of issue 4: thousands of generated hostile requests at a real edge process in front of a real CreditsService process.
const random = reliabilityRandom('hostile input (scenario 7)');
let stack: ReliabilityStack;
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

beforeAll(async () => {
  stack = await startReliabilityStack({ name: 'hostile', edgeProcess: true });
}, 120_000);
afterAll(async () => {
  agent.destroy();
  await stack?.close();
}, 60_000);

async function tableCounts() {
  const { rows } = await stack.probe.sql.query<{ users: number; events: number; ledger: number }>(
    `SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM stripe_events) AS events,
            (SELECT count(*)::int FROM credit_transactions) AS ledger`,
  );
  return rows[0]!;
}

function outcomeOf(answer: RawAnswer): string | undefined {
  try {
    const body = JSON.parse(answer.body) as { outcome?: unknown };
    return typeof body.outcome === 'string' ? body.outcome : undefined;
  } catch {
    return undefined;
  }
}

describe('hostile input at the edge', { timeout: 170_000 }, () => {
  it('7. when thousands of hostile requests arrive, then no 5xx, no crash, no write but the recorded rejections, and a normal purchase still works', async () => {
    const generator = hostileRequests(random, WEBHOOK_SECRET);
    const requests: HostileRequest[] = [];
    const answers: RawAnswer[] = [];
    const before = await tableCounts();
    const started = performance.now();

    await runConcurrently(Array.from({ length: scaled(5_000, 5_000) }), 16, async () => {
      // Generated (and signed) just before it is sent, in the same order whatever the timing.
      const request = generator.next().value;
      const index = requests.push(request) - 1;
      request.emails.forEach((email) => stack.audit.rememberEmail(email));
      stack.audit.rememberSignature(request.signature);
      if (request.purchase) stack.record.expectPurchase(request.purchase);
      answers[index] = await sendRaw(stack.edgeUrl, agent, request);
    });

    const seconds = (performance.now() - started) / 1000;
    const byStatus: Record<number, number> = {};
    const findings = new Map<string, number>();
    requests.forEach((request, index) => {
      const answer = answers[index]!;
      byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
      if (!request.expect.includes(answer.status)) {
        const finding = `${request.category}: expected ${request.expect.join('|')}, got ${answer.status} ${answer.body.slice(0, 120)}`;
        findings.set(finding, (findings.get(finding) ?? 0) + 1);
      }
      if (request.event) {
        stack.record.sent(request.event.id, { sessionId: request.event.sessionId, creditable: Boolean(request.purchase) });
        stack.record.answered(request.event.id, { status: answer.status, outcome: outcomeOf(answer) });
      }
    });
    const categories = new Set(requests.map((request) => request.category.replace(/^redelivered: .*/, 'redelivered')));
    console.log(
      `[reliability] scenario 7: ${requests.length} requests in ${seconds.toFixed(1)} s over ${categories.size} categories; answers ${JSON.stringify(byStatus)}`,
    );

    expect([...findings].map(([finding, times]) => `${times}× ${finding}`)).toEqual([]);
    expect(Object.keys(byStatus).filter((status) => Number(status) >= 500 || Number(status) === 0)).toEqual([]);
    expect(stack.credits.every((service) => service.isRunning())).toBe(true);

    // What reached the database: only the rows the generator said each request may leave.
    const withEvent = requests.filter((request): request is HostileRequest & { event: NonNullable<HostileRequest['event']> } => Boolean(request.event));
    const forbidden = withEvent.filter((request) => request.event.stored === 'nothing').map((request) => request.event.id);
    const { rows: leaked } = await stack.probe.sql.query('SELECT event_id, status FROM stripe_events WHERE event_id = ANY($1::text[])', [forbidden]);
    expect(leaked).toEqual([]);
    const allowed = new Map(withEvent.filter((request) => request.event.stored !== 'nothing').map((request) => [request.event.id, request.event.stored as readonly string[]]));
    const { rows: stored } = await stack.probe.sql.query<{ event_id: string; status: string }>(
      'SELECT event_id, status FROM stripe_events WHERE event_id = ANY($1::text[])',
      [[...allowed.keys()]],
    );
    expect(stored.filter((row) => !allowed.get(row.event_id)!.includes(row.status))).toEqual([]);
    const purchases = requests.filter((request) => request.purchase).map((request) => request.purchase!);
    const after = await tableCounts();
    expect(after).toEqual({ users: before.users + purchases.length, events: before.events + allowed.size, ledger: before.ledger + purchases.length });

    // The system still serves a normal purchase, and every invariant holds.
    const email = `after-the-storm-${random.hex(10)}@reliability.example`;
    stack.audit.rememberEmail(email);
    const sessionId = seededId(random, 'cs');
    stack.record.expectPurchase({ sessionId, email, credits: 42 });
    expect(await deliver(stack.traffic, checkoutDelivery(random, { sessionId, email, credits: '42' }))).toEqual({ status: 200, outcome: 'applied' });
    await assertInvariants(stack.probe, stack.record);
  });

  it('9. the logs of this file hold no customer email, Stripe-Signature value or token', () => {
    expect(stack.audit.counts.signatures).toBeGreaterThan(1_000);
    expect(stack.audit.findLeaks()).toEqual([]);
  });
});
