import { type Kysely, sql } from 'kysely';

/** Events a projector applies between two looks at its tables' statistics. */
export const analyzeCheckEvents = 5_000;

/**
 * Analyzes the tables of `schema` whose rows changed by more than autovacuum's analyze threshold
 * (50 + 10 % of the rows at the last analysis) since their last analysis, and returns their
 * names. The projector cannot count on autovacuum (it may be off, as on the development machine,
 * or lag behind a rebuild): without statistics the planner costs a batch's key lookups on a
 * growing table as if it were empty, and reads a whole partition through another index instead
 * of probing the key (decision 0055).
 */
export async function analyzeStaleTables<DB>(db: Kysely<DB>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ table: string }>`
    select s.relname as table
    from pg_stat_user_tables s
    join pg_class c on c.oid = s.relid
    where s.schemaname = ${schema} and s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)
    order by s.relname`.execute(db);
  for (const { table } of rows) await sql`analyze ${sql.id(schema, table)}`.execute(db);
  return rows.map((row) => row.table);
}
