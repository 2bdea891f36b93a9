export {
  type GenerateHouseholdsOptions,
  generateHouseholds,
  generateHouseholdsMax,
  generateVillages,
  type Township,
  townshipsOf,
  type Village,
} from './generate';
export {
  type AccountInput,
  accountInputSchema,
  type HouseholdInput,
  type HouseholdInputParsed,
  type HouseholdStatus,
  householdInputSchema,
  householdStatuses,
  type MemberInput,
  type MemberInputParsed,
  memberInputSchema,
  personNameCharsMax,
} from './input';
export { type Random, seededRandom } from './random';
export {
  type ColumnDefinition,
  type ColumnKey,
  cellCharsMax,
  type HouseholdRows,
  householdColumns,
  householdHeader,
  householdsToImportRows,
  householdToRows,
  importRowsMax,
  type ParsedHousehold,
  type ParseRowsResult,
  parseHouseholdRows,
  type RowError,
  type SourceRow,
} from './rows';
