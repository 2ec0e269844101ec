/**
 * What the migrations (migrations/index.ts) create, as `verify` checks it.
 * Keep in step with the migrations: a new migration that changes the schema changes this file.
 */

export interface ExpectedColumn {
  /** information_schema data_type values accepted; an adopted legacy table may use the narrower one. */
  types: readonly string[];
  notNull?: boolean;
}

const TIMESTAMPTZ = ['timestamp with time zone'];

export const EXPECTED_TABLES: Record<string, Record<string, ExpectedColumn>> = {
  users: {
    // A legacy `users(id serial, email varchar(255))` keeps its column types when adopted.
    id: { types: ['bigint', 'integer'], notNull: true },
    uuid: { types: ['uuid'], notNull: true },
    email: { types: ['text', 'character varying'] },
    email_normalized: { types: ['text'] },
    credits_balance: { types: ['bigint'], notNull: true },
    created_at: { types: TIMESTAMPTZ, notNull: true },
    updated_at: { types: TIMESTAMPTZ, notNull: true },
  },
  stripe_events: {
    id: { types: ['bigint'], notNull: true },
    event_id: { types: ['text'], notNull: true },
    event_type: { types: ['text'], notNull: true },
    status: { types: ['text'], notNull: true },
    outcome: { types: ['text'] },
    error_message: { types: ['text'] },
    attempts: { types: ['integer'], notNull: true },
    checkout_session_id: { types: ['text'] },
    user_id: { types: ['bigint'] },
    payload: { types: ['jsonb'], notNull: true },
    line_items: { types: ['jsonb'] },
    received_at: { types: TIMESTAMPTZ, notNull: true },
    processed_at: { types: TIMESTAMPTZ },
    source: { types: ['text'], notNull: true },
    payment_intent: { types: ['text'] },
  },
  credit_transactions: {
    id: { types: ['bigint'], notNull: true },
    user_id: { types: ['bigint'], notNull: true },
    amount: { types: ['bigint'], notNull: true },
    kind: { types: ['text'], notNull: true },
    checkout_session_id: { types: ['text'] },
    stripe_event_id: { types: ['text'] },
    reason: { types: ['text'] },
    created_by: { types: ['text'] },
    created_at: { types: TIMESTAMPTZ, notNull: true },
    // Migration20261202000100_spending: rows older than it were backfilled; only hand-written rows lack it.
    balance_after: { types: ['bigint'] },
    idempotency_key: { types: ['text'] },
    reservation_id: { types: ['uuid'] },
    description: { types: ['text'] },
    metadata: { types: ['jsonb'], notNull: true },
    // Migration20261202000400_reversals: purchases remember their PaymentIntent; reversals name their purchase.
    payment_intent: { types: ['text'] },
    purchase_id: { types: ['bigint'] },
    stripe_charge_id: { types: ['text'] },
    stripe_dispute_id: { types: ['text'] },
    refunded_amount: { types: ['bigint'] },
    shortfall: { types: ['bigint'], notNull: true },
  },
  stripe_customers: {
    customer_id: { types: ['text'], notNull: true },
    user_id: { types: ['bigint'], notNull: true },
    created_at: { types: TIMESTAMPTZ, notNull: true },
  },
  credit_reservations: {
    id: { types: ['uuid'], notNull: true },
    user_id: { types: ['bigint'], notNull: true },
    amount: { types: ['bigint'], notNull: true },
    status: { types: ['text'], notNull: true },
    idempotency_key: { types: ['text'], notNull: true },
    description: { types: ['text'] },
    metadata: { types: ['jsonb'], notNull: true },
    expire_time: { types: TIMESTAMPTZ, notNull: true },
    created_at: { types: TIMESTAMPTZ, notNull: true },
    settled_at: { types: TIMESTAMPTZ },
    captured_amount: { types: ['bigint'] },
  },
};

export interface ExpectedConstraint {
  table: string;
  /** pg_constraint.contype: p primary key, u unique, c check, f foreign key. */
  type: 'p' | 'u' | 'c' | 'f';
  /** Exact name; primary and foreign keys are matched by table and columns, whatever their name. */
  name?: string;
  columns?: readonly string[];
  references?: string;
  why: string;
}

export const EXPECTED_CONSTRAINTS: readonly ExpectedConstraint[] = [
  { table: 'users', type: 'p', columns: ['id'], why: 'users primary key' },
  { table: 'users', type: 'c', name: 'users_credits_balance_non_negative', why: 'a balance is never negative' },
  { table: 'stripe_events', type: 'p', columns: ['id'], why: 'stripe_events primary key' },
  { table: 'stripe_events', type: 'u', name: 'stripe_events_event_id_key', why: 'one row per Stripe event' },
  { table: 'stripe_events', type: 'c', name: 'stripe_events_status_check', why: 'known event statuses only' },
  { table: 'stripe_events', type: 'c', name: 'stripe_events_attempts_positive', why: 'attempts counted from 1' },
  { table: 'stripe_events', type: 'c', name: 'stripe_events_source_check', why: 'an event came by webhook or by reconcile' },
  { table: 'credit_transactions', type: 'p', columns: ['id'], why: 'credit_transactions primary key' },
  { table: 'credit_transactions', type: 'u', name: 'credit_transactions_checkout_session_id_key', why: 'one credit per Checkout Session' },
  {
    table: 'credit_transactions',
    type: 'c',
    name: 'credit_transactions_kind_check',
    why: 'ledger kinds purchase, grant, revoke, spend, capture, refund, dispute, dispute_won',
  },
  {
    table: 'credit_transactions',
    type: 'c',
    name: 'credit_transactions_amount_sign',
    why: 'purchases and grants add; revokes, spends and captures take; refunds and disputes never add, wins never take',
  },
  { table: 'credit_transactions', type: 'c', name: 'credit_transactions_purchase_has_session', why: 'a purchase names its session' },
  { table: 'credit_transactions', type: 'f', columns: ['user_id'], references: 'users', why: 'ledger rows belong to users' },
  { table: 'credit_transactions', type: 'c', name: 'credit_transactions_correction_has_operator', why: 'a manual correction names its operator' },
  { table: 'stripe_customers', type: 'p', columns: ['customer_id'], why: 'a Stripe customer belongs to one user' },
  { table: 'stripe_customers', type: 'f', columns: ['user_id'], references: 'users', why: 'customer links belong to users' },
  { table: 'credit_transactions', type: 'u', name: 'credit_transactions_idempotency_key_key', why: 'one spend per idempotency key' },
  { table: 'credit_transactions', type: 'u', name: 'credit_transactions_reservation_id_key', why: 'one capture per reservation' },
  { table: 'credit_transactions', type: 'c', name: 'credit_transactions_spend_has_key', why: 'a spend names its idempotency key' },
  { table: 'credit_transactions', type: 'c', name: 'credit_transactions_capture_has_reservation', why: 'a capture names its reservation' },
  {
    table: 'credit_transactions',
    type: 'f',
    columns: ['reservation_id'],
    references: 'credit_reservations',
    why: 'captures belong to reservations',
  },
  { table: 'credit_transactions', type: 'c', name: 'credit_transactions_shortfall_check', why: 'only reversals record a shortfall, never negative' },
  { table: 'credit_transactions', type: 'c', name: 'credit_transactions_reversal_not_empty', why: 'a reversal row moves credits or records a shortfall' },
  { table: 'credit_transactions', type: 'c', name: 'credit_transactions_reversal_has_purchase', why: 'a reversal names its purchase and its Stripe event' },
  { table: 'credit_transactions', type: 'c', name: 'credit_transactions_refund_has_charge', why: 'a refund names its charge and cumulative amount' },
  { table: 'credit_transactions', type: 'c', name: 'credit_transactions_dispute_has_id', why: 'a dispute or its win names the dispute' },
  {
    table: 'credit_transactions',
    type: 'f',
    columns: ['purchase_id'],
    references: 'credit_transactions',
    why: 'reversals belong to purchases',
  },
  { table: 'credit_reservations', type: 'p', columns: ['id'], why: 'credit_reservations primary key' },
  { table: 'credit_reservations', type: 'f', columns: ['user_id'], references: 'users', why: 'reservations belong to users' },
  { table: 'credit_reservations', type: 'u', name: 'credit_reservations_idempotency_key_key', why: 'one reservation per idempotency key' },
  { table: 'credit_reservations', type: 'c', name: 'credit_reservations_amount_positive', why: 'a reservation holds at least one credit' },
  { table: 'credit_reservations', type: 'c', name: 'credit_reservations_status_check', why: 'reservation statuses held, captured, released, expired' },
  {
    table: 'credit_reservations',
    type: 'c',
    name: 'credit_reservations_captured_amount_check',
    why: 'a captured reservation took 1 up to its amount; others took nothing',
  },
  { table: 'credit_reservations', type: 'c', name: 'credit_reservations_settled_check', why: 'only a settled reservation has settled_at' },
];

export interface ExpectedIndex {
  name: string;
  table: string;
  unique: boolean;
  /** One of these must appear in pg_get_indexdef(), e.g. `(lower(email))`. */
  definition: readonly string[];
}

export const EXPECTED_INDEXES: readonly ExpectedIndex[] = [
  { name: 'users_uuid_key', table: 'users', unique: true, definition: ['(uuid)'] },
  { name: 'users_email_normalized_key', table: 'users', unique: true, definition: ['(email_normalized)'] },
  { name: 'stripe_customers_user_id_idx', table: 'stripe_customers', unique: false, definition: ['(user_id)'] },
  { name: 'stripe_events_status_received_at_idx', table: 'stripe_events', unique: false, definition: ['(status, received_at)'] },
  { name: 'stripe_events_checkout_session_id_idx', table: 'stripe_events', unique: false, definition: ['(checkout_session_id)'] },
  // Replaced credit_transactions_user_id_idx in Migration20261202000100_spending: it serves lookups by user and pages.
  { name: 'credit_transactions_user_id_id_idx', table: 'credit_transactions', unique: false, definition: ['(user_id, id)'] },
  { name: 'credit_transactions_created_at_idx', table: 'credit_transactions', unique: false, definition: ['(created_at)'] },
  { name: 'credit_transactions_refund_key', table: 'credit_transactions', unique: true, definition: ["(stripe_charge_id, refunded_amount) WHERE (kind = 'refund'::text)"] },
  { name: 'credit_transactions_dispute_key', table: 'credit_transactions', unique: true, definition: ["(stripe_dispute_id) WHERE (kind = 'dispute'::text)"] },
  {
    name: 'credit_transactions_dispute_won_key',
    table: 'credit_transactions',
    unique: true,
    definition: ["(stripe_dispute_id) WHERE (kind = 'dispute_won'::text)"],
  },
  { name: 'credit_transactions_payment_intent_idx', table: 'credit_transactions', unique: false, definition: ['(payment_intent)'] },
  { name: 'credit_transactions_purchase_id_idx', table: 'credit_transactions', unique: false, definition: ['(purchase_id)'] },
  { name: 'stripe_events_payment_intent_idx', table: 'stripe_events', unique: false, definition: ['(payment_intent)'] },
  {
    name: 'credit_reservations_held_idx',
    table: 'credit_reservations',
    unique: false,
    definition: ["(user_id, expire_time) WHERE (status = 'held'::text)"],
  },
];
