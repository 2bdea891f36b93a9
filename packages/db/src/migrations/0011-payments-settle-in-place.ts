import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only
// 'kysely' and never names a schema: the runner sets search_path to the target schema.
//
// Issue 5 (household trace at 1,000,000 payments, decision 0057). A payment row is written twice:
// instructed, then updated to the bank's answer (settled or returned) by a later batch. With
// pages filled to 100 % the new version went to another page, so every settlement added an entry
// to each of the table's four indexes and left the household's index pointing at two pages per
// payment (the dead version and the live one): 52 heap pages for a household's 28 payments at
// 1,000,000 payments, and 1,000,436 dead versions (autovacuum off, as on this server). Pages
// filled to 45 % keep room for the answer's version on the row's own page: the update is HOT (no
// column it changes is indexed), no index grows, and a trace reads one page per payment. A bank
// file answers a roster's payments in one batch, so every row of a page gets its new version in
// one transaction, before pruning can reclaim an old one: the room must hold a new version of
// every row. An instructed row takes ~212 bytes with its line pointer, a settled one ~244 (the
// bank's reference and date): 17 rows (3,604 bytes) fill 45 % of a page, and their 17 new
// versions (4,148) fit in the rest; at 50 % one row in six would not. The table takes about the
// space its dead versions took before; its indexes half of theirs. New pages only: books written
// before keep their layout until rebuilt (fundtrace replay).

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table payments set (fillfactor = 45)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table payments reset (fillfactor)`.execute(db);
}
