import { clientIdSchema, registry } from '@fundtrace/events';
import { accountInputSchema, householdInputSchema, importRowsMax, memberInputSchema } from '@fundtrace/pii';
import { z } from 'zod';

/** Route schemas: the HTTP contract of registry-api. Responses list only masked data. */

export const partitionParams = z.object({
  partition: z.string().regex(/^\d{6}$/, 'a county code has 6 digits'),
});
export const householdParams = partitionParams.extend({ householdId: registry.householdIdSchema });

const date = z.iso.date();
const text = registry.registryTextSchema;

export const commandResult = z.object({
  householdId: z.string(),
  duplicate: z.boolean(),
  firstSeq: z.number().int().nullable(),
  lastSeq: z.number().int().nullable(),
  events: z.number().int(),
});

export const addMemberBody = z.object({
  commandId: clientIdSchema,
  member: memberInputSchema,
  reason: z.enum(registry.memberAddedReasons),
  addedOn: date,
});
export const deathBody = z.object({
  commandId: clientIdSchema,
  memberNo: registry.memberNoSchema,
  diedOn: date,
});
export const moveBody = z.object({
  commandId: clientIdSchema,
  toVillageCode: z.string().max(12),
  movedOn: date,
});
export const accountBody = z.object({
  commandId: clientIdSchema,
  account: accountInputSchema,
  on: date,
  reason: text.nullable().default(null),
});
export const exitBody = z.object({
  commandId: clientIdSchema,
  kind: z.enum(registry.exitKinds),
  exitedOn: date,
  reason: text,
});
export const reenterBody = z.object({
  commandId: clientIdSchema,
  reenteredOn: date,
  causeOfPoverty: z.enum(registry.causesOfPoverty),
  reason: text,
});
/** A deletion request: who asked and on what ground go in the reason (no personal data: it is logged). */
export const eraseBody = z.object({
  commandId: clientIdSchema,
  erasedOn: date,
  reason: text,
});
export const revealBody = z.object({
  commandId: clientIdSchema,
  memberNos: z.array(registry.memberNoSchema).max(registry.revealMembersMax).default([]),
  fields: z.array(z.enum(registry.revealableFields)).min(1).max(registry.revealableFields.length),
  reason: text,
});

const revealedValue = z.object({ value: z.string().nullable(), keyDestroyed: z.boolean() });
export const revealResponse = z.object({
  householdId: z.string(),
  auditSeq: z.number().int().nullable(),
  members: z.array(
    z.object({
      memberNo: z.number().int(),
      name: revealedValue.optional(),
      idNumber: revealedValue.optional(),
      health: revealedValue.optional(),
    }),
  ),
  phone: revealedValue.nullable().optional(),
  accountNumber: revealedValue.nullable().optional(),
});

const memberView = z.object({
  memberNo: z.number().int(),
  relation: z.string(),
  nameMasked: z.string(),
  idNumberMasked: z.string(),
  birthYear: z.number().int(),
  sex: z.enum(['male', 'female']),
  disability: z.object({ category: z.string(), grade: z.number().int() }).nullable(),
  deceasedOn: z.string().nullable(),
});
export const householdView = z.object({
  householdId: z.string(),
  villageCode: z.string(),
  causeOfPoverty: z.string(),
  registeredOn: z.string(),
  status: z.enum(['enrolled', 'lifted', 'removed']),
  exitedOn: z.string().nullable(),
  phoneMasked: z.string().nullable(),
  account: z
    .object({
      bank: z.string(),
      medium: z.enum(['card', 'passbook']),
      accountMasked: z.string(),
      holderMemberNo: z.number().int(),
      since: z.string(),
      householdsSharing: z.number().int(),
    })
    .nullable(),
  members: z.array(memberView),
  asOfSeq: z.number().int(),
});
export const householdPage = z.object({
  households: z.array(householdView),
  next: z.string().nullable(),
  /** The registry sequence the books had projected when the page was read. */
  asOfSeq: z.number().int(),
});
/**
 * Read-your-writes (decision 0043): the `lastSeq` a write answered. The read waits until the books
 * have projected it (at most `readYourWritesWaitMs`), else answers 409 `projection_behind`.
 */
const minSeq = z.coerce.number().int().min(0).optional();
export const freshnessQuery = z.object({ minSeq });
export const pageQuery = z.object({
  after: z.string().max(registry.householdIdLengthMax).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  minSeq,
});
export const numberSearchQuery = pageQuery.extend({
  number: z.string().min(1).max(registry.householdIdLengthMax),
});
/** Searching by ID number is a POST: the number stays out of URLs, access logs and proxies. */
export const idSearchBody = z.object({ idNumber: z.string().min(1).max(40), minSeq });
export const idSearchResponse = z.object({ household: householdView, memberNo: z.number().int() });

/** Most columns one import file may have: ours (17) plus room for remarks the office keeps. */
export const importColumnsMax = 64;

export const importBody = z.object({
  commandId: clientIdSchema,
  dryRun: z.boolean().default(false),
  header: z.array(z.string().max(64)).min(1).max(importColumnsMax),
  rows: z
    .array(
      z.object({
        row: z.number().int().min(2),
        cells: z.array(z.string().max(200)).max(importColumnsMax),
      }),
    )
    .max(importRowsMax),
});
export const importJobView = z.object({
  importId: z.string(),
  partition: z.string(),
  status: z.enum(['appending', 'done', 'failed']),
  rows: z.number().int(),
  households: z.number().int(),
  appendedHouseholds: z.number().int(),
  appendedEvents: z.number().int(),
  firstSeq: z.number().int().nullable(),
  lastSeq: z.number().int().nullable(),
  error: z.string().nullable(),
});
export const dryRunView = z.object({
  dryRun: z.literal(true),
  rows: z.number().int(),
  households: z.number().int(),
});

export const registerBody = z.object({ commandId: clientIdSchema, household: householdInputSchema });
