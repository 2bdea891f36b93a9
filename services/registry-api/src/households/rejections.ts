/**
 * Every refusal of the registry, a closed union of snake_case codes with the HTTP status the edge
 * answers with. Kept free of fastify so the decider (pure) can name them.
 */
export const registryRejectionStatuses = {
  household_already_registered: 409,
  household_not_registered: 404,
  household_removed: 409,
  household_erased: 409,
  household_still_enrolled: 409,
  household_key_shared: 409,
  household_already_lifted: 409,
  household_not_lifted: 409,
  id_number_invalid: 422,
  id_number_registered_in_county: 409,
  id_number_repeated_in_household: 422,
  birth_date_mismatch: 422,
  member_name_invalid: 422,
  household_head_missing: 422,
  household_head_ambiguous: 422,
  household_members_too_many: 422,
  village_code_invalid: 422,
  village_outside_partition: 422,
  village_unchanged: 409,
  account_invalid: 422,
  account_holder_not_member: 422,
  account_holder_deceased: 422,
  account_unchanged: 409,
  change_reason_required: 422,
  phone_invalid: 422,
  lifted_date_required: 422,
  lifted_date_not_allowed: 422,
  date_before_registration: 422,
  date_in_future: 422,
  date_before_birth: 422,
  date_before_exit: 422,
  member_not_found: 404,
  member_already_deceased: 409,
  import_rows_invalid: 422,
  import_not_found: 404,
  partition_not_served: 404,
  projection_behind: 409,
  sequence_not_written: 422,
  idempotency_key_reused: 409,
} as const;

export type RegistryRejectionCode = keyof typeof registryRejectionStatuses;

/** One thing wrong with a command; a registration may have many, all reported at once. */
export interface Problem {
  readonly code: RegistryRejectionCode;
  /** Never contains personal data: it is shown in import reports and may reach logs. */
  readonly message: string;
  /** 1-based position of the member in the command (registration, import), when it is about one. */
  readonly member?: number;
  /** Which part of the command: `idNumber`, `account`, `phone`, `villageCode`, … */
  readonly field?: string;
  /** The validator's precise reason, e.g. `check_digit`, `luhn`. */
  readonly reason?: string;
  /** Another household involved (the one already holding an ID number). */
  readonly householdId?: string;
}

export interface RegistryRejection {
  readonly code: RegistryRejectionCode;
  readonly message: string;
  readonly problems: readonly Problem[];
}
