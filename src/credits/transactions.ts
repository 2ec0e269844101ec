import { CreditsError } from './errors.js';
import type { CreditsStore, LedgerRecord } from './ports.js';
import { parsePageSize } from './spending-input.js';
import { resolveUser } from './users.js';

export interface ListTransactionsRequest {
  identifier: string;
  /** 0 means 50; above 500 means 500. */
  pageSize?: number;
  /** Empty for the first page. */
  pageToken?: string;
}

export interface TransactionPage {
  /** Newest first. */
  transactions: LedgerRecord[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/*
 * A page token is base64url of `v1:<user id>:<last id>`: the listing continues below the last
 * ledger id shown (keyset pagination). One user's ledger ids grow in commit order (the ledger
 * writer locks the user's row before it takes an id), so a row committed while a caller pages
 * always has a higher id than every row already shown: it appears on a fresh first page and
 * never shifts, skips or repeats a row of the pages being read.
 */
const TOKEN_VERSION = 'v1';
const TOKEN = /^v1:([1-9][0-9]{0,18}):([1-9][0-9]{0,18})$/;

export function encodePageToken(userId: string, lastId: string): string {
  return Buffer.from(`${TOKEN_VERSION}:${userId}:${lastId}`, 'utf8').toString('base64url');
}

/** The ledger id the next page starts below; a token of another user's listing is refused. */
export function decodePageToken(token: string, userId: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const match = TOKEN.exec(text);
  // Decoding is lenient; a token is valid only if it is exactly what encodePageToken makes.
  if (!match || encodePageToken(match[1]!, match[2]!) !== token) {
    throw new CreditsError('REQUEST_INVALID', 'page_token is not a token ListTransactions returned; start again without one');
  }
  if (match[1] !== userId) throw new CreditsError('REQUEST_INVALID', 'page_token was returned for another identifier; pass the same identifier');
  return match[2]!;
}

/** What a row refers to, by kind: the Checkout Session, the idempotency key, the reservation, the reason, the charge or the dispute. */
export function referenceOf(row: LedgerRecord): string {
  switch (row.kind) {
    case 'purchase':
      return row.checkoutSessionId ?? '';
    case 'spend':
      return row.idempotencyKey ?? '';
    case 'capture':
      return row.reservationId ?? '';
    case 'grant':
    case 'revoke':
      return row.reason ?? '';
    case 'refund':
      return row.stripeChargeId ?? '';
    case 'dispute':
    case 'dispute_won':
      return row.stripeDisputeId ?? '';
  }
}

/** One page of a user's ledger, newest first. */
export async function listTransactions(store: CreditsStore, request: ListTransactionsRequest): Promise<TransactionPage> {
  const pageSize = parsePageSize(request.pageSize ?? 0);
  const { user } = await resolveUser(store.users, request.identifier);
  const beforeId = request.pageToken ? decodePageToken(request.pageToken, user.id) : undefined;
  // One row more than asked tells whether another page follows.
  const rows = await store.ledger.page(user.id, { beforeId, limit: pageSize + 1 });
  const transactions = rows.slice(0, pageSize);
  const last = transactions.at(-1);
  return { transactions, nextPageToken: rows.length > pageSize && last ? encodePageToken(user.id, last.id) : '' };
}
