import { z } from 'zod';
import { villageCodeSchema } from '../admin-codes';
import { defineEvent } from '../define';
import {
  accountFieldsSchema,
  causesOfPoverty,
  commandDigestSchema,
  encryptedFieldSchema,
  exitKinds,
  householdIdSchema,
  householdMembersMax,
  maskedSchema,
  maskingVersionSchema,
  memberAddedReasons,
  memberNoSchema,
  memberSchema,
  piiHashSchema,
  registryDateSchema,
  registryTextSchema,
  revealableFields,
} from './common';

export * from './common';

/**
 * The registry catalogue, v1: households (建档立卡贫困户), their members and 一卡通 accounts in one
 * county's `REGISTRY_<code>` stream, written only by registry-api. What other contexts need from it:
 * - ledger-api: is a household registered, exited or removed; has it an account; which members died.
 * - projector: `households` and `members` rows from the hashes and masks (never clear text).
 * - rules: one account shared by several households (`accountHash`), one person registered in two
 *   counties (`idNumberHash`, comparable because every county uses the same HMAC key).
 */

export const HouseholdRegistered = defineEvent({
  type: 'HouseholdRegistered',
  version: 1,
  context: 'registry',
  entity: 'household',
  entityId: (d) => d.householdId,
  description:
    'A poor household was registered (建档立卡) with its members, in poverty (未脱贫) from that day.',
  data: z.object({
    householdId: householdIdSchema,
    commandDigest: commandDigestSchema,
    villageCode: villageCodeSchema,
    causeOfPoverty: z.enum(causesOfPoverty),
    registeredOn: registryDateSchema,
    members: z.array(memberSchema).min(1).max(householdMembersMax),
    phoneEnc: encryptedFieldSchema.nullable(),
    phoneHash: piiHashSchema.nullable(),
    phoneMasked: maskedSchema.nullable(),
    maskingVersion: maskingVersionSchema,
  }),
});

export const MemberAdded = defineEvent({
  type: 'MemberAdded',
  version: 1,
  context: 'registry',
  entity: 'household',
  entityId: (d) => d.householdId,
  description: 'A person joined a registered household (birth, marriage, adoption, return).',
  data: z.object({
    householdId: householdIdSchema,
    commandDigest: commandDigestSchema,
    member: memberSchema,
    reason: z.enum(memberAddedReasons),
    addedOn: registryDateSchema,
    maskingVersion: maskingVersionSchema,
  }),
});

export const MemberDeceased = defineEvent({
  type: 'MemberDeceased',
  version: 1,
  context: 'registry',
  entity: 'household',
  entityId: (d) => d.householdId,
  description: 'A member of a household died; payments for that person must stop.',
  data: z.object({
    householdId: householdIdSchema,
    commandDigest: commandDigestSchema,
    memberNo: memberNoSchema,
    diedOn: registryDateSchema,
  }),
});

export const HouseholdMoved = defineEvent({
  type: 'HouseholdMoved',
  version: 1,
  context: 'registry',
  entity: 'household',
  entityId: (d) => d.householdId,
  description: 'A household moved to another village of the same county (e.g. 易地扶贫搬迁 relocation).',
  data: z.object({
    householdId: householdIdSchema,
    commandDigest: commandDigestSchema,
    fromVillageCode: villageCodeSchema,
    toVillageCode: villageCodeSchema,
    movedOn: registryDateSchema,
  }),
});

export const AccountBound = defineEvent({
  type: 'AccountBound',
  version: 1,
  context: 'registry',
  entity: 'household',
  entityId: (d) => d.householdId,
  description: "The household's 一卡通 account was bound for the first time: subsidies are paid into it.",
  data: accountFieldsSchema.extend({
    householdId: householdIdSchema,
    commandDigest: commandDigestSchema,
    boundOn: registryDateSchema,
    maskingVersion: maskingVersionSchema,
  }),
});

export const AccountChanged = defineEvent({
  type: 'AccountChanged',
  version: 1,
  context: 'registry',
  entity: 'household',
  entityId: (d) => d.householdId,
  description: "The household's 一卡通 account was replaced (lost card, new bank, new holder).",
  data: accountFieldsSchema.extend({
    householdId: householdIdSchema,
    commandDigest: commandDigestSchema,
    previousAccountHash: piiHashSchema,
    changedOn: registryDateSchema,
    reason: registryTextSchema,
    maskingVersion: maskingVersionSchema,
  }),
});

export const HouseholdExited = defineEvent({
  type: 'HouseholdExited',
  version: 1,
  context: 'registry',
  entity: 'household',
  entityId: (d) => d.householdId,
  description: 'A household left poverty (脱贫, stays monitored) or was removed from the register (销号).',
  data: z.object({
    householdId: householdIdSchema,
    commandDigest: commandDigestSchema,
    kind: z.enum(exitKinds),
    exitedOn: registryDateSchema,
    reason: registryTextSchema,
  }),
});

export const HouseholdReentered = defineEvent({
  type: 'HouseholdReentered',
  version: 1,
  context: 'registry',
  entity: 'household',
  entityId: (d) => d.householdId,
  description: 'A household that had left poverty fell back into it (返贫) and is supported again.',
  data: z.object({
    householdId: householdIdSchema,
    commandDigest: commandDigestSchema,
    reenteredOn: registryDateSchema,
    causeOfPoverty: z.enum(causesOfPoverty),
    reason: registryTextSchema,
  }),
});

/** Most members one reveal may name: a whole household, never a village at once. */
export const revealMembersMax = 30;

export const PersonalDataRevealed = defineEvent({
  type: 'PersonalDataRevealed',
  version: 1,
  context: 'registry',
  entity: 'household',
  entityId: (d) => d.householdId,
  description:
    "Personal data of a household was shown in clear to a registry officer (the envelope's actor), for the reason given.",
  data: z.object({
    householdId: householdIdSchema,
    commandDigest: commandDigestSchema,
    /** Empty when only household-level data (the phone, the account) was revealed. */
    memberNos: z.array(memberNoSchema).max(revealMembersMax),
    fields: z.array(z.enum(revealableFields)).min(1).max(revealableFields.length),
    reason: registryTextSchema,
  }),
});

/**
 * A deletion request (个人信息保护法 art. 47) honoured by crypto-shredding: the household's own data
 * key was destroyed in the key store, so every field sealed under it is unreadable in every copy of
 * the log. The event names the key, never the data; who asked and who erased are in the reason and
 * the envelope's actor. Hashes, masks and the Merkle log stay as they are.
 */
export const HouseholdPersonalDataErased = defineEvent({
  type: 'HouseholdPersonalDataErased',
  version: 1,
  context: 'registry',
  entity: 'household',
  entityId: (d) => d.householdId,
  description:
    "A household's personal data was erased by destroying its data key (crypto-shredding); the log is unchanged.",
  data: z.object({
    householdId: householdIdSchema,
    commandDigest: commandDigestSchema,
    /** The destroyed data key: every `…Enc` field with this keyId is now unreadable. */
    dataKeyId: encryptedFieldSchema.shape.keyId,
    erasedOn: registryDateSchema,
    reason: registryTextSchema,
  }),
});

/** Every registry event definition; the events core gathers it into the catalogue. */
export const registryEvents = [
  HouseholdRegistered,
  MemberAdded,
  MemberDeceased,
  HouseholdMoved,
  AccountBound,
  AccountChanged,
  HouseholdExited,
  HouseholdReentered,
  PersonalDataRevealed,
  HouseholdPersonalDataErased,
] as const;

export type RegistryEventDefinition = (typeof registryEvents)[number];
export type RegistryEventType = RegistryEventDefinition['type'];
/** The decoded `data` of a registry event type, e.g. `RegistryData<'HouseholdRegistered'>`. */
export type RegistryData<T extends RegistryEventType> = z.output<
  Extract<RegistryEventDefinition, { type: T }>['data']
>;
