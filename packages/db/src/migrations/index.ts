import type { Migration } from 'kysely';
import * as m0001 from './0001-projection-checkpoints';
import * as m0002 from './0002-ledger-books';
import * as m0003 from './0003-registry-audit-books';
import * as m0004 from './0004-merkle';
import * as m0005 from './0005-books-lean-indexes';
import * as m0006 from './0006-notice-lines';
import * as m0007 from './0007-projector-quarantine-trace';
import * as m0009 from './0009-trace-probes-without-statistics';
import * as m0010 from './0010-household-trace-one-call';
import * as m0011 from './0011-payments-settle-in-place';
import * as m0012 from './0012-event-refs-recorded-at';
import * as m0013 from './0013-household-trace-edges';
import * as m0014 from './0014-projection-leases';

/**
 * Every migration, imported explicitly (no directory scan: the set is fixed at build time and
 * a typo is a type error). Keys sort in the order they run; append, never reorder or edit.
 */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-projection-checkpoints': m0001,
  '0002-ledger-books': m0002,
  '0003-registry-audit-books': m0003,
  '0004-merkle': m0004,
  '0005-books-lean-indexes': m0005,
  '0006-notice-lines': m0006,
  '0007-projector-quarantine-trace': m0007,
  // 0008 is reserved for a migration written in parallel; the migrator runs a later-registered
  // lower number where a higher one already ran (allowUnorderedMigrations, see ../migrate.ts).
  '0009-trace-probes-without-statistics': m0009,
  '0010-household-trace-one-call': m0010,
  '0011-payments-settle-in-place': m0011,
  '0012-event-refs-recorded-at': m0012,
  '0013-household-trace-edges': m0013,
  '0014-projection-leases': m0014,
});
