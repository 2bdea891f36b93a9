import { loadavg } from 'node:os';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import {
  householdTraceQuery,
  paymentInstructedRows,
  paymentReturnedRow,
  paymentSettledRow,
  projectBatch,
  projectorBatchSize,
  rosterRow,
  type StoredEvent,
  traceHouseholdUp,
} from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import {
  type Actor,
  type AnyEvent,
  createEvent,
  type EventData,
  type EventType,
  encodeEvent,
  latestDefinition,
  newEventId,
  streamName,
  subjectFor,
  utcTimestamp,
} from '@fundtrace/events';
import { type Random, seededRandom } from '@fundtrace/pii';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { benchPrefix, createMarkedDatabase, databaseUrlOn, dropMarkedDatabase, newRunToken } from './guard';
import { percentile } from './stats';

/**
 * Trace latency with a million payments in the books (issue 5: "tracing one household … up to
 * its root allocations, with 1,000,000 payments in the books: p99 ≤ 5 ms"; issue 8: "trace query
 * latency p50/p99 at 1,000,000 payments").
 *
 * The books have the county's shape as `fundtrace generate` makes it (two fiscal years; money
 * central → province → city → county in several receipts a year, paid FIFO across them so that a
 * year's first payments drain the last year's receipts and a payment can straddle two tranches;
 * monthly rosters of four programmes, yearly 光伏 and 雨露 rosters; the bank settles most payments
 * and returns a few, re-paid the next month from whatever tranche FIFO gives then). Every
 * household gets 28 payments, a returned one 29–30.
 *
 * Two ways to put the same log into the books (`countyLog` is the one source of both):
 * - `projectLog`: every event through the projector's own `projectBatch`, 500 a transaction
 *   (the projector's batch size): the real path, ≈ 2 M events for 1 M payments — too slow for
 *   `pnpm bench` (an hour or more on the shared machine);
 * - `loadLog`: allocations and receipts through `projectBatch`, the county's rosters and payments
 *   (RosterSubmitted, PaymentInstructed, PaymentSettled, PaymentReturned) written straight into
 *   the tables the projector writes for them — `rosters`, `payments`, `tranche_flows`, and the
 *   moves of `tranches.remaining_fen` and `balances` — a month at a time in multi-row statements.
 *   Payment rows are inserted as instructed and then updated to their bank answer, and tranche
 *   and balance rows are updated once per 500 events, so the tables carry the dead row versions
 *   the projector's batches leave. It does not write the rows nobody tracing reads for those
 *   events (`events`, `event_refs`, `entries`, `spending_progress`). test/trace-scale.test.ts
 *   checks that both ways leave identical rows in every table `loadLog` writes.
 */

const central = '000000';
const province = '410000';
const city = '411300';
/** The county traced (内乡县), as in `pnpm bench`. */
export const traceCounty = '411325';
const chain = [central, province, city, traceCounty] as const;
const pool = 'POOL';
const purpose = 'general';
const years = [2023, 2024] as const;
/** The bank returns this share of payments (the generator's); each is re-paid the next month. */
const defaultReturnShare = 0.004;
/** Events per transaction: the projector's batch size (PROJECTOR_BATCH_SIZE's default). */
export const projectorBatchEvents = projectorBatchSize;
/** Payments a household receives in the shape: 12 monthly × 2 years, and 2 yearly × 2 years. */
export const paymentsPerHousehold = 28;

/** Monthly programmes; a household is in one of them (by its number), with 1–5 persons. */
const monthly = [
  { code: 'dibao_class1', fen: 19_000n },
  { code: 'dibao_class2', fen: 16_000n },
  { code: 'dibao_class3', fen: 13_000n },
  { code: 'disability_allowance', fen: 6_000n },
] as const;
/** Yearly programmes paid in June to every household of the shape. */
const yearly = [
  { code: 'pv_income', fen: 300_000n },
  { code: 'yulu_grant', fen: 200_000n },
] as const;

/** One event of the log, before it has an envelope: which partition's LEDGER stream, when. */
export type LogEvent = {
  readonly [T in EventType]: {
    readonly partition: string;
    readonly type: T;
    readonly data: EventData<T>;
    /** Business date (Beijing). */
    readonly day: string;
  };
}[EventType];

export interface CountyLogOptions {
  /** Households of the county; each gets `paymentsPerHousehold` payments (re-payments on top). */
  readonly households: number;
  /** Receipts (each a chain central → county) per fiscal year (default 4, one a quarter). */
  readonly receiptsPerYear?: number;
  /** Share of payments the bank returns (default the generator's 0.4 %). */
  readonly returnShare?: number;
  readonly seed?: string;
}

/** The 14-digit 户编号 of household `n` (1-based) of the county. */
export function householdIdOf(n: number): string {
  return `${traceCounty}${String(n).padStart(8, '0')}`;
}

function dayOf(year: number, month: number, day: number): string {
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

interface Piece {
  trancheId: string;
  amountFen: bigint;
}

/** The county pool's tranches in creation order, drawn FIFO as ledger-api's `pickFifo` does. */
class Fifo {
  private readonly tranches: { id: string; remaining: bigint }[] = [];
  private head = 0;

  add(id: string, amountFen: bigint): void {
    this.tranches.push({ id, remaining: amountFen });
  }

  take(amountFen: bigint): Piece[] {
    const pieces: Piece[] = [];
    let need = amountFen;
    for (let i = this.head; need > 0n; i++) {
      const tranche = this.tranches[i];
      if (tranche === undefined) throw new Error(`the county pool is short of ${need} fen`);
      if (tranche.remaining === 0n) {
        if (i === this.head) this.head++;
        continue;
      }
      const taken = tranche.remaining < need ? tranche.remaining : need;
      tranche.remaining -= taken;
      need -= taken;
      pieces.push({ trancheId: tranche.id, amountFen: taken });
    }
    return pieces;
  }

  restore(pieces: readonly Piece[]): void {
    for (const piece of pieces) {
      const index = this.tranches.findIndex((t) => t.id === piece.trancheId);
      this.tranches[index]!.remaining += piece.amountFen;
      if (index < this.head) this.head = index;
    }
  }
}

/** What one household is paid each month (its monthly programme) and in June (both yearly ones). */
function monthlyOf(household: number): { code: string; quantity: number; amountFen: bigint } {
  const programme = monthly[household % monthly.length]!;
  const quantity = 1 + (household % 5);
  return { code: programme.code, quantity, amountFen: programme.fen * BigInt(quantity) };
}

/** What the county pays in months `from`..`to` of a year, before returns: receipts are sized from it. */
function needFen(households: number, from: number, to: number): bigint {
  let perMonth = 0n;
  for (let h = 1; h <= households; h++) perMonth += monthlyOf(h).amountFen;
  let total = perMonth * BigInt(to - from + 1);
  if (from <= 6 && 6 <= to) for (const y of yearly) total += y.fen * BigInt(households);
  return total;
}

/**
 * The county's log, in order (every partition's events interleaved as they were appended). Pure
 * given the options: the same options always give the same events.
 */
export function* countyLog(o: CountyLogOptions): Generator<LogEvent> {
  const households = o.households;
  if (!Number.isInteger(households) || households < 1) throw new RangeError('households must be ≥ 1');
  const receipts = o.receiptsPerYear ?? 4;
  if (![1, 2, 3, 4, 6, 12].includes(receipts)) throw new RangeError('receiptsPerYear must divide 12');
  const everyone = Array.from({ length: households }, (_, i) => i + 1);
  const random: Random = seededRandom(o.seed ?? 'trace-scale');
  const fifo = new Fifo();
  const event = <T extends EventType>(partition: string, type: T, data: EventData<T>, day: string) =>
    ({ partition, type, data, day }) as LogEvent;

  for (const partition of chain)
    yield event(
      partition,
      'AccountOpened',
      { accountId: pool, kind: 'pool', name: `${partition} 扶贫资金专户` },
      '2023-01-01',
    );

  // Each receipt holds 101 % of what its months pay, so the last payments before the next
  // receipt and the first after it draw on the previous receipt's remainder (FIFO).
  const monthsPerReceipt = 12 / receipts;
  let returned: { household: number; code: string; period: string; quantity: number; amountFen: bigint }[] =
    [];
  let documentNo = 1;

  for (const year of years) {
    for (let month = 1; month <= 12; month++) {
      if ((month - 1) % (12 / receipts) === 0) {
        const receiptNo = (month - 1) / monthsPerReceipt;
        const part = (needFen(households, month, month + monthsPerReceipt - 1) * 101n) / 100n + 1n;
        // A receipt: the root at the centre, then allocated down one partition at a time.
        const batch = `${year}-${receiptNo + 1}`;
        const day = dayOf(year, month, 1);
        const common = {
          documentNumber: `财农〔${year}〕${documentNo++}号`,
          fundSource: 'central',
          purpose,
          fiscalYear: year,
        } as const;
        let parent: { partition: string; trancheId: string } | null = null;
        for (const [level, partition] of chain.entries()) {
          const receiptId = `RC-${batch}-${partition}`;
          const trancheId = `t-${receiptId}`;
          const from = level === 0 ? null : chain[level - 1]!;
          const allocationId = `AL-${batch}-${partition}`;
          if (from !== null && parent !== null) {
            yield event(
              from,
              'AllocationIssued',
              {
                allocationId,
                toPartition: partition,
                fromAccountId: pool,
                ...common,
                title: `${year}年中央财政专项扶贫资金 第${receiptNo + 1}批`,
                amountFen: part,
                consumed: [{ trancheId: parent.trancheId, amountFen: part, fundSource: 'central' }],
              },
              day,
            );
          }
          yield event(
            partition,
            'AllocationReceived',
            {
              receiptId,
              origin:
                from === null
                  ? { kind: 'external', payer: '中央财政' }
                  : { kind: 'partition', partition: from, allocationId },
              accountId: pool,
              ...common,
              amountFen: part,
              created: [
                {
                  trancheId,
                  accountId: pool,
                  amountFen: part,
                  ...common,
                  parents: parent === null ? [] : [{ ...parent, amountFen: part }],
                },
              ],
            },
            day,
          );
          parent = { partition, trancheId };
        }
        fifo.add(parent!.trancheId, part);
      }

      const period = `${year}-${String(month).padStart(2, '0')}`;
      const instructedOn = dayOf(year, month, 10);
      const answeredOn = dayOf(year, month, 20);
      const rosters: {
        code: string;
        period: string;
        members: number[];
        amountOf: (h: number) => [number, bigint];
      }[] = monthly.map((programme) => ({
        code: programme.code,
        period,
        members: everyone.filter((h) => monthlyOf(h).code === programme.code),
        amountOf: (h: number) => [monthlyOf(h).quantity, monthlyOf(h).amountFen],
      }));
      if (month === 6)
        for (const programme of yearly)
          rosters.push({
            code: programme.code,
            period: String(year),
            members: everyone,
            amountOf: () => [1, programme.fen],
          });

      for (const roster of rosters) {
        if (roster.members.length === 0) continue;
        const rosterId = `RS-${roster.code}-${roster.period}`;
        const rows = roster.members.map((h, i) => {
          const [quantity, amountFen] = roster.amountOf(h);
          return { h, row: i + 2, quantity, amountFen, paymentId: `${rosterId}-r${i + 2}` };
        });
        yield event(
          traceCounty,
          'RosterSubmitted',
          {
            rosterId,
            programmeCode: roster.code,
            period: roster.period,
            accountId: pool,
            noticeId: null,
            rowCount: rows.length,
            totalFen: rows.reduce((sum, r) => sum + r.amountFen, 0n),
            registrySeq: 1,
          },
          instructedOn,
        );
        const consumed = new Map<string, Piece[]>();
        for (const r of rows) {
          const pieces = fifo.take(r.amountFen);
          consumed.set(r.paymentId, pieces);
          yield event(
            traceCounty,
            'PaymentInstructed',
            {
              paymentId: r.paymentId,
              rosterId,
              row: r.row,
              householdId: householdIdOf(r.h),
              programmeCode: roster.code,
              period: roster.period,
              quantity: r.quantity,
              amountFen: r.amountFen,
              accountId: pool,
              noticeId: null,
              acceptanceRef: null,
              registrySeq: 1,
              consumed: pieces,
            },
            instructedOn,
          );
        }
        // The bank's answers, a file per roster.
        for (const r of rows) {
          if (random.next() < (o.returnShare ?? defaultReturnShare)) {
            const pieces = consumed.get(r.paymentId)!;
            fifo.restore(pieces);
            returned.push({
              household: r.h,
              code: roster.code,
              period: roster.period,
              quantity: r.quantity,
              amountFen: r.amountFen,
            });
            yield event(
              traceCounty,
              'PaymentReturned',
              { paymentId: r.paymentId, reason: '账户已冻结', returnedOn: answeredOn, restored: pieces },
              answeredOn,
            );
          } else {
            yield event(
              traceCounty,
              'PaymentSettled',
              { paymentId: r.paymentId, bankReference: `RCB-${r.paymentId}`, settledOn: answeredOn },
              answeredOn,
            );
          }
        }
      }

      // Re-payments (补发) of last month's returns, once the card is fixed; the bank settles them.
      const repaidOn = dayOf(year, month, 25);
      for (const [i, r] of returned.entries()) {
        const paymentId = `RP-${period}-${i}`;
        yield event(
          traceCounty,
          'PaymentInstructed',
          {
            paymentId,
            rosterId: null,
            row: null,
            householdId: householdIdOf(r.household),
            programmeCode: r.code,
            period: r.period,
            quantity: r.quantity,
            amountFen: r.amountFen,
            accountId: pool,
            noticeId: null,
            acceptanceRef: null,
            registrySeq: 1,
            consumed: fifo.take(r.amountFen),
          },
          repaidOn,
        );
        yield event(
          traceCounty,
          'PaymentSettled',
          { paymentId, bankReference: `RCB-${paymentId}`, settledOn: repaidOn },
          repaidOn,
        );
      }
      returned = [];
    }
  }
}

/** Households a log of about `payments` payments has. */
export function householdsFor(payments: number): number {
  return Math.max(1, Math.round(payments / paymentsPerHousehold));
}

// ---------------------------------------------------------------- putting the log in the books

const actor: Actor = { userId: 'bench-trace', role: 'finance', org: 'fundtrace-bench' };

/** Assigns each stream's next sequence, as JetStream would. */
class Sequences {
  private readonly next = new Map<string, number>();
  take(partition: string): number {
    const seq = this.next.get(partition) ?? 1;
    this.next.set(partition, seq + 1);
    return seq;
  }
}

let commandCounter = 0;

/** The event as a stored message: real envelope, canonical bytes, subject. */
function stored(e: LogEvent, seq: number): StoredEvent {
  const definition = latestDefinition(e.type);
  const now = Date.now();
  const commandId = `bench-trace-${commandCounter++}`;
  const event = createEvent(definition as never, {
    id: newEventId(now),
    partition: e.partition,
    data: e.data,
    actor,
    commandId,
    correlationId: commandId,
    occurredAt: `${e.day}T10:00:00+08:00`,
    recordedAt: utcTimestamp(now),
  }) as AnyEvent;
  return {
    stream: streamName(definition.context, e.partition),
    seq,
    subject: subjectFor(event as never),
    bytes: encodeEvent(event as never),
    event,
  };
}

/** Events waiting for `projectBatch`, per stream, flushed 500 a transaction. */
class Projecting {
  private readonly pending = new Map<string, StoredEvent[]>();
  projected = 0;

  constructor(private readonly db: Kysely<Database>) {}

  async add(item: StoredEvent): Promise<void> {
    const list = this.pending.get(item.stream) ?? [];
    list.push(item);
    this.pending.set(item.stream, list);
    if (list.length >= projectorBatchEvents) await this.flushStream(item.stream);
  }

  async flushStream(stream: string): Promise<void> {
    const list = this.pending.get(stream);
    if (list === undefined || list.length === 0) return;
    this.pending.delete(stream);
    await this.db.transaction().execute((trx) => projectBatch(trx, list));
    this.projected += list.length;
  }

  async flush(): Promise<void> {
    for (const stream of [...this.pending.keys()]) await this.flushStream(stream);
  }
}

/** Events of the log put into the books so far, and of the whole log (estimated). */
export type BuildProgress = (done: number, total: number) => void;

/** Events of the log for `households` (an estimate for progress bars: returns vary by seed). */
export function logEventsFor(households: number): number {
  return households * paymentsPerHousehold * 2 + 12 * years.length * 2 + 60;
}

/** Every event through `projectBatch` (the real path, slow). Returns the events projected. */
export async function projectLog(
  db: Kysely<Database>,
  log: Iterable<LogEvent>,
  onProgress?: BuildProgress,
  total = 0,
): Promise<number> {
  const sequences = new Sequences();
  const projecting = new Projecting(db);
  let done = 0;
  for (const e of log) {
    await projecting.add(stored(e, sequences.take(e.partition)));
    if (++done % 10_000 === 0) onProgress?.(done, total);
  }
  await projecting.flush();
  onProgress?.(done, total);
  return done;
}

const paymentTypes = new Set<EventType>([
  'RosterSubmitted',
  'PaymentInstructed',
  'PaymentSettled',
  'PaymentReturned',
]);
/** County payment events after which a block is written (at the next roster). */
const blockEventsMax = 100_000;

type Rows = Record<string, unknown>[];
type PaymentRow = Selectable<Database['payments']>;

/** Multi-row INSERT through unnest: one statement for up to 5,000 rows. */
async function insertRows(
  trx: Transaction<Database>,
  table: string,
  columns: readonly (readonly [string, string])[],
  rows: Rows,
): Promise<void> {
  for (let from = 0; from < rows.length; from += 5_000) {
    const chunk = rows.slice(from, from + 5_000);
    const arrays = columns.map(([name, type]) => {
      const values = chunk.map((row) => {
        const value = row[name];
        return value === null || value === undefined ? null : String(value);
      });
      return sql`${values}::${sql.raw(type)}[]`;
    });
    await sql`insert into ${sql.table(table)} (${sql.join(columns.map(([name]) => sql.id(name)))})
      select * from unnest(${sql.join(arrays)})`.execute(trx);
  }
}

const paymentColumns = [
  ['partition', 'text'],
  ['payment_id', 'text'],
  ['roster_id', 'text'],
  ['row_no', 'integer'],
  ['household_id', 'text'],
  ['programme_code', 'text'],
  ['period', 'text'],
  ['quantity', 'integer'],
  ['amount_fen', 'bigint'],
  ['account_id', 'text'],
  ['notice_id', 'text'],
  ['acceptance_ref', 'text'],
  ['registry_seq', 'bigint'],
  ['status', 'text'],
  ['instructed_on', 'date'],
  ['instructed_seq', 'bigint'],
  ['settled_on', 'date'],
  ['bank_reference', 'text'],
  ['returned_on', 'date'],
  ['return_reason', 'text'],
  ['reversed_seq', 'bigint'],
  ['status_seq', 'bigint'],
] as const;

const flowColumns = [
  ['partition', 'text'],
  ['seq', 'bigint'],
  ['piece_no', 'integer'],
  ['parent_partition', 'text'],
  ['parent_tranche_id', 'text'],
  ['child_kind', 'text'],
  ['child_id', 'text'],
  ['amount_fen', 'bigint'],
  ['flowed_on', 'date'],
] as const;

const rosterColumns = [
  ['partition', 'text'],
  ['roster_id', 'text'],
  ['programme_code', 'text'],
  ['period', 'text'],
  ['account_id', 'text'],
  ['notice_id', 'text'],
  ['row_count', 'integer'],
  ['total_fen', 'bigint'],
  ['registry_seq', 'bigint'],
  ['submitted_on', 'date'],
  ['seq', 'bigint'],
] as const;

/** Money moves of a block on one account's balance (the projector's entries, summed). */
interface BalanceMove {
  debit: bigint;
  credit: bigint;
}

/**
 * The county's rosters and payments written as the projector would leave them (see the module
 * comment): one block of consecutive county events at a time, in one transaction.
 */
async function writeBlock(
  db: Kysely<Database>,
  block: readonly { e: LogEvent; seq: number }[],
): Promise<void> {
  if (block.length === 0) return;
  await db.transaction().execute(async (trx) => {
    const { rows: trancheRows } = await sql<{
      tranche_id: string;
      account_id: string;
      remaining_fen: string;
    }>`
      select tranche_id, account_id, remaining_fen::text from tranches where partition = ${traceCounty}`.execute(
      trx,
    );
    const tranches = new Map(
      trancheRows.map((t) => [t.tranche_id, { account: t.account_id, remaining: BigInt(t.remaining_fen) }]),
    );
    const { rows: balanceRows } = await sql<{ account_id: string; debit_fen: string; credit_fen: string }>`
      select account_id, debit_fen::text, credit_fen::text from balances where partition = ${traceCounty}`.execute(
      trx,
    );
    const balances = new Map(
      balanceRows.map((b) => [
        b.account_id,
        { debit: BigInt(b.debit_fen), credit: BigInt(b.credit_fen) } as BalanceMove,
      ]),
    );
    const payments = new Map<string, PaymentRow>();
    const answers = new Map<string, PaymentRow>();
    const flows: Rows = [];
    const rosters: Rows = [];
    const touchedTranches = new Set<string>();
    const touchedBalances = new Set<string>();
    const move = (account: string, side: 'debit' | 'credit', amount: bigint) => {
      const b = balances.get(account) ?? { debit: 0n, credit: 0n };
      b[side] += amount;
      balances.set(account, b);
      touchedBalances.add(account);
    };
    const tranche = (id: string) => {
      const t = tranches.get(id);
      if (t === undefined) throw new Error(`tranche ${id} is not in the books of ${traceCounty}`);
      touchedTranches.add(id);
      return t;
    };
    const instructed = (paymentId: string) => {
      const payment = payments.get(paymentId);
      if (payment === undefined) throw new Error(`payment ${paymentId} is not in this block`);
      return payment;
    };
    // Tranche and balance rows are written once per projector batch, as the projector does.
    const writeMoney = async () => {
      if (touchedTranches.size > 0) {
        const ids = [...touchedTranches].sort();
        await sql`update tranches t set remaining_fen = v.remaining
          from unnest(${ids}::text[], ${ids.map((id) => tranches.get(id)!.remaining.toString())}::bigint[]) v(id, remaining)
          where t.partition = ${traceCounty} and t.tranche_id = v.id`.execute(trx);
        touchedTranches.clear();
      }
      if (touchedBalances.size > 0) {
        const ids = [...touchedBalances].sort();
        const values = ids.map((id) => balances.get(id)!);
        await sql`insert into balances (partition, account_id, debit_fen, credit_fen, balance_fen)
          select ${traceCounty}, v.id, v.debit, v.credit, v.debit - v.credit
          from unnest(${ids}::text[], ${values.map((b) => b.debit.toString())}::bigint[],
                      ${values.map((b) => b.credit.toString())}::bigint[]) v(id, debit, credit)
          on conflict (partition, account_id) do update
            set debit_fen = excluded.debit_fen, credit_fen = excluded.credit_fen, balance_fen = excluded.balance_fen`.execute(
          trx,
        );
        touchedBalances.clear();
      }
    };
    for (const [index, { e, seq }] of block.entries()) {
      switch (e.type) {
        case 'RosterSubmitted':
          rosters.push(rosterRow(traceCounty, BigInt(seq), e.day, e.data));
          break;
        case 'PaymentInstructed': {
          const d = e.data;
          for (const piece of d.consumed) {
            const t = tranche(piece.trancheId);
            t.remaining -= piece.amountFen;
            if (t.remaining < 0n)
              throw new Error(`tranche ${piece.trancheId} overdrawn by payment ${d.paymentId}`);
            move(t.account, 'credit', piece.amountFen);
          }
          move('@pending', 'debit', d.amountFen);
          const rows = paymentInstructedRows(traceCounty, BigInt(seq), e.day, d);
          flows.push(...rows.flows);
          payments.set(d.paymentId, rows.payment);
          break;
        }
        case 'PaymentSettled': {
          const d = e.data;
          const payment = instructed(d.paymentId);
          move('@pending', 'credit', payment.amount_fen);
          move('@households', 'debit', payment.amount_fen);
          answers.set(d.paymentId, paymentSettledRow(payment, d, BigInt(seq)));
          break;
        }
        case 'PaymentReturned': {
          const d = e.data;
          const payment = instructed(d.paymentId);
          for (const piece of d.restored) {
            const t = tranche(piece.trancheId);
            t.remaining += piece.amountFen;
            move(t.account, 'debit', piece.amountFen);
          }
          move('@pending', 'credit', payment.amount_fen);
          answers.set(d.paymentId, paymentReturnedRow(payment, d, BigInt(seq)));
          break;
        }
        default:
          throw new Error(`${e.type} is not a payment event`);
      }
      if ((index + 1) % projectorBatchEvents === 0) await writeMoney();
    }
    await writeMoney();
    await insertRows(trx, 'rosters', rosterColumns, rosters);
    await insertRows(trx, 'payments', paymentColumns, [...payments.values()]);
    await insertRows(trx, 'tranche_flows', flowColumns, flows);
    // The bank's answers update the rows in place, as the projector's later batches do.
    const answered = [...answers.values()];
    for (let from = 0; from < answered.length; from += 5_000) {
      const chunk = answered.slice(from, from + 5_000);
      const col = (name: keyof PaymentRow) =>
        chunk.map((row) => (row[name] === null ? null : String(row[name])));
      await sql`update payments p set status = v.status, settled_on = v.settled_on, bank_reference = v.bank_reference,
          returned_on = v.returned_on, return_reason = v.return_reason, status_seq = v.status_seq
        from unnest(${col('payment_id')}::text[], ${col('status')}::text[], ${col('settled_on')}::date[],
                    ${col('bank_reference')}::text[], ${col('returned_on')}::date[], ${col('return_reason')}::text[],
                    ${col('status_seq')}::bigint[])
          v(payment_id, status, settled_on, bank_reference, returned_on, return_reason, status_seq)
        where p.partition = ${traceCounty} and p.payment_id = v.payment_id`.execute(trx);
    }
  });
}

/**
 * The fast way (see the module comment): allocations through `projectBatch`, the county's rosters
 * and payments written as blocks of rows. Returns the events of the log.
 */
export async function loadLog(
  db: Kysely<Database>,
  log: Iterable<LogEvent>,
  options: { onProgress?: BuildProgress; total?: number; blockEvents?: number } = {},
): Promise<number> {
  const { onProgress, total = 0, blockEvents = blockEventsMax } = options;
  const sequences = new Sequences();
  const projecting = new Projecting(db);
  const county = streamName('ledger', traceCounty);
  let block: { e: LogEvent; seq: number }[] = [];
  let done = 0;
  const writePending = async () => {
    await writeBlock(db, block);
    done += block.length;
    block = [];
    onProgress?.(done + projecting.projected, total);
  };
  for (const e of log) {
    const seq = sequences.take(e.partition);
    if (e.partition === traceCounty && paymentTypes.has(e.type)) {
      // The county's events before this one are in the books first. A block ends only before a
      // roster, so that a payment and the bank's answer to it are in the same block.
      await projecting.flushStream(county);
      if (block.length >= blockEvents && e.type === 'RosterSubmitted') await writePending();
      block.push({ e, seq });
    } else {
      if (e.partition === traceCounty) await writePending();
      await projecting.add(stored(e, seq));
    }
  }
  await writePending();
  await projecting.flush();
  onProgress?.(done + projecting.projected, total);
  return done + projecting.projected;
}

// ---------------------------------------------------------------- measuring

export interface TraceLatency {
  /** Households traced (each once, after a warm-up). */
  samples: number;
  /** Payments per trace on average, and hop rows per trace. */
  paymentsPerTrace: number;
  hopsPerTrace: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * The same query's execution inside PostgreSQL (EXPLAIN ANALYZE, no client), on other households,
   * with the shared buffers it hit and read (from outside shared_buffers) at the median: figures
   * the machine's load does not move.
   */
  inDatabase: {
    samples: number;
    p50Ms: number;
    p99Ms: number;
    buffersHitP50: number;
    buffersReadP50: number;
  };
  /**
   * V8's garbage-collection pauses of this process that began inside a timed trace: the client's
   * own cost (a server pays it too), told apart from the database's when reading the p99.
   */
  gcInsideTraces: { pauses: number; ms: number };
  /** Load average (1, 5, 15 min) when the measurement ended. */
  loadAverage: number[];
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Traces `samples` random households of the county (seeded) with `traceHouseholdUp`, as
 * audit-api does, checking each payment traces its whole amount to its roots; then a fifth as
 * many through EXPLAIN ANALYZE for the time PostgreSQL itself spends.
 */
export async function measureTraceLatency(
  db: Kysely<Database>,
  households: number,
  samples: number,
  seed = 'trace-samples',
): Promise<TraceLatency> {
  const random = seededRandom(seed);
  const pick = () => householdIdOf(1 + Math.floor(random.next() * households));
  for (let i = 0; i < Math.min(50, samples); i++) await traceHouseholdUp(db, traceCounty, pick());
  const latencies: number[] = [];
  const timed: [number, number][] = [];
  const pauses: { start: number; ms: number }[] = [];
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push({ start: entry.startTime, ms: entry.duration });
  });
  gc.observe({ entryTypes: ['gc'] });
  let payments = 0;
  let hops = 0;
  for (let i = 0; i < samples; i++) {
    const householdId = pick();
    const started = performance.now();
    const traces = await traceHouseholdUp(db, traceCounty, householdId);
    const ended = performance.now();
    latencies.push(ended - started);
    timed.push([started, ended]);
    if (traces.length < paymentsPerHousehold)
      throw new Error(
        `${householdId}: ${traces.length} payments traced, the books hold at least ${paymentsPerHousehold}`,
      );
    for (const trace of traces) {
      const rooted = trace.roots.reduce((sum, root) => sum + root.tracedFen, 0n);
      if (rooted !== trace.amountFen)
        throw new Error(
          `${trace.paymentId} traces ${rooted} of its ${trace.amountFen} fen to root allocations`,
        );
      hops += trace.hops.length;
    }
    payments += traces.length;
  }
  // Entries are delivered asynchronously: let the last ones arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc.disconnect();
  const inTraces = pauses.filter((pause) =>
    timed.some(([from, to]) => pause.start >= from && pause.start < to),
  );
  const inside: number[] = [];
  const hits: number[] = [];
  const reads: number[] = [];
  await db.connection().execute(async (conn) => {
    for (let i = 0; i < Math.max(1, Math.floor(samples / 5)); i++) {
      const { rows } = await sql<{
        'QUERY PLAN': { Plan: Record<string, number>; 'Execution Time': number; 'Planning Time': number }[];
      }>`
        explain (analyze, buffers, format json) ${householdTraceQuery(traceCounty, pick())}`.execute(conn);
      const plan = rows[0]!['QUERY PLAN'][0]!;
      inside.push(plan['Execution Time'] + plan['Planning Time']);
      hits.push(plan.Plan['Shared Hit Blocks'] ?? 0);
      reads.push(plan.Plan['Shared Read Blocks'] ?? 0);
    }
  });
  latencies.sort((a, b) => a - b);
  inside.sort((a, b) => a - b);
  hits.sort((a, b) => a - b);
  reads.sort((a, b) => a - b);
  return {
    samples,
    paymentsPerTrace: round2(payments / samples),
    hopsPerTrace: round2(hops / samples),
    p50Ms: round2(percentile(latencies, 0.5)),
    p99Ms: round2(percentile(latencies, 0.99)),
    maxMs: round2(latencies[latencies.length - 1] ?? 0),
    inDatabase: {
      samples: inside.length,
      p50Ms: round2(percentile(inside, 0.5)),
      p99Ms: round2(percentile(inside, 0.99)),
      buffersHitP50: percentile(hits, 0.5),
      buffersReadP50: percentile(reads, 0.5),
    },
    gcInsideTraces: {
      pauses: inTraces.length,
      ms: round2(inTraces.reduce((sum, pause) => sum + pause.ms, 0)),
    },
    loadAverage: loadavg().map(round2),
  };
}

export interface TraceAtScaleOptions {
  /** Any URL on the PostgreSQL server (its maintenance database); the function creates its own database there. */
  adminUrl: string;
  /** Payments in the books (default 1,000,000: the figure). */
  payments?: number;
  /** Households traced (default 1,000). */
  samples?: number;
  seed?: string;
  /** Progress of the build: events of the log in the books so far, of the whole log. */
  onProgress?: (done: number, total: number) => void;
  /** Keep the database (its URL is returned) instead of dropping it. */
  keep?: boolean;
  /**
   * The marker token and database name to create it under, for a caller that removes what it
   * owns when interrupted (pnpm bench registers the name before the build, so Ctrl-C drops it).
   * Default: a token and name of its own.
   */
  database?: { token: string; name: string };
}

export interface TraceAtScaleResult extends TraceLatency {
  /** Payments and tranche flows in the books, counted after the build. */
  paymentsInBooks: number;
  flowsInBooks: number;
  households: number;
  /** Building the books, then ANALYZE of the schema (statistics as the projector keeps them). */
  buildMs: number;
  analyzeMs: number;
  /** Set when `keep`: the database with the books (schema `books`). */
  keptUrl?: string;
}

/**
 * Builds county-shaped books with `payments` payments in a database of its own (created with the
 * benchmark's marker, dropped after), analyzes them, and measures the household trace there.
 */
export async function measureTraceAtScale(o: TraceAtScaleOptions): Promise<TraceAtScaleResult> {
  const households = householdsFor(o.payments ?? 1_000_000);
  const token = o.database?.token ?? newRunToken();
  const name = o.database?.name ?? `${benchPrefix}_${token}_trace`;
  const url = await createMarkedDatabase(o.adminUrl, name, token);
  const db = createDb<Database>(url, { schema: 'books', max: 2, applicationName: 'fundtrace-bench' });
  try {
    await migrateToLatest(db, { schema: 'books' });
    const started = performance.now();
    await loadLog(db, countyLog({ households, seed: o.seed }), {
      onProgress: o.onProgress,
      total: logEventsFor(households),
    });
    const buildMs = performance.now() - started;
    const analyzed = performance.now();
    await sql`analyze`.execute(db);
    const analyzeMs = performance.now() - analyzed;
    const { rows } = await sql<{ payments: string; flows: string }>`
      select (select count(*) from payments)::text as payments, (select count(*) from tranche_flows)::text as flows`.execute(
      db,
    );
    const latency = await measureTraceLatency(db, households, o.samples ?? 1_000, o.seed);
    return {
      ...latency,
      paymentsInBooks: Number(rows[0]!.payments),
      flowsInBooks: Number(rows[0]!.flows),
      households,
      buildMs: Math.round(buildMs),
      analyzeMs: Math.round(analyzeMs),
      ...(o.keep ? { keptUrl: databaseUrlOn(o.adminUrl, name) } : {}),
    };
  } finally {
    await db.destroy();
    if (!o.keep) await dropMarkedDatabase(o.adminUrl, name, token);
  }
}
