import { CreditsError } from './errors.js';

const CONFLICT_ATTEMPTS = 3;

/** Runs a transaction again when it lost a race (deadlock, serialization failure), up to three attempts in all. */
export async function retryConflicts<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (error instanceof CreditsError && error.code === 'TRANSACTION_CONFLICT' && attempt < CONFLICT_ATTEMPTS) continue;
      throw error;
    }
  }
}
