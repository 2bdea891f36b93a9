import type { Database } from '@fundtrace/db';
import { assertIdentifier } from '@fundtrace/db';
import { type Kysely, sql } from 'kysely';

/**
 * The read-model tables of the books (migrations 0002, 0003, 0006), in a fixed order. Checkpoints and
 * migration bookkeeping are not books: their content depends on consumer names and run times.
 */
export const booksTables = [
  'events',
  'event_refs',
  'accounts',
  'balances',
  'tranches',
  'tranche_flows',
  'entries',
  'receipts',
  'allocations',
  'integrations',
  'plans',
  'plan_lines',
  'projects',
  'acceptances',
  'earmarks',
  'disbursements',
  'rosters',
  'payments',
  'reversals',
  'fiscal_years',
  'notices',
  'notice_lines',
  'objections',
  'spending_progress',
  'households',
  'members',
  'findings',
  'finding_subjects',
  'finding_evidence',
  'quarantined_events',
] as const satisfies readonly (keyof Database)[];

export interface TableDigest {
  readonly table: string;
  readonly rows: number;
  /** md5 of every row's text form, sorted: equal digests mean byte-identical tables. */
  readonly md5: string;
}

/**
 * A digest of each books table in `schema`: the md5 of all rows' text forms in sorted order.
 * Two schemas with equal digests hold the same rows, byte for byte, whatever their physical order.
 */
export async function digestBooks<DB>(db: Kysely<DB>, schema: string): Promise<TableDigest[]> {
  assertIdentifier('schema', schema);
  const out: TableDigest[] = [];
  for (const table of booksTables) {
    const { rows } = await sql<{ rows: string; md5: string | null }>`
      select count(*)::text as rows, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as md5
      from ${sql.table(`${schema}.${table}`)} t`.execute(db);
    out.push({ table, rows: Number(rows[0]!.rows), md5: rows[0]!.md5 ?? '' });
  }
  return out;
}
