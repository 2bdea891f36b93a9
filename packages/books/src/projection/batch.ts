import { type CopyData, copyData, type Database } from '@fundtrace/db';
import { yieldToIo } from '@fundtrace/eventlog';
import { type Kysely, sql, type Transaction } from 'kysely';
import { type EventPosition, type InvariantCode, ProjectionInvariantError } from './invariant';
import type { StreamState } from './state';
import {
  type AppendTable,
  addRows,
  type EntityStore,
  type EntityTable,
  entityKeys,
  insertRows,
  loadRows,
  type Row,
  runStatement,
  upsertReturning,
  WriteQueue,
} from './store';

/**
 * Nominal accounts: the world outside a partition's books, so that every movement is a balanced
 * pair of entries. Their ids start with '@', which no ledger id can (ids are [A-Za-z0-9_-]).
 */
export const nominal = {
  /** Money entering the system (budget appropriation, bond, donation): root allocations. */
  external: '@external',
  /** Money arriving from another partition's allocation (到账). */
  received: '@received',
  /** Money issued to another partition (资金下达); whether it arrived is in `allocations`. */
  issued: '@issued',
  /** Payments instructed to the bank and not yet settled or returned. */
  pending: '@pending',
  /** Payments the bank confirmed in households' 一卡通 accounts. */
  households: '@households',
} as const;

/**
 * Append tables a rebuild writes with COPY: the four that take most of the ~7 rows an event writes.
 * Plain appends (no `on conflict`), whose values are text, numbers, bigints and bytes.
 */
const copiedTables: ReadonlySet<AppendTable> = new Set(['events', 'event_refs', 'entries', 'tranche_flows']);

/** Nominal accounts that are sources: they give money to the books, so their balance is negative. */
const sourceAccounts: ReadonlySet<string> = new Set([nominal.external, nominal.received]);

export interface TranchePiece {
  readonly trancheId: string;
  readonly amountFen: bigint;
}

interface Dims {
  readonly measure: string;
  readonly fundSource: string;
  readonly documentNumber: string;
  readonly fiscalYear: number;
  readonly villageCode: string;
  readonly programmeCode: string;
}

/** What the current event is, for error messages and for the rows it writes. */
export interface Current extends EventPosition {
  readonly partition: string;
  readonly occurredOn: string;
  readonly seqBig: bigint;
}

/** A batch's writes built ahead of its transaction (see Batch.compile). */
export interface CompiledWrites {
  readonly statement: { readonly text: string; readonly values: readonly unknown[] } | undefined;
  readonly copies: readonly { readonly table: AppendTable; readonly data: CopyData }[];
}

/** Rows a batch changed, per entity table (see Batch.takeWrites). */
export type ChangedRows = readonly (readonly [EntityTable, readonly Row<EntityTable>[]])[];

export class Batch {
  readonly stores: { readonly [T in EntityTable]: EntityStore<T> };
  private readonly appends = new Map<AppendTable, Record<string, unknown>[]>();
  private readonly progressSums = new Map<
    string,
    { dims: Dims; day: string; amount: bigint; movements: number }
  >();
  /** Allocation rows by their two writers: issued side sets, receiving side adds (see 0002). */
  private readonly allocationIssues: Row<'allocations'>[] = [];
  private readonly allocationReceipts = new Map<
    string,
    { fromPartition: string; allocationId: string; deltaFen: bigint }
  >();
  /** Plans whose lines were replaced, with their final lines. */
  private readonly planLines = new Map<string, Row<'plan_lines'>[]>();
  /** Tranche pieces each payment consumed, from the books or from this batch. */
  readonly paymentPieces: Map<string, readonly TranchePiece[]>;
  /** Same-partition parents of tranches a reversal cancels: where their money must go back. */
  readonly trancheParents: Map<string, readonly TranchePiece[]>;
  readonly partition: string;

  private current: Current | undefined;
  private entryNo = 0;
  private debitTotal = 0n;
  private creditTotal = 0n;
  private readonly touchedAccounts = new Set<string>();
  private flowNo = 0;

  /**
   * A batch over `state`: the rows earlier batches of the stream left there are read from
   * memory, the others loaded (or known absent when the state is complete, see StreamState).
   */
  constructor(private readonly state: StreamState) {
    this.partition = state.partition;
    this.stores = state.stores;
    this.paymentPieces = state.paymentPieces;
    this.trancheParents = state.trancheParents;
  }

  // ── loading ──

  async load<T extends EntityTable>(
    reader: Kysely<Database>,
    table: T,
    ids: Iterable<string | number>,
  ): Promise<void> {
    const wanted = [...new Set([...ids].map(String))].filter((id) => !this.stores[table].isLoaded(id));
    if (wanted.length === 0) return;
    const rows = this.state.complete ? [] : await loadRows(reader, table, this.partition, wanted);
    this.stores[table].absorb(
      wanted.map((id) => [table === 'fiscal_years' ? Number(id) : id]),
      rows,
    );
  }

  async loadMembers(reader: Kysely<Database>, householdIds: Iterable<string>): Promise<void> {
    const ids = [...new Set(householdIds)].filter((id) => !this.state.membersLoaded.has(id));
    if (ids.length === 0) return;
    const rows = this.state.complete ? [] : await loadRows(reader, 'members', this.partition, ids);
    this.stores.members.absorb([], rows);
    for (const id of ids) this.state.membersLoaded.add(id);
  }

  async loadPaymentPieces(reader: Kysely<Database>, paymentIds: Iterable<string>): Promise<void> {
    const ids = [...new Set(paymentIds)].filter((id) => !this.paymentPieces.has(id));
    if (ids.length === 0) return;
    const pieces = new Map<string, TranchePiece[]>(ids.map((id) => [id, []]));
    if (!this.state.complete) {
      const { rows } = await sql<{ child_id: string; parent_tranche_id: string; amount_fen: bigint }>`
        select child_id, parent_tranche_id, amount_fen from tranche_flows
        where partition = ${this.partition} and child_kind = 'payment' and child_id = any(${ids}::text[])
        order by seq, piece_no`.execute(reader);
      for (const row of rows)
        pieces.get(row.child_id)!.push({ trancheId: row.parent_tranche_id, amountFen: row.amount_fen });
    }
    for (const [id, list] of pieces) this.paymentPieces.set(id, list);
  }

  async loadTrancheParents(reader: Kysely<Database>, trancheIds: Iterable<string>): Promise<void> {
    const ids = [...new Set(trancheIds)].filter((id) => !this.trancheParents.has(id));
    if (ids.length === 0) return;
    const parents = new Map<string, TranchePiece[]>(ids.map((id) => [id, []]));
    if (!this.state.complete) {
      const { rows } = await sql<{ child_id: string; parent_tranche_id: string; amount_fen: bigint }>`
        select child_id, parent_tranche_id, amount_fen from tranche_flows
        where partition = ${this.partition} and child_kind = 'tranche' and parent_partition = ${this.partition}
          and child_id = any(${ids}::text[])
        order by seq, piece_no`.execute(reader);
      for (const row of rows)
        parents.get(row.child_id)!.push({ trancheId: row.parent_tranche_id, amountFen: row.amount_fen });
    }
    for (const [id, list] of parents) this.trancheParents.set(id, list);
  }

  // ── per event ──

  begin(current: Current): void {
    this.current = current;
    this.entryNo = 0;
    this.flowNo = 0;
    this.debitTotal = 0n;
    this.creditTotal = 0n;
    this.touchedAccounts.clear();
  }

  get at(): Current {
    if (this.current === undefined) throw new Error('no event in progress');
    return this.current;
  }

  fail(invariant: InvariantCode, detail: string): never {
    throw new ProjectionInvariantError(this.at, invariant, detail);
  }

  /** Ends the event: its entries must balance and no account may be below zero. */
  end(): void {
    if (this.debitTotal !== this.creditTotal) {
      this.fail('entries_unbalanced', `debits ${this.debitTotal} fen ≠ credits ${this.creditTotal} fen`);
    }
    for (const accountId of [...this.touchedAccounts].sort()) {
      const balance = this.stores.balances.get(accountId)!;
      if (balance.balance_fen < 0n && !sourceAccounts.has(accountId)) {
        this.fail('balance_negative', `account ${accountId} would hold ${balance.balance_fen} fen`);
      }
    }
    this.current = undefined;
  }

  append(table: AppendTable, row: Record<string, unknown>): void {
    let rows = this.appends.get(table);
    if (rows === undefined) {
      rows = [];
      this.appends.set(table, rows);
    }
    rows.push(row);
  }

  // ── money ──

  private balance(accountId: string): Row<'balances'> {
    const existing = this.stores.balances.get(accountId);
    if (existing !== undefined) return existing;
    return {
      partition: this.partition,
      account_id: accountId,
      debit_fen: 0n,
      credit_fen: 0n,
      balance_fen: 0n,
    };
  }

  /** One entry: money arrives in (debit) or leaves (credit) an account, optionally one tranche of it. */
  entry(
    side: 'debit' | 'credit',
    accountId: string,
    amountFen: bigint,
    movementKind: string,
    movementId: string,
    trancheId: string | null = null,
  ): void {
    if (amountFen <= 0n) throw new RangeError(`entry amount must be positive, got ${amountFen}`);
    const balance = { ...this.balance(accountId) };
    if (side === 'debit') {
      balance.debit_fen += amountFen;
      balance.balance_fen += amountFen;
      this.debitTotal += amountFen;
    } else {
      balance.credit_fen += amountFen;
      balance.balance_fen -= amountFen;
      this.creditTotal += amountFen;
      // Checked at once, before the tranche's own remainder: the account is what the books show.
      if (balance.balance_fen < 0n && !sourceAccounts.has(accountId)) {
        this.fail('balance_negative', `account ${accountId} would hold ${balance.balance_fen} fen`);
      }
    }
    this.stores.balances.put(balance);
    this.touchedAccounts.add(accountId);
    this.append('entries', {
      partition: this.partition,
      seq: this.at.seqBig,
      entry_no: this.entryNo++,
      account_id: accountId,
      tranche_id: trancheId,
      side,
      amount_fen: amountFen,
      movement_kind: movementKind,
      movement_id: movementId,
      booked_on: this.at.occurredOn,
    });
  }

  tranche(trancheId: string, invariant: InvariantCode = 'tranche_unknown'): Row<'tranches'> {
    const row = this.stores.tranches.get(trancheId);
    if (row === undefined)
      this.fail(invariant, `tranche ${trancheId} is not in the books of ${this.partition}`);
    return row;
  }

  /** Consumes pieces of tranches (a debit): credit entries on their accounts, remainders go down. */
  consume(
    pieces: readonly TranchePiece[],
    movementKind: string,
    movementId: string,
    options: { fromAccountId?: string; unknown?: InvariantCode } = {},
  ): Row<'tranches'>[] {
    const consumed: Row<'tranches'>[] = [];
    for (const piece of pieces) {
      const tranche = this.tranche(piece.trancheId, options.unknown);
      if (options.fromAccountId !== undefined && tranche.account_id !== options.fromAccountId) {
        this.fail(
          'tranche_unknown',
          `tranche ${piece.trancheId} belongs to account ${tranche.account_id}, not ${options.fromAccountId}`,
        );
      }
      this.entry('credit', tranche.account_id, piece.amountFen, movementKind, movementId, tranche.tranche_id);
      const remaining = tranche.remaining_fen - piece.amountFen;
      if (remaining < 0n) {
        this.fail(
          'tranche_overdrawn',
          `tranche ${piece.trancheId} holds ${tranche.remaining_fen} of ${tranche.amount_fen} fen, ${piece.amountFen} taken`,
        );
      }
      const next = { ...tranche, remaining_fen: remaining };
      this.stores.tranches.put(next);
      consumed.push(next);
    }
    return consumed;
  }

  /** Gives pieces back to tranches (a return or a reversal): debit entries, remainders go up. */
  restore(pieces: readonly TranchePiece[], movementKind: string, movementId: string): Row<'tranches'>[] {
    const restored: Row<'tranches'>[] = [];
    for (const piece of pieces) {
      const tranche = this.tranche(piece.trancheId);
      const remaining = tranche.remaining_fen + piece.amountFen;
      if (remaining > tranche.amount_fen) {
        this.fail(
          'tranche_overfilled',
          `tranche ${piece.trancheId} of ${tranche.amount_fen} fen would hold ${remaining} fen`,
        );
      }
      const next = { ...tranche, remaining_fen: remaining };
      this.stores.tranches.put(next);
      this.entry('debit', tranche.account_id, piece.amountFen, movementKind, movementId, tranche.tranche_id);
      restored.push(next);
    }
    return restored;
  }

  /** A new tranche (a credit): its lineage is checked here, then it is debited to its account. */
  create(
    credit: {
      trancheId: string;
      accountId: string;
      amountFen: bigint;
      fundSource: string;
      fiscalYear: number;
      purpose: string;
      documentNumber: string;
      parents: readonly { partition: string | null; trancheId: string; amountFen: bigint }[];
    },
    movementKind: string,
    movementId: string,
    root: boolean,
  ): Row<'tranches'> {
    if (this.stores.tranches.get(credit.trancheId) !== undefined) {
      this.fail('tranche_duplicate', `tranche ${credit.trancheId} already exists`);
    }
    if (root && credit.parents.length > 0) {
      this.fail('lineage_broken', `root tranche ${credit.trancheId} names ${credit.parents.length} parents`);
    }
    if (!root) {
      if (credit.parents.length === 0)
        this.fail('lineage_broken', `tranche ${credit.trancheId} has no parents`);
      const sum = credit.parents.reduce((total, parent) => total + parent.amountFen, 0n);
      if (sum !== credit.amountFen) {
        this.fail(
          'lineage_broken',
          `parents of tranche ${credit.trancheId} sum to ${sum} fen, the tranche holds ${credit.amountFen} fen`,
        );
      }
    }
    const row: Row<'tranches'> = {
      partition: this.partition,
      tranche_id: credit.trancheId,
      account_id: credit.accountId,
      amount_fen: credit.amountFen,
      remaining_fen: credit.amountFen,
      fund_source: credit.fundSource,
      fiscal_year: credit.fiscalYear,
      purpose: credit.purpose,
      document_number: credit.documentNumber,
      movement_kind: movementKind,
      movement_id: movementId,
      is_root: root,
      created_seq: this.at.seqBig,
      created_on: this.at.occurredOn,
    };
    this.stores.tranches.put(row);
    this.entry('debit', credit.accountId, credit.amountFen, movementKind, movementId, credit.trancheId);
    this.trancheParents.set(
      credit.trancheId,
      credit.parents
        .filter((parent) => (parent.partition ?? this.partition) === this.partition)
        .map((parent) => ({ trancheId: parent.trancheId, amountFen: parent.amountFen })),
    );
    for (const parent of credit.parents) {
      const parentPartition = parent.partition ?? this.partition;
      if (parentPartition === this.partition) this.tranche(parent.trancheId, 'lineage_broken');
      this.flow(parentPartition, parent.trancheId, 'tranche', credit.trancheId, parent.amountFen);
    }
    return row;
  }

  /** A lineage edge (tranche_flows). */
  flow(
    parentPartition: string,
    parentTrancheId: string,
    childKind: 'tranche' | 'payment' | 'allocation',
    childId: string,
    amountFen: bigint,
  ): void {
    this.append('tranche_flows', {
      partition: this.partition,
      seq: this.at.seqBig,
      piece_no: this.flowNo++,
      parent_partition: parentPartition,
      parent_tranche_id: parentTrancheId,
      child_kind: childKind,
      child_id: childId,
      amount_fen: amountFen,
      flowed_on: this.at.occurredOn,
    });
  }

  /** Adds to the day's spending progress under the dimensions of a tranche. */
  progress(
    measure: string,
    tranche: Pick<Row<'tranches'>, 'fund_source' | 'document_number' | 'fiscal_year'>,
    amountFen: bigint,
    extra: { villageCode?: string; programmeCode?: string } = {},
  ): void {
    const dims: Dims = {
      measure,
      fundSource: tranche.fund_source,
      documentNumber: tranche.document_number,
      fiscalYear: tranche.fiscal_year,
      villageCode: extra.villageCode ?? '',
      programmeCode: extra.programmeCode ?? '',
    };
    const day = this.at.occurredOn;
    const key = [
      day,
      dims.measure,
      dims.fundSource,
      dims.documentNumber,
      dims.fiscalYear,
      dims.villageCode,
      dims.programmeCode,
    ].join('\u0000');
    const entry = this.progressSums.get(key);
    if (entry === undefined) this.progressSums.set(key, { dims, day, amount: amountFen, movements: 1 });
    else {
      entry.amount += amountFen;
      entry.movements += 1;
    }
  }

  issueAllocation(row: Row<'allocations'>): void {
    this.allocationIssues.push(row);
  }

  receiveAllocation(fromPartition: string, allocationId: string, deltaFen: bigint): void {
    const key = `${fromPartition}\u0000${allocationId}`;
    const entry = this.allocationReceipts.get(key);
    if (entry === undefined) this.allocationReceipts.set(key, { fromPartition, allocationId, deltaFen });
    else entry.deltaFen += deltaFen;
  }

  replacePlanLines(planId: string, lines: Row<'plan_lines'>[]): void {
    this.planLines.set(planId, lines);
  }

  // ── writing ──

  /**
   * Takes the rows the batch changed out of the shared stores, so the next batch over the same
   * state (the next chunk) can be applied while these are written: afterwards the stores count
   * only that batch's changes.
   */
  takeWrites(): ChangedRows {
    const changed = (Object.keys(entityKeys) as EntityTable[]).map(
      (table) => [table, this.stores[table].changed()] as const,
    );
    for (const table of Object.keys(entityKeys) as EntityTable[]) this.stores[table].settle();
    return changed;
  }

  /**
   * Writes the batch: every entity upsert (`changed`, from takeWrites), every append and the
   * progress sums as one statement (one round trip, see WriteQueue); plan lines (deleted, then
   * inserted) and allocations (written from both partitions) on their own, which few batches have.
   */
  async write(trx: Transaction<Database>, changed: ChangedRows): Promise<void> {
    await this.send(trx, await this.compile(trx, changed));
  }

  /**
   * The batch's statement and COPY texts, built without a transaction (`reader` is asked only
   * for the tables' column types, once per process): a prepared batch builds them before its
   * transaction begins, so they go out the moment it does.
   */
  async compile(reader: Kysely<Database>, changed: ChangedRows): Promise<CompiledWrites> {
    const writes = new WriteQueue(reader);
    for (const [table, rows] of changed) await writes.upsert(table, rows);
    const copy = this.state.copy;
    const copies: { table: AppendTable; data: CopyData }[] = [];
    for (const [table, rows] of this.appends) {
      if (copy !== undefined && copiedTables.has(table)) {
        copies.push({ table, data: copyData(rows) });
        // Built while the batch before streams its writes (see yieldToIo).
        await yieldToIo();
        continue;
      }
      // A finding may cite the same subject or evidence in several steps; the first citation stays.
      await writes.insert(table, rows, table === 'finding_subjects' || table === 'finding_evidence');
    }
    await this.flushProgress(writes);
    return { statement: writes.statement(), copies };
  }

  /** Sends what `compile` built, after the few writes that need answers (plan lines, allocations). */
  async send(trx: Transaction<Database>, compiled: CompiledWrites): Promise<void> {
    if (this.planLines.size > 0) {
      await sql`delete from plan_lines where partition = ${this.partition}
        and plan_id = any(${[...this.planLines.keys()]}::text[])`.execute(trx);
      await insertRows(trx, 'plan_lines', [...this.planLines.values()].flat());
    }
    await this.flushAllocations(trx);
    // The statement and the COPYs go out together, queued on the transaction's connection one
    // behind another (they write different tables), and are awaited together: no round trip
    // between them.
    const copy = this.state.copy;
    await Promise.all([
      ...compiled.copies.map(({ table, data }) => copy!(trx as Transaction<unknown>, table, data)),
      runStatement(trx, compiled.statement),
    ]);
  }

  private async flushAllocations(trx: Transaction<Database>): Promise<void> {
    if (this.allocationIssues.length > 0) {
      // The receiving side may have created a row first; the issuing side fills its columns once.
      // A row already issued is left alone and missing from the returned ids: a duplicate.
      const issued = await upsertReturning(
        trx,
        'allocations',
        ['from_partition', 'allocation_id'],
        // Sorted like the receiving side's rows, so two partitions' batches lock rows in one order.
        [...this.allocationIssues]
          .sort((a, b) =>
            a.allocation_id < b.allocation_id ? -1 : a.allocation_id > b.allocation_id ? 1 : 0,
          )
          .map(({ received_fen: _received, ...row }) => row),
        'allocations.issued_seq is null',
        'allocation_id',
      );
      const written = new Set(issued);
      const duplicate = this.allocationIssues.find((row) => !written.has(row.allocation_id));
      if (duplicate !== undefined || issued.length !== this.allocationIssues.length) {
        const row = duplicate ?? this.allocationIssues[0]!;
        throw new ProjectionInvariantError(
          { stream: `LEDGER_${this.partition}`, seq: Number(row.issued_seq), type: 'AllocationIssued' },
          'entity_duplicate',
          `allocation ${row.allocation_id} was already issued`,
        );
      }
    }
    const receipts = [...this.allocationReceipts.values()].sort((a, b) =>
      a.fromPartition === b.fromPartition
        ? a.allocationId < b.allocationId
          ? -1
          : 1
        : a.fromPartition < b.fromPartition
          ? -1
          : 1,
    );
    if (receipts.length === 0) return;
    // Additive, so it commutes with the issuing partition's writes whatever order they commit in.
    await addRows(
      trx,
      'allocations',
      ['from_partition', 'allocation_id'],
      ['received_fen'],
      receipts.map((receipt) => ({
        from_partition: receipt.fromPartition,
        allocation_id: receipt.allocationId,
        to_partition: this.partition,
        received_fen: receipt.deltaFen,
      })),
    );
  }

  private async flushProgress(writes: WriteQueue): Promise<void> {
    const rows = [...this.progressSums.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, { dims, day, amount, movements }]) => ({
        partition: this.partition,
        day,
        measure: dims.measure,
        fund_source: dims.fundSource,
        document_number: dims.documentNumber,
        fiscal_year: dims.fiscalYear,
        village_code: dims.villageCode,
        programme_code: dims.programmeCode,
        amount_fen: amount,
        movements,
      }));
    await writes.add(
      'spending_progress',
      [
        'partition',
        'day',
        'measure',
        'fund_source',
        'document_number',
        'fiscal_year',
        'village_code',
        'programme_code',
      ],
      ['amount_fen', 'movements'],
      rows,
    );
  }
}
