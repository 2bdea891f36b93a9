import { type Kysely, sql } from 'kysely';

/** Events a projector applies between two looks at its tables' statistics. */
export const analyzeCheckEvents = 5_000;

/**
 * Share of a table's rows (at its last analysis) that must have changed before the projector
 * analyzes it again. Autovacuum's 10 % made ANALYZE about half of the projector's PostgreSQL CPU on
 * append-only tables that grow by the event: every 10 % of growth one more 30,000-row sample of
 * every column, sorted (decision 0106). At 100 % the statistics are at most one doubling behind,
 * which is what the key probes need (0055: a never-analyzed table costed as empty), and the
 * analyses a table gets while it grows to N rows fall from ~log₁.₁(N) to ~log₂(N).
 */
export const analyzeChangedShare = 1;

/**
 * Analyzes the tables of `schema` whose rows changed by more than 50 + `analyzeChangedShare` of
 * the rows at the last analysis since their last analysis, and returns their names. The projector
 * cannot count on autovacuum (it may be off, as on the development machine, or lag behind a
 * rebuild): without statistics the planner costs a batch's key lookups on a growing table as if it
 * were empty, and reads a whole partition through another index instead of probing the key
 * (decision 0055).
 */
export async function analyzeStaleTables<DB>(db: Kysely<DB>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ table: string }>`
    select s.relname as table
    from pg_stat_user_tables s
    join pg_class c on c.oid = s.relid
    where s.schemaname = ${schema} and s.n_mod_since_analyze > 50 + ${analyzeChangedShare} * greatest(c.reltuples, 0)
    order by s.relname`.execute(db);
  for (const { table } of rows) await sql`analyze ${sql.id(schema, table)}`.execute(db);
  return rows.map((row) => row.table);
}
