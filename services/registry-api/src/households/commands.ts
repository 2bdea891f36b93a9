import type { registry } from '@fundtrace/events';
import type { AccountInput, HouseholdInputParsed, MemberInputParsed } from '@fundtrace/pii';

/**
 * The registry's commands, as the decider sees them: validated for shape by the HTTP schemas, not
 * yet for meaning. Every date is a business date (YYYY-MM-DD) given by the officer; nothing here
 * reads a clock.
 */
export type RegistryCommand =
  | { readonly kind: 'register'; readonly household: HouseholdInputParsed }
  | {
      readonly kind: 'add_member';
      readonly householdId: string;
      readonly member: MemberInputParsed;
      readonly reason: (typeof registry.memberAddedReasons)[number];
      readonly addedOn: string;
    }
  | {
      readonly kind: 'record_death';
      readonly householdId: string;
      readonly memberNo: number;
      readonly diedOn: string;
    }
  | {
      readonly kind: 'move';
      readonly householdId: string;
      readonly toVillageCode: string;
      readonly movedOn: string;
    }
  | {
      readonly kind: 'bind_account';
      readonly householdId: string;
      readonly account: AccountInput;
      readonly on: string;
      /** Required when the household already has an account (why it changes). */
      readonly reason: string | null;
    }
  | {
      readonly kind: 'exit';
      readonly householdId: string;
      readonly exitKind: registry.ExitKind;
      readonly exitedOn: string;
      readonly reason: string;
    }
  | {
      readonly kind: 'reenter';
      readonly householdId: string;
      readonly reenteredOn: string;
      readonly causeOfPoverty: registry.CauseOfPoverty;
      readonly reason: string;
    }
  | {
      /** A deletion request (个人信息保护法 art. 47): destroy the household's data key. */
      readonly kind: 'erase';
      readonly householdId: string;
      readonly erasedOn: string;
      readonly reason: string;
    }
  | {
      readonly kind: 'reveal';
      readonly householdId: string;
      readonly memberNos: readonly number[];
      readonly fields: readonly registry.RevealableField[];
      readonly reason: string;
    };

export type RegistryCommandKind = RegistryCommand['kind'];
