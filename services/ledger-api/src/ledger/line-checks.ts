import { ledger } from '@fundtrace/events';
import type { Programme } from '../reference/programmes';
import { paymentAmountMaxFen } from './limits';
import { type Rejected, reject } from './rejections';

/**
 * The checks a household line passes wherever it appears: a payment, a roster row, and a line
 * proposed on a notice (公示名单) before anyone is paid. One definition, so a notice cannot list
 * what a payment would refuse.
 */

/** What the decider reads of the register; see RegistryView in decide.ts. */
export interface HouseholdLookup {
  readonly seq: number;
  household(householdId: string): { readonly exited: boolean; readonly accountBound: boolean } | undefined;
}

/** The amount against the ledger's limit and the programme's standard × quantity (超标准). */
export function checkLineAmount(
  programme: Programme,
  quantity: number,
  amountFen: bigint,
): Rejected | undefined {
  if (amountFen > paymentAmountMaxFen) {
    return reject('amount_above_limit', { amountFen, limitFen: paymentAmountMaxFen });
  }
  const { minFen, maxFen } = programme.standard;
  const q = BigInt(quantity);
  if (maxFen !== null && amountFen > maxFen * q) {
    return reject(
      'above_standard',
      { programme: programme.name, unit: programme.unit, amountFen, standardFen: maxFen, quantity },
      { standardFen: maxFen.toString(), quantity, capFen: (maxFen * q).toString() },
    );
  }
  if (minFen !== null && amountFen < minFen * q) {
    return reject(
      'below_standard',
      { programme: programme.name, unit: programme.unit, amountFen, standardFen: minFen, quantity },
      { standardFen: minFen.toString(), quantity, floorFen: (minFen * q).toString() },
    );
  }
  return undefined;
}

/**
 * The household is registered and has not exited; with `needsAccount`, it also has a bound
 * 一卡通 account to pay into. A notice does not need the account yet: the list is published while
 * applications are reviewed, and the account is checked when the payment is made.
 */
export function checkBeneficiary(
  registry: HouseholdLookup,
  householdId: string,
  needsAccount: boolean,
): Rejected | undefined {
  const h = registry.household(householdId);
  if (!h) {
    return reject('household_not_registered', { householdId, registrySeq: registry.seq });
  }
  if (h.exited) return reject('household_exited', { householdId });
  if (needsAccount && !h.accountBound) {
    return reject('household_without_account', { householdId });
  }
  return undefined;
}

/** What the registry tail knows of a household's members. */
export interface MemberFacts {
  /** Undefined where a view knows nothing of members (test stubs); the registry tail always knows. */
  readonly livingMembers?: number;
  readonly deceased?: ReadonlyArray<{ readonly memberNo: number; readonly diedOn: string }> | undefined;
}

/**
 * Payments for people who died (虚报冒领): a household whose every member is
 * recorded dead (MemberDeceased) is paid for nothing, and a per-person programme
 * pays at most as many persons as are alive. The registry names members, a
 * payment only its quantity of persons, so the check counts (decision 0032); it
 * is the test the false_claim warning rule applies afterwards.
 */
export function checkLivingBeneficiaries(
  programme: Programme,
  period: string,
  line: { readonly householdId: string; readonly quantity: number },
  h: MemberFacts,
): Rejected | undefined {
  const { livingMembers, deceased } = h;
  if (livingMembers === undefined || deceased === undefined || deceased.length === 0) return undefined;
  if (livingMembers <= 0) {
    return reject(
      'member_deceased',
      { case: 'all', householdId: line.householdId, deceased },
      { persons: null, livingMembers: 0, deceased },
    );
  }
  // Persons paid as the false_claim warning rule counts them: one definition (decision 0061).
  const persons = ledger.personsPaid(programme.unit, line.quantity, period);
  if (persons === null || persons <= livingMembers) return undefined;
  return reject(
    'member_deceased',
    {
      case: 'persons',
      programme: programme.name,
      householdId: line.householdId,
      persons,
      livingMembers,
      deceased,
    },
    { persons, livingMembers, deceased },
  );
}
