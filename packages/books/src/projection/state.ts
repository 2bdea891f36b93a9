import type { CopyRows } from '@fundtrace/db';
import type { TranchePiece } from './batch';
import { EntityStore, type EntityTable, entityKeys } from './store';

/**
 * Rows a projector keeps in memory across batches, summed over its streams, before it forgets a
 * stream's rows and reads them again as batches need them. A payment with its tranche pieces
 * (two rows here) measured 626 bytes of heap, so the bound is about 300 MB.
 */
export const projectionStateRowsMax = 1_000_000;

/**
 * What one stream's projection knows of the books it writes: every row its batches loaded or
 * wrote, as committed, kept from one batch to the next so a batch reads from PostgreSQL only the
 * rows it has never seen (decision 0056).
 *
 * Sound because every row a stream's batch reads is written by that stream alone: the tables it
 * loads are keyed by the stream's partition and each is written by one context (ledger, registry
 * or audit); `allocations`, written from two partitions, is never loaded. A state is used only for
 * the batch that follows the last one it applied (`nextSeq`), which is the checkpoint read in the
 * batch's own transaction: another instance committing in between, a rolled-back transaction, a
 * quarantined message stepped over all break that chain, and the state is dropped.
 *
 * `complete`: the state began at sequence 1 (the stream's checkpoint was 0, so the partition's
 * rows of its tables were empty) and has seen every row since; a key it does not hold is absent,
 * with no query. A rebuild and a projector starting a new stream run complete.
 */
export class StreamState {
  readonly stores: { readonly [T in EntityTable]: EntityStore<T> };
  /** Tranche pieces each payment consumed, from the books or from a batch. */
  readonly paymentPieces = new Map<string, readonly TranchePiece[]>();
  /** Same-partition parents of tranches (where a reversal's money goes back). */
  readonly trancheParents = new Map<string, readonly TranchePiece[]>();
  /** Households whose members are all in `stores.members`. */
  readonly membersLoaded = new Set<string>();
  /** The first sequence of the batch this state may serve; undefined while a batch is applied. */
  nextSeq: number | undefined;

  constructor(
    readonly partition: string,
    readonly complete: boolean,
    /** Set by a rebuild: the big append tables are written with COPY (see Batch.write). */
    readonly copy?: CopyRows,
  ) {
    const make = <T extends EntityTable>(table: T) => new EntityStore(table, partition);
    this.stores = Object.fromEntries(
      (Object.keys(entityKeys) as EntityTable[]).map((table) => [table, make(table)]),
    ) as unknown as { readonly [T in EntityTable]: EntityStore<T> };
  }

  /** Rows held: what the memory bound counts. */
  rows(): number {
    let total = this.paymentPieces.size + this.trancheParents.size;
    for (const store of Object.values(this.stores) as EntityStore<EntityTable>[]) total += store.size;
    return total;
  }

  /** The batch up to `lastSeq` committed as applied: its rows are the books' now. */
  applied(lastSeq: number): void {
    for (const store of Object.values(this.stores) as EntityStore<EntityTable>[]) store.settle();
    this.nextSeq = lastSeq + 1;
  }
}

/**
 * The projector's states, one per stream. `take` hands out a stream's state for a batch, or a
 * fresh one when the kept one cannot serve it; `applied` after the batch's writes were sent and
 * `drop` when a batch failed, so a half-applied state is never used again.
 */
export class ProjectionStates {
  private readonly byStream = new Map<string, StreamState>();

  constructor(
    private readonly rowsMax = projectionStateRowsMax,
    private readonly copy?: CopyRows,
  ) {}

  take(stream: string, partition: string, firstSeq: number): StreamState {
    const following = this.follow(stream, firstSeq);
    if (following !== undefined) return following;
    const kept = this.byStream.get(stream);
    const fresh = new StreamState(partition, firstSeq === 1 && kept === undefined, this.copy);
    this.byStream.set(stream, fresh);
    return fresh;
  }

  /**
   * The kept state of `stream` when it can serve the batch from `firstSeq` (the one after the
   * batch it applied), else `undefined`: no fresh state, which would read from PostgreSQL rows a
   * batch not yet committed wrote (see prepareBatch). Past the memory bound it is `undefined`
   * too, so that the batch goes through `take`, which starts afresh.
   */
  follow(stream: string, firstSeq: number): StreamState | undefined {
    const kept = this.byStream.get(stream);
    if (kept === undefined || kept.nextSeq !== firstSeq || this.rows() > this.rowsMax) return undefined;
    kept.nextSeq = undefined;
    return kept;
  }

  /** Forgets `stream`'s state, if it is still `state` (a newer one stays). */
  drop(stream: string, state?: StreamState): void {
    if (state === undefined || this.byStream.get(stream) === state) this.byStream.delete(stream);
  }

  rows(): number {
    let total = 0;
    for (const state of this.byStream.values()) total += state.rows();
    return total;
  }
}
