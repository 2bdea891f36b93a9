import type { Database } from '@fundtrace/db';
import { CompiledQuery, type Kysely, type Selectable, sql, type Transaction } from 'kysely';

/**
 * The unit of work of one batch: the rows the batch reads are loaded up front in one query per
 * table, events are applied to them in memory (so every invariant is checked event by event),
 * and the result is written back in a few multi-row statements. One statement per event would be
 * an order of magnitude slower (a round trip each), and the issue's throughput target forbids it.
 */

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
  | 'notice_lines'
  | 'finding_subjects'
  | 'finding_evidence';

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

  /** Keys held, present or known absent. */
  get size(): number {
    return this.rows.size;
  }

  /** The batch's changes were written: they are the books' rows now, not changes of the next batch. */
  settle(): void {
    this.dirty.clear();
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
  reader: Kysely<Database>,
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
    reader,
  );
  return rows;
}

/**
 * Rows per statement. With one array parameter per column (see {@link insertRows}) the parameter
 * limit no longer applies; this bounds the size of one statement's arrays instead.
 */
export const statementRowsMax = 20_000;

/** Column types per table, read once per process from the catalogue (they are the migrations'). */
const columnTypes = new Map<string, ReadonlyMap<string, string>>();

async function typesOf(reader: Kysely<Database>, table: string): Promise<ReadonlyMap<string, string>> {
  const cached = columnTypes.get(table);
  if (cached !== undefined) return cached;
  const { rows } = await sql<{ name: string; type: string }>`
    select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
    where attrelid = to_regclass(${table}) and attnum > 0 and not attisdropped`.execute(reader);
  if (rows.length === 0) throw new Error(`table ${table} does not exist in the current schema`);
  const types = new Map(rows.map((row) => [row.name, row.type]));
  columnTypes.set(table, types);
  return types;
}

/**
 * One statement of a batch's writes: SQL text whose parameters are `$1 … $n` counted from
 * `offset` + 1 (so several can be joined into one statement), and its values.
 */
interface Statement {
  readonly text: (offset: number) => string;
  readonly values: readonly unknown[];
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The fixed parts of `insert into t (columns) select * from unnest($1::type[], …) <conflict>` per
 * table, column list and conflict clause, built once per process: the projector writes the same
 * few shapes in every batch, and building them through the query builder cost ~5 µs an event.
 */
const insertShapes = new Map<
  string,
  { readonly head: string; readonly casts: readonly string[]; readonly tail: string }
>();

function insertShape(
  table: string,
  columns: readonly string[],
  types: ReadonlyMap<string, string>,
  conflict: string,
) {
  const key = `${table}\u0000${columns.join(',')}\u0000${conflict}`;
  let shape = insertShapes.get(key);
  if (shape === undefined) {
    const casts = columns.map((column) => {
      const type = types.get(column);
      if (type === undefined) throw new Error(`table ${table} has no column ${column}`);
      return `::${type}[]`;
    });
    shape = {
      head: `insert into ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) select * from unnest(`,
      casts,
      tail: conflict === '' ? ')' : `) ${conflict}`,
    };
    insertShapes.set(key, shape);
  }
  return shape;
}

/**
 * INSERT … SELECT FROM unnest($1::type[], $2::type[], …): one array parameter per column however
 * many rows, so PostgreSQL parses and plans a short statement and the client sends compact
 * arrays. Measured on the development machine it is markedly faster than a multi-row VALUES list
 * with one parameter per cell. Returns the statements (one per `statementRowsMax` rows) unrun.
 */
async function unnestStatements(
  reader: Kysely<Database>,
  table: string,
  rows: readonly Record<string, unknown>[],
  conflict: string,
): Promise<Statement[]> {
  if (rows.length === 0) return [];
  const columns = Object.keys(rows[0]!);
  const shape = insertShape(table, columns, await typesOf(reader, table), conflict);
  const statements: Statement[] = [];
  for (let start = 0; start < rows.length; start += statementRowsMax) {
    const chunk = rows.slice(start, start + statementRowsMax);
    const values = columns.map((column) => arrayParameter(chunk.map((row) => row[column])));
    statements.push({
      text: (offset) =>
        `${shape.head}${shape.casts.map((cast, i) => `$${offset + i + 1}${cast}`).join(', ')}${shape.tail}`,
      values,
    });
  }
  return statements;
}

/** An unquoted array element must not be empty, `NULL`, or hold a quote, backslash, brace, comma or space. */
const needsQuotes = /^$|^null$|["\\{},\s]/i;
const quoteOrBackslash = /["\\]/g;

/**
 * A column's values as one PostgreSQL array literal (`{a,"b c",NULL}`), what pg would send for
 * the JS array, written in one pass and quoting only what needs it (pg quotes and escapes every
 * element with two regular expressions: ~10 µs of an event's process CPU). Strings, numbers,
 * bigints, booleans, null and bytes (Buffer) only; anything else leaves the array to pg.
 */
export function arrayParameter(values: readonly unknown[]): string | readonly unknown[] {
  let text = '{';
  for (let index = 0; index < values.length; index++) {
    if (index > 0) text += ',';
    const value = values[index];
    if (value === null || value === undefined) text += 'NULL';
    else if (typeof value === 'string') {
      text += needsQuotes.test(value) ? `"${value.replace(quoteOrBackslash, '\\$&')}"` : value;
    } else if (typeof value === 'bigint' || typeof value === 'number') text += String(value);
    else if (typeof value === 'boolean') text += value ? 'true' : 'false';
    else if (value instanceof Buffer) text += `\\\\x${value.toString('hex')}`;
    else return values.map((v) => v ?? null);
  }
  return `${text}}`;
}

async function execute(trx: Transaction<Database>, text: string, values: readonly unknown[]): Promise<void> {
  await trx.executeQuery(CompiledQuery.raw(text, [...values]));
}

async function unnestInsert(
  trx: Transaction<Database>,
  table: string,
  rows: readonly Record<string, unknown>[],
  conflict: string,
): Promise<void> {
  for (const statement of await unnestStatements(trx, table, rows, conflict)) {
    await execute(trx, statement.text(0), statement.values);
  }
}

/**
 * Writes of one batch to run as one statement: each is a data-modifying CTE of
 * `WITH w0 AS (…), w1 AS (…) SELECT`, so a batch's rows reach PostgreSQL in one round trip
 * instead of one per table. PostgreSQL runs every CTE of a statement on one snapshot, so they
 * must not touch the same row twice: each table's rows are unique by key, and tables written
 * twice (plan lines replaced, allocations from both sides) are not queued here.
 */
export class WriteQueue {
  private readonly statements: Statement[] = [];

  /** `reader` tells the tables' column types (read once per process); nothing is written through it. */
  constructor(private readonly reader: Kysely<Database>) {}

  async insert(
    table: string,
    rows: readonly Record<string, unknown>[],
    onConflictDoNothing = false,
  ): Promise<void> {
    this.statements.push(
      ...(await unnestStatements(
        this.reader,
        table,
        rows,
        onConflictDoNothing ? 'on conflict do nothing' : '',
      )),
    );
  }

  async upsert<T extends EntityTable>(table: T, rows: readonly Row<T>[]): Promise<void> {
    if (rows.length === 0) return;
    this.statements.push(
      ...(await unnestStatements(
        this.reader,
        table,
        rows as readonly Record<string, unknown>[],
        upsertConflict(table, Object.keys(rows[0]!)),
      )),
    );
  }

  async add(
    table: string,
    keyColumns: readonly string[],
    sumColumns: readonly string[],
    rows: readonly Record<string, unknown>[],
  ): Promise<void> {
    this.statements.push(
      ...(await unnestStatements(this.reader, table, rows, addConflict(table, keyColumns, sumColumns))),
    );
  }

  /** The queued writes as one statement, to run with {@link runStatement}; none when empty. */
  statement(): { readonly text: string; readonly values: readonly unknown[] } | undefined {
    if (this.statements.length === 0) return undefined;
    if (this.statements.length === 1) {
      const [only] = this.statements;
      return { text: only!.text(0), values: only!.values };
    }
    const ctes: string[] = [];
    const values: unknown[] = [];
    for (const [index, statement] of this.statements.entries()) {
      ctes.push(`w${index} as (${statement.text(values.length)})`);
      values.push(...statement.values);
    }
    return { text: `with ${ctes.join(', ')} select 1`, values };
  }
}

/** Runs a statement of {@link WriteQueue.statement} in `trx`. */
export async function runStatement(
  trx: Transaction<Database>,
  statement: { readonly text: string; readonly values: readonly unknown[] } | undefined,
): Promise<void> {
  if (statement !== undefined) await execute(trx, statement.text, statement.values);
}

function upsertConflict(table: EntityTable, columns: readonly string[]): string {
  return replaceConflict(['partition', ...entityKeys[table]], columns);
}

/** `on conflict (keys) do update set c = excluded.c` for every column that is not a key. */
function replaceConflict(keyColumns: readonly string[], columns: readonly string[]): string {
  const updates = columns
    .filter((column) => !keyColumns.includes(column))
    .map((column) => `${quoteIdent(column)} = excluded.${quoteIdent(column)}`);
  return `on conflict (${keyColumns.map(quoteIdent).join(', ')}) do update set ${updates.join(', ')}`;
}

function addConflict(table: string, keyColumns: readonly string[], sumColumns: readonly string[]): string {
  const updates = sumColumns.map(
    (column) =>
      `${quoteIdent(column)} = ${quoteIdent(table)}.${quoteIdent(column)} + excluded.${quoteIdent(column)}`,
  );
  return `on conflict (${keyColumns.map(quoteIdent).join(', ')}) do update set ${updates.join(', ')}`;
}

/** Appends rows (multi-row, see {@link unnestInsert}). */
export async function insertRows(
  trx: Transaction<Database>,
  table: string,
  rows: readonly Record<string, unknown>[],
  onConflictDoNothing = false,
): Promise<void> {
  await unnestInsert(trx, table, rows, onConflictDoNothing ? 'on conflict do nothing' : '');
}

/**
 * Multi-row upsert that sets every non-key column only where `condition` holds for the existing
 * row, returning `returning` of each row inserted or updated (rows left alone are missing).
 */
export async function upsertReturning(
  trx: Transaction<Database>,
  table: string,
  keyColumns: readonly string[],
  rows: readonly Record<string, unknown>[],
  condition: string,
  returning: string,
): Promise<string[]> {
  // The same statement as every other write of a batch, with a condition and a returning clause.
  const conflict = `${replaceConflict(keyColumns, Object.keys(rows[0] ?? {}))} where ${condition} returning ${quoteIdent(returning)} as id`;
  const ids: string[] = [];
  for (const statement of await unnestStatements(trx, table, rows, conflict)) {
    const { rows: written } = await trx.executeQuery<{ id: string }>(
      CompiledQuery.raw(statement.text(0), [...statement.values]),
    );
    ids.push(...written.map((row) => row.id));
  }
  return ids;
}

/** Multi-row INSERT … ON CONFLICT (key) DO UPDATE SET column = table.column + excluded.column for each summed column. */
export async function addRows(
  trx: Transaction<Database>,
  table: string,
  keyColumns: readonly string[],
  sumColumns: readonly string[],
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  await unnestInsert(trx, table, rows, addConflict(table, keyColumns, sumColumns));
}
