import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createPool, type PoolOptions } from './connect';
import { assertIdentifier } from './identifiers';

/** Rows already in COPY's text format (`copyData`), e.g. built before their transaction began. */
export interface CopyData {
  readonly columns: readonly string[];
  readonly text: string;
}

/**
 * Appends rows to `table` inside the transaction `trx` with `COPY … FROM STDIN` (text format):
 * one stream of rows instead of an INSERT over parameter arrays, for bulk loads.
 */
export type CopyRows = (
  trx: Transaction<unknown>,
  table: string,
  rows: readonly Record<string, unknown>[] | CopyData,
) => Promise<void>;

/** `rows` (all with the first one's columns) in COPY's text format. */
export function copyData(rows: readonly Record<string, unknown>[]): CopyData {
  const columns = rows.length === 0 ? [] : Object.keys(rows[0]!);
  return { columns, text: rows.length === 0 ? '' : copyText(columns, rows) };
}

export interface CopyingDb<DB> {
  readonly db: Kysely<DB>;
  /** COPY into a table of the pool's schema, on the connection that runs `trx`. */
  readonly copy: CopyRows;
}

/**
 * A kysely over its own pool whose transactions can also COPY rows in. kysely has no COPY; the
 * pg connection that holds a transaction is found by its backend pid (asked once per
 * transaction), and the COPY is queued on that connection behind the transaction's statements,
 * so it runs in order and commits or rolls back with them.
 */
export function createCopyingDb<DB>(
  url: string,
  options: PoolOptions & {
    /** Session settings each connection runs before its first query (e.g. `set synchronous_commit = off`). */
    readonly sessionSettings?: string;
  } = {},
): CopyingDb<DB> {
  const pool = createPool(url, options);
  const clients = new Map<number, pg.PoolClient>();
  pool.on('connect', (client) => {
    // Queued ahead of the first query the pool hands this connection out for.
    if (options.sessionSettings !== undefined) client.query(options.sessionSettings).catch(() => undefined);
    const pid = (client as unknown as { processID: number }).processID;
    clients.set(pid, client);
    client.once('end', () => clients.delete(pid));
  });
  // One lookup per transaction, shared by COPYs started together: they queue in call order.
  const byTransaction = new WeakMap<Transaction<unknown>, Promise<pg.PoolClient>>();
  const clientOf = async (trx: Transaction<unknown>): Promise<pg.PoolClient> => {
    const { rows: found } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
    const client = clients.get(found[0]!.pid);
    if (client === undefined) throw new Error(`no pooled connection has backend pid ${found[0]!.pid}`);
    return client;
  };
  const copy: CopyRows = async (trx, table, rows) => {
    const data = 'text' in rows ? rows : copyData(rows);
    if (data.text === '') return;
    assertIdentifier('table', table);
    const { columns } = data;
    for (const column of columns) assertIdentifier('column', column);
    let found = byTransaction.get(trx);
    if (found === undefined) {
      found = clientOf(trx);
      byTransaction.set(trx, found);
    }
    const client = await found;
    const stream = client.query(copyFrom(`copy ${table} (${columns.join(', ')}) from stdin`));
    const done = new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', reject);
    });
    stream.end(data.text);
    await done;
  };
  return { db: new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }), copy };
}

/**
 * Rows in COPY's text format: tab between columns, newline after each row, `\N` for null,
 * backslash, tab, newline and carriage return escaped; bytea as `\x` hex. A value of any other
 * type than string, number, bigint, boolean, bytes or null is refused rather than guessed.
 */
export function copyText(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const lines: string[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    let line = '';
    for (let c = 0; c < columns.length; c++) {
      if (c > 0) line += '\t';
      line += copyValue(row[columns[c]!], columns[c]!);
    }
    lines[r] = line;
  }
  return `${lines.join('\n')}\n`;
}

const specials = /[\\\t\n\r]/;
const specialsAll = /[\\\t\n\r]/g;
const escapes: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function copyValue(value: unknown, column: string): string {
  switch (typeof value) {
    case 'string':
      return specials.test(value) ? value.replace(specialsAll, (ch) => escapes[ch]!) : value;
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) throw new RangeError(`column ${column}: ${value} cannot be copied`);
      return String(value);
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return '\\N';
    case 'object':
      if (value === null) return '\\N';
      if (value instanceof Uint8Array)
        return `\\\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
      break;
  }
  throw new TypeError(`column ${column}: a ${typeof value} value cannot be copied`);
}
