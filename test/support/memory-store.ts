import { CreditsError } from '../../src/credits/errors';
import { normalizeEmail, type Identifier } from '../../src/credits/identifiers';
import type { CreditsStore, EventDecision, EventStatus, LedgerEntry, LedgerRecord, ReversalKind, UnitOfWork, UserRecord } from '../../src/credits/ports';
import { isReversalEventType, type LineItem, type StripeEvent } from '../../src/contract/stripe-event';

interface StoredEvent {
  eventId: string;
  type: string;
  status: EventStatus;
  userId: string | null;
  attempts: number;
  lineItems: LineItem[] | null;
  outcome?: string;
  reason?: string;
  event: StripeEvent;
  paymentIntent: string | null;
}

const paymentIntentOf = (event: StripeEvent): string | null =>
  event.session?.paymentIntent || event.charge?.paymentIntent || event.dispute?.paymentIntent || null;

interface State {
  users: UserRecord[];
  events: Map<string, StoredEvent>;
  ledger: (LedgerEntry & { id: string })[];
  customers: Map<string, string>;
}

/**
 * The domain's ports in memory, for unit tests of its decisions: transactions run one at a time
 * and roll back by restoring a copy, the constraints PostgreSQL enforces are checked here too.
 */
export class MemoryStore implements CreditsStore {
  state: State = { users: [], events: new Map(), ledger: [], customers: new Map() };
  private queue: Promise<unknown> = Promise.resolve();
  private nextUserId = 1;

  addUser(email: string | null, balance = 0): UserRecord {
    const user = { id: String(this.nextUserId++), uuid: crypto.randomUUID(), email, creditsBalance: String(balance) };
    this.state.users.push(user);
    return user;
  }

  readonly users = {
    find: (identifier: Identifier) => Promise.resolve(this.find(identifier)),
    findBalance: async (identifier: Identifier) => {
      const user = this.find(identifier);
      return user && { user, held: '0' };
    },
  };

  readonly ledger = { page: () => Promise.reject(new Error('ledger pages are tested on PostgreSQL')) };

  transaction<T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const snapshot = structuredClone({ ...this.state, events: [...this.state.events], customers: [...this.state.customers] });
      try {
        return await work(this.unitOfWork());
      } catch (error) {
        this.state = { ...snapshot, events: new Map(snapshot.events), customers: new Map(snapshot.customers) };
        throw error;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private find(identifier: Identifier): UserRecord | undefined {
    const user = this.state.users.find((candidate) =>
      identifier.kind === 'uuid'
        ? candidate.uuid === identifier.value
        : identifier.kind === 'legacy_id'
          ? candidate.id === identifier.value
          : candidate.email !== null && normalizeEmail(candidate.email) === identifier.key,
    );
    return user && { ...user };
  }

  private user(id: string): UserRecord {
    const user = this.state.users.find((candidate) => candidate.id === id);
    if (!user) throw new Error(`no user ${id}`);
    return user;
  }

  private record(id: string, entry: LedgerEntry, user: UserRecord): LedgerRecord {
    return {
      id,
      userId: user.id,
      userUuid: user.uuid,
      kind: entry.kind,
      amount: String(entry.amount),
      balanceAfter: user.creditsBalance,
      createdAt: new Date(),
      checkoutSessionId: entry.checkoutSessionId ?? null,
      reason: entry.reason ?? null,
      createdBy: entry.createdBy ?? null,
      idempotencyKey: entry.idempotencyKey ?? null,
      reservationId: entry.reservationId ?? null,
      description: entry.description ?? null,
      metadata: entry.metadata ?? {},
      stripeChargeId: entry.stripeChargeId ?? null,
      stripeDisputeId: entry.stripeDisputeId ?? null,
      shortfall: String(entry.shortfall ?? 0),
    };
  }

  private reversalEvents(paymentIntent: string, status: EventStatus): StripeEvent[] {
    return [...this.state.events.values()]
      .filter((stored) => stored.paymentIntent === paymentIntent && stored.status === status && isReversalEventType(stored.type))
      .map((stored) => stored.event);
  }

  private unitOfWork(): UnitOfWork {
    return {
      users: {
        find: async (identifier) => this.find(identifier),
        findByStripeCustomer: async (customerId) => {
          const userId = this.state.customers.get(customerId);
          return userId === undefined ? undefined : { ...this.user(userId) };
        },
        findOrCreateByEmail: async (email) => this.find(email) ?? this.addUser(email.value),
        linkStripeCustomer: async (userId, customerId) => {
          const owner = this.state.customers.get(customerId);
          if (owner === undefined) this.state.customers.set(customerId, userId);
          return owner === undefined ? 'linked' : owner === userId ? 'already_linked' : 'linked_to_another_user';
        },
        lockBalance: async (userId) => BigInt(this.user(userId).creditsBalance),
        findForUpdate: async (identifier) => this.find(identifier),
        findBalance: async (identifier) => this.users.findBalance(identifier),
      },
      events: {
        claim: async (event) => {
          const lineItems = event.lineItems.length > 0 ? event.lineItems : null;
          const stored = this.state.events.get(event.id);
          if (stored) {
            stored.attempts++;
            stored.lineItems ??= lineItems;
            stored.paymentIntent ??= paymentIntentOf(event);
            return { status: stored.status, userId: stored.userId, lineItems: stored.lineItems, paymentIntent: stored.paymentIntent };
          }
          const paymentIntent = paymentIntentOf(event);
          this.state.events.set(event.id, { eventId: event.id, type: event.type, status: 'processing', userId: null, attempts: 1, lineItems, event, paymentIntent });
          return { status: 'processing', userId: null, lineItems, paymentIntent };
        },
        finish: async (eventId, decision: EventDecision) => {
          const stored = this.state.events.get(eventId)!;
          Object.assign(stored, { status: decision.status, outcome: decision.outcome, reason: decision.reason, userId: decision.userId });
          stored.paymentIntent ??= decision.paymentIntent || null;
        },
        recordRejection: async (event, message) => {
          const stored = this.state.events.get(event.id);
          if (stored && (stored.status === 'completed' || stored.status === 'ignored')) return;
          this.state.events.set(event.id, {
            eventId: event.id,
            type: event.type,
            status: 'failed',
            userId: null,
            attempts: (stored?.attempts ?? 0) + 1,
            lineItems: stored?.lineItems ?? (event.lineItems.length > 0 ? event.lineItems : null),
            outcome: 'rejected',
            reason: message,
            event,
            paymentIntent: stored?.paymentIntent ?? paymentIntentOf(event),
          });
        },
        appliedReversals: async (paymentIntent) => this.reversalEvents(paymentIntent, 'completed'),
        takePendingReversals: async (paymentIntent) =>
          this.reversalEvents(paymentIntent, 'pending').sort((a, b) => (a.created ?? Infinity) - (b.created ?? Infinity)),
      },
      ledger: {
        post: async (entry) => {
          if (entry.checkoutSessionId && this.state.ledger.some((row) => row.checkoutSessionId === entry.checkoutSessionId)) return undefined;
          const sameReversal = (row: LedgerEntry) =>
            row.kind === entry.kind &&
            (entry.kind === 'refund' ? row.stripeChargeId === entry.stripeChargeId && row.refundedAmount === entry.refundedAmount : row.stripeDisputeId === entry.stripeDisputeId);
          if ((entry.kind === 'refund' || entry.kind === 'dispute' || entry.kind === 'dispute_won') && this.state.ledger.some(sameReversal)) return undefined;
          const user = this.user(entry.userId);
          const balance = BigInt(user.creditsBalance) + BigInt(entry.amount);
          if (balance < 0n) throw new CreditsError('INSUFFICIENT_CREDITS', 'the balance would fall below zero');
          user.creditsBalance = balance.toString();
          const id = String(this.state.ledger.length + 1);
          this.state.ledger.push({ ...entry, id });
          return { entryId: id, user: { ...user }, entry: this.record(id, entry, user) };
        },
        findByIdempotencyKey: async () => undefined,
        findCapture: async () => undefined,
        page: async () => [],
        findPurchase: async (paymentIntent) => {
          const row = this.state.ledger.find((candidate) => candidate.kind === 'purchase' && candidate.paymentIntent === paymentIntent);
          if (!row) return undefined;
          const session = row.stripeEventId ? this.state.events.get(row.stripeEventId)?.event.session : undefined;
          return { id: row.id, userId: row.userId, credits: row.amount, paymentIntent, amountPaid: session?.amountTotal ?? null };
        },
        reversalsOf: async (purchaseId) =>
          this.state.ledger
            .filter((row) => row.purchaseId === purchaseId)
            .map((row) => ({ kind: row.kind as ReversalKind, amount: row.amount, shortfall: row.shortfall ?? 0 })),
        lockPaymentIntent: async () => {},
      },
      // Reservations are tested on PostgreSQL (credits-spending.test.ts); the checkout decision never touches them.
      reservations: {
        heldFor: async () => 0n,
        create: () => Promise.reject(new Error('not in memory')),
        findByIdempotencyKey: async () => undefined,
        find: async () => undefined,
        lock: async () => undefined,
        settle: () => Promise.reject(new Error('not in memory')),
        expireDue: async () => 0,
      },
    };
  }
}
