import { type RejectionArgs, rejectionMessage } from './rejection-messages';

/**
 * The closed union of reasons the ledger refuses a command, each with the HTTP
 * status the edge answers with. 404: the thing named does not exist; 409: it
 * conflicts with what exists (already there, already done); 422: a business
 * rule refuses it. Messages are written for the finance officer who has to act, in Chinese, by
 * one catalogue (rejection-messages.ts, decision 0131).
 */
export const rejectionStatus = {
  // existence
  account_not_found: 404,
  allocation_not_found: 404,
  plan_not_found: 404,
  plan_line_not_found: 404,
  project_not_found: 404,
  acceptance_not_found: 404,
  payment_not_found: 404,
  notice_not_found: 404,
  objection_not_found: 404,
  movement_not_found: 404,
  tranche_not_found: 404,
  unknown_programme: 422,
  unknown_purpose: 422,
  // conflicts with what exists
  account_exists: 409,
  allocation_exists: 409,
  receipt_exists: 409,
  allocation_already_received: 409,
  integration_exists: 409,
  plan_exists: 409,
  project_exists: 409,
  acceptance_exists: 409,
  earmark_exists: 409,
  disbursement_exists: 409,
  payment_exists: 409,
  roster_exists: 409,
  notice_exists: 409,
  objection_exists: 409,
  reversal_exists: 409,
  payment_not_in_flight: 409,
  /**
   * The bank's result for a payment that already has that result, recorded otherwise: another
   * 银行流水号 or date for a settled payment, another date for a returned one (decision 0134).
   */
  bank_result_conflict: 409,
  objection_already_resolved: 409,
  notice_already_closed: 409,
  movement_already_reversed: 409,
  fiscal_year_closed: 409,
  idempotency_key_reused: 409,
  // business rules
  insufficient_funds: 422,
  purpose_not_allowed: 422,
  tranche_not_in_account: 422,
  too_many_tranches: 422,
  named_tranches_mismatch: 422,
  account_kind_mismatch: 422,
  allocation_to_self: 422,
  /** The 资金来源 an allocation is issued under is not where the money it draws came from. */
  fund_source_mismatch: 422,
  allocation_not_addressed_here: 422,
  allocation_amount_mismatch: 422,
  total_mismatch: 422,
  duplicate_line: 422,
  plan_line_exceeded: 422,
  plan_below_commitments: 422,
  project_budget_exceeded: 422,
  project_budget_below_earmarked: 422,
  acceptance_required: 422,
  acceptance_for_other_project: 422,
  household_not_registered: 422,
  household_exited: 422,
  household_without_account: 422,
  member_deceased: 422,
  duplicate_payment: 422,
  above_standard: 422,
  below_standard: 422,
  amount_above_limit: 422,
  notice_required: 422,
  notice_mismatch: 422,
  notice_period_not_over: 422,
  notice_period_too_short: 422,
  notice_period_invalid: 422,
  objection_open: 422,
  objection_upheld: 422,
  notice_closed: 422,
  notice_lines_invalid: 422,
  /** 未经公示: a payment under a notice whose published list does not hold it, or not at that amount. */
  not_on_notice: 422,
  roster_rows_invalid: 422,
  roster_row_duplicate: 422,
  /** A bank result file (回盘) with refused rows: details.errors names each row (decision 0129). */
  bank_results_invalid: 422,
  /** A bank row whose 户编号 or 金额 is not its payment's. */
  bank_row_mismatch: 422,
  /** A bank file naming one payment on two rows. */
  bank_row_payment_twice: 422,
  /** A row number given twice in one file. */
  row_number_duplicate: 422,
  /** A bank's settlement or return dated after today (Beijing): a typo, never a fact yet. */
  date_in_future: 422,
  movement_not_reversible: 422,
  reversal_blocked_downstream: 422,
  payments_in_flight: 422,
} as const;

export type RejectionCode = keyof typeof rejectionStatus;

export interface Rejected {
  readonly ok: false;
  readonly code: RejectionCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** A refusal: its code, the message its wording makes of `args`, and its details (the API's contract). */
export function reject<C extends RejectionCode>(
  code: C,
  args: RejectionArgs[C],
  details?: Record<string, unknown>,
): Rejected {
  const message = rejectionMessage(code, args);
  return details === undefined ? { ok: false, code, message } : { ok: false, code, message, details };
}

/** A broken invariant: the writer's state or an event contradicts itself. Crash, never answer 4xx. */
export class LedgerInvariantError extends Error {
  override readonly name = 'LedgerInvariantError';
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new LedgerInvariantError(message);
}
