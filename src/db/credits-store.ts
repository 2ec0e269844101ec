import type { CreditsStore, UnitOfWork } from '../credits/ports.js';
import { translateDatabaseErrors } from './errors.js';
import { eventRepository } from './event-repository.js';
import { ledger } from './ledger.js';
import type { EntityManager, MikroORM } from './orm.js';
import { reservationRepository } from './reservation-repository.js';
import { userRepository } from './user-repository.js';

function unitOfWork(em: EntityManager): UnitOfWork {
  return { users: userRepository(em), events: eventRepository(em), ledger: ledger(em), reservations: reservationRepository(em) };
}

/** The domain's store on PostgreSQL: each transaction is one MikroORM unit of work (em.transactional forks). */
export function createCreditsStore(orm: MikroORM): CreditsStore {
  const reads = userRepository(orm.em);
  const ledgerReads = ledger(orm.em);
  return {
    transaction: (work) => translateDatabaseErrors(() => orm.em.transactional((em) => work(unitOfWork(em)))),
    users: {
      find: (identifier) => translateDatabaseErrors(() => reads.find(identifier)),
      findBalance: (identifier) => translateDatabaseErrors(() => reads.findBalance(identifier)),
    },
    ledger: { page: (userId, options) => translateDatabaseErrors(() => ledgerReads.page(userId, options)) },
  };
}
