import { registry } from '@fundtrace/events';
import { z } from 'zod';

/**
 * A household as registry staff enter it, in clear text: the body of a registration command and one
 * household of an import. Only the shape is checked here; the rules (valid ID numbers, one head, a
 * holder who is a member, no ID registered twice in the county) are the registry decider's, so that
 * every refusal has a named code.
 */

/** Longest personal name: Chinese names are 2–4 characters; minority names in transcription run longer. */
export const personNameCharsMax = 30;
/** Long enough for any ID/account/phone spelling with separators, short enough to bound a request. */
const identifierCharsMax = 40;

export const memberInputSchema = z.object({
  name: z.string().min(1).max(personNameCharsMax),
  idNumber: z.string().min(1).max(identifierCharsMax),
  relation: z.enum(registry.relations),
  /** Optional: when given it must equal the birth date inside the ID number. */
  birthDate: z.iso.date().nullable().default(null),
  disability: registry.disabilitySchema.default(null),
  health: z.enum(registry.healthConditions),
});
export type MemberInput = z.input<typeof memberInputSchema>;
export type MemberInputParsed = z.output<typeof memberInputSchema>;

export const accountInputSchema = z.object({
  bank: z.string().min(1).max(16),
  medium: z.string().min(1).max(16),
  number: z.string().min(1).max(identifierCharsMax),
  /** 1-based position of the holder in `members` (registration) or a member number (binding later). */
  holderMemberNo: z.number().int().min(1).max(999),
});
export type AccountInput = z.output<typeof accountInputSchema>;

export const householdStatuses = ['enrolled', 'lifted'] as const;
export type HouseholdStatus = (typeof householdStatuses)[number];

export const householdInputSchema = z.object({
  householdId: z.string().min(1).max(registry.householdIdLengthMax),
  villageCode: z.string().min(1).max(12),
  causeOfPoverty: z.enum(registry.causesOfPoverty),
  registeredOn: z.iso.date(),
  /** `lifted` registers a household that already left poverty (an import of historical records). */
  status: z.enum(householdStatuses).default('enrolled'),
  liftedOn: z.iso.date().nullable().default(null),
  phone: z.string().min(1).max(identifierCharsMax).nullable().default(null),
  members: z.array(memberInputSchema).min(1).max(registry.householdMembersMax),
  account: accountInputSchema.nullable().default(null),
});
export type HouseholdInput = z.input<typeof householdInputSchema>;
export type HouseholdInputParsed = z.output<typeof householdInputSchema>;
