import { ledger } from '@fundtrace/events';
import { type Rejected, reject } from './rejections';
import type { AccountState, LedgerState, TrancheState } from './state';

type TrancheDebit = ledger.TrancheDebit;

export type Picked = { ok: true; consumed: TrancheDebit[] };

/**
 * A decider's scratch view of tranche balances. `decide` never mutates the
 * state, yet a roster's rows must see the money the earlier rows took: the
 * draft keeps what this command has consumed so far and reads through to the
 * state for everything else. O(1) per lookup, FIFO scans resume where the last
 * one stopped.
 */
export class Draft {
  private readonly taken = new Map<string, bigint>();
  private readonly takenFromAccount = new Map<string, bigint>();
  private readonly cursors = new Map<string, number>();

  constructor(readonly state: LedgerState) {}

  remainingOf(t: TrancheState): bigint {
    return t.remainingFen - (this.taken.get(t.id) ?? 0n);
  }

  balanceOf(a: AccountState): bigint {
    return a.balanceFen - (this.takenFromAccount.get(a.id) ?? 0n);
  }

  /** Σ remaining of the account's tranches whose purpose allows `use`. */
  availableFor(a: AccountState, allows: (purpose: string) => boolean): bigint {
    let sum = 0n;
    for (let i = this.cursor(a); i < a.tranches.length; i++) {
      const t = a.tranches[i]!;
      if (allows(t.purpose)) sum += this.remainingOf(t);
    }
    return sum;
  }

  /**
   * FIFO among the tranches whose purpose allows the use (ARCHITECTURE.md):
   * the oldest money is spent first, so remainders that carry over are young.
   */
  pickFifo(
    a: AccountState,
    amountFen: bigint,
    allows: (purpose: string) => boolean,
    use: string,
  ): Picked | Rejected {
    const consumed: TrancheDebit[] = [];
    let need = amountFen;
    for (let i = this.cursor(a); i < a.tranches.length && need > 0n; i++) {
      const t = a.tranches[i]!;
      if (!allows(t.purpose)) continue;
      const left = this.remainingOf(t);
      if (left === 0n) continue;
      const take = left < need ? left : need;
      consumed.push({ trancheId: t.id, amountFen: take });
      need -= take;
    }
    if (need > 0n) return this.shortfall(a, amountFen, allows, use);
    return this.commit(consumed);
  }

  /** The officer named the tranches (统筹整合 always does): check each, then take exactly those. */
  pickNamed(
    a: AccountState,
    named: readonly TrancheDebit[],
    amountFen: bigint | null,
    allows: (purpose: string) => boolean,
    use: string,
  ): Picked | Rejected {
    const seen = new Set<string>();
    let sum = 0n;
    for (const piece of named) {
      const t = this.state.tranches.get(piece.trancheId);
      if (!t) return reject('tranche_not_found', { trancheId: piece.trancheId });
      if (t.accountId !== a.id) {
        return reject(
          'tranche_not_in_account',
          { trancheId: t.id, accountId: t.accountId, named: a.id },
          {
            trancheId: t.id,
            accountId: t.accountId,
          },
        );
      }
      if (seen.has(t.id)) {
        return reject('named_tranches_mismatch', { case: 'twice', trancheId: t.id });
      }
      seen.add(t.id);
      if (!allows(t.purpose)) {
        return reject(
          'purpose_not_allowed',
          { case: 'tranche', trancheId: t.id, purpose: t.purpose, use },
          { trancheId: t.id, purpose: t.purpose, use },
        );
      }
      const left = this.remainingOf(t);
      if (left < piece.amountFen) {
        return reject(
          'insufficient_funds',
          { case: 'tranche', trancheId: t.id, leftFen: left, namedFen: piece.amountFen },
          { trancheId: t.id, availableFen: left.toString(), requestedFen: piece.amountFen.toString() },
        );
      }
      sum += piece.amountFen;
    }
    if (amountFen !== null && sum !== amountFen) {
      return reject(
        'named_tranches_mismatch',
        { case: 'sum', namedFen: sum, amountFen },
        {
          namedFen: sum.toString(),
          amountFen: amountFen.toString(),
          differenceFen: (amountFen - sum).toString(),
        },
      );
    }
    return this.commit(named.map((p) => ({ trancheId: p.trancheId, amountFen: p.amountFen })));
  }

  private commit(consumed: TrancheDebit[]): Picked | Rejected {
    if (consumed.length > ledger.tranchePiecesMax) {
      return reject('too_many_tranches', { count: consumed.length, max: ledger.tranchePiecesMax });
    }
    for (const piece of consumed) {
      const t = this.state.tranches.get(piece.trancheId)!;
      this.taken.set(t.id, (this.taken.get(t.id) ?? 0n) + piece.amountFen);
      this.takenFromAccount.set(
        t.accountId,
        (this.takenFromAccount.get(t.accountId) ?? 0n) + piece.amountFen,
      );
    }
    return { ok: true, consumed };
  }

  private shortfall(
    a: AccountState,
    amountFen: bigint,
    allows: (purpose: string) => boolean,
    use: string,
  ): Rejected {
    const allowed = this.availableFor(a, allows);
    const balance = this.balanceOf(a);
    const details = {
      accountId: a.id,
      requestedFen: amountFen.toString(),
      availableForUseFen: allowed.toString(),
      balanceFen: balance.toString(),
      shortfallFen: (amountFen - allowed).toString(),
    };
    if (balance >= amountFen) {
      return reject(
        'purpose_not_allowed',
        {
          case: 'account',
          accountId: a.id,
          use,
          balanceFen: balance,
          allowedFen: allowed,
          requestedFen: amountFen,
        },
        details,
      );
    }
    return reject(
      'insufficient_funds',
      { case: 'account', accountId: a.id, use, availableFen: allowed, requestedFen: amountFen },
      details,
    );
  }

  /** First tranche that may still hold money, advancing past exhausted ones. */
  private cursor(a: AccountState): number {
    let i = this.cursors.get(a.id) ?? a.exhaustedBefore;
    while (i < a.tranches.length && this.remainingOf(a.tranches[i]!) === 0n) i++;
    this.cursors.set(a.id, i);
    return i;
  }
}
