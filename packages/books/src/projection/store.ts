import type { Database } from '@fundtrace/db';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';

/**
 * The unit of work of one batch: the rows the batch reads are loaded up front in one query per
 * table, events are applied to them in memory (so every invariant is checked event by event),
 * and the result is written back in a few multi-row statements. One statement per event would be
 * an order of magnitude slower (a round trip each), and the throughput target forbids it.
 */

/**
 * Bind parameters per statement. PostgreSQL's wire protocol caps them at 65,535; a margin keeps
 * every chunk under it whatever the column count.
 */
export const statementParamsMax = 60_000;

export type Row<T extends keyof Database> = Selectable<Database[T]>;

/** Tables whose rows the projector updates after creating them (read-modify-write). */
export type EntityTable =
  | 'accounts'
  | 'balances'
  | 'tranches'
  | 'receipts'
  | 'integrations'
  | 'plans'
  | 'projects'
  | 'earmarks'
  | 'disbursements'
  | 'payments'
  | 'fiscal_years'
  | 'notices'
  | 'objections'
  | 'households'
  | 'members'
  | 'findings';

/** Primary key columns after `partition`; all text or integer, joined into one map key. */
export const entityKeys: { readonly [T in EntityTable]: readonly (keyof Row<T> & string)[] } = {
  accounts: ['account_id'],
  balances: ['account_id'],
  tranches: ['tranche_id'],
  receipts: ['receipt_id'],
  integrations: ['integration_id'],
  plans: ['plan_id'],
  projects: ['project_id'],
  earmarks: ['earmark_id'],
  disbursements: ['disbursement_id'],
  payments: ['payment_id'],
  fiscal_years: ['fiscal_year'],
  notices: ['notice_id'],
  objections: ['objection_id'],
  households: ['household_id'],
  members: ['household_id', 'member_no'],
  findings: ['finding_id'],
};

/** Tables the batch only appends to. */
export type AppendTable =
  | 'events'
  | 'event_refs'
  | 'entries'
  | 'tranche_flows'
  | 'rosters'
  | 'acceptances'
  | 'reversals'
  | 'finding_subjects'
  | 'finding_evidence';

// Generic statements over a table chosen at run time cannot be typed by kysely's builder; the
// row types above keep the values honest, and this one alias confines the escape hatch.
// biome-ignore lint/suspicious/noExplicitAny: see above.
type AnyDb = Kysely<any>;

function keyOf(values: readonly unknown[]): string {
  return values.map(String).join('\u0000');
}

export class EntityStore<T extends EntityTable> {
  private readonly rows = new Map<string, Row<T> | null>();
  private readonly dirty = new Set<string>();

  constructor(
    readonly table: T,
    private readonly partition: string,
  ) {}

  private key(id: readonly (string | number)[]): string {
    return keyOf(id);
  }

  /** Marks keys as loaded, with the rows found (others are known to be absent). */
  absorb(ids: readonly (readonly (string | number)[])[], found: readonly Row<T>[]): void {
    for (const id of ids) if (!this.rows.has(this.key(id))) this.rows.set(this.key(id), null);
    for (const row of found) {
      const record = row as Record<string, unknown>;
      this.rows.set(keyOf(entityKeys[this.table].map((column) => record[column])), row);
    }
  }

  isLoaded(...id: (string | number)[]): boolean {
    return this.rows.has(this.key(id));
  }

  get(...id: (string | number)[]): Row<T> | undefined {
    const key = this.key(id);
    if (!this.rows.has(key)) {
      // Every key an event touches is collected before the batch runs; a miss here is a bug in
      // that collection, and guessing "absent" could wrongly accept or reject an event.
      throw new Error(
        `${this.table} ${id.join('/')} was not loaded for this batch (partition ${this.partition})`,
      );
    }
    return this.rows.get(key) ?? undefined;
  }

  put(row: Row<T>): void {
    const record = row as Record<string, unknown>;
    const key = keyOf(entityKeys[this.table].map((column) => record[column]));
    this.rows.set(key, row);
    this.dirty.add(key);
  }

  /** Rows changed by the batch, in key order so concurrent writers lock rows in one order. */
  changed(): Row<T>[] {
    return [...this.dirty]
      .sort()
      .map((key) => this.rows.get(key))
      .filter((row): row is Row<T> => row !== null && row !== undefined);
  }
}

/** Loads rows of `table` in `partition` whose first key column is one of `ids`. */
export async function loadRows<T extends EntityTable>(
  trx: Transaction<Database>,
  table: T,
  partition: string,
  ids: readonly string[],
): Promise<Row<T>[]> {
  if (ids.length === 0) return [];
  const column = entityKeys[table][0]!;
  const idType = table === 'fiscal_years' ? sql`integer[]` : sql`text[]`;
  const { rows } = await sql<Row<T>>`
    select * from ${sql.table(table)}
    where partition = ${partition} and ${sql.ref(column)} = any(${[...new Set(ids)]}::${idType})`.execute(
    trx,
  );
  return rows;
}

/** Multi-row INSERT in chunks under the parameter limit. */
export async function insertRows(
  trx: Transaction<Database>,
  table: string,
  rows: readonly Record<string, unknown>[],
  onConflictDoNothing = false,
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!).length;
  const chunk = Math.max(1, Math.floor(statementParamsMax / columns));
  for (let start = 0; start < rows.length; start += chunk) {
    let query = (trx as unknown as AnyDb).insertInto(table).values(rows.slice(start, start + chunk));
    if (onConflictDoNothing) query = query.onConflict((oc) => oc.doNothing());
    await query.execute();
  }
}

/** Multi-row INSERT … ON CONFLICT (partition, key) DO UPDATE SET every other column. */
export async function upsertRows<T extends EntityTable>(
  trx: Transaction<Database>,
  table: T,
  rows: readonly Row<T>[],
): Promise<void> {
  if (rows.length === 0) return;
  const keyColumns = ['partition', ...entityKeys[table]];
  const columns = Object.keys(rows[0]!);
  const updates: Record<string, unknown> = Object.fromEntries(
    columns
      .filter((column) => !keyColumns.includes(column))
      .map((column) => [column, sql.ref(`excluded.${column}`)]),
  );
  const chunk = Math.max(1, Math.floor(statementParamsMax / columns.length));
  for (let start = 0; start < rows.length; start += chunk) {
    await (trx as unknown as AnyDb)
      .insertInto(table)
      .values(rows.slice(start, start + chunk) as Record<string, unknown>[])
      .onConflict((oc) => oc.columns(keyColumns).doUpdateSet(updates as never))
      .execute();
  }
}
