import { randomBytes } from 'node:crypto';
import {
  generateHouseholds,
  type HouseholdInput,
  type HouseholdInputParsed,
  householdInputSchema,
  idCheckCharacter,
  type Keyring,
  parseKeyring,
} from '@fundtrace/pii';
import type { RegistryCommand } from '../src/households/commands';
import { type DecideContext, type Decision, decide, type RegistryEventDraft } from '../src/households/decide';
import { applyEvent } from '../src/households/evolve';
import { emptyRegistryState, type RegistryState } from '../src/households/state';

export const county = '411325';

export function testKeyring(): Keyring {
  const key = randomBytes(32).toString('base64');
  return parseKeyring({ keys: `k1:${key}`, activeKeyId: 'k1', hmacKey: randomBytes(32).toString('base64') });
}

export function sampleHouseholds(count: number, seed = 1): HouseholdInputParsed[] {
  return generateHouseholds({ county, villages: 10, count, seed }).map((h) => householdInputSchema.parse(h));
}

export function parseHousehold(h: HouseholdInput): HouseholdInputParsed {
  return householdInputSchema.parse(h);
}

/** A valid ID number from its parts. */
export function idNumber(region: string, birth: string, sequence: string): string {
  const first17 = region + birth + sequence;
  return first17 + idCheckCharacter(first17);
}

/**
 * A tiny in-memory writer over the pure decider: decides against the folded state and folds the
 * events it returns, numbering them like a stream would. What the service does, without NATS.
 */
export class Books {
  readonly state: RegistryState;
  private commands = 0;
  constructor(
    readonly keyring: Keyring,
    partition = county,
  ) {
    this.state = emptyRegistryState(partition);
  }

  /** `today`: the business date the books decide on (dates after it are refused as date_in_future). */
  today = '2026-11-23';

  context(commandId: string): DecideContext {
    return {
      partition: this.state.partition,
      keyring: this.keyring,
      commandId,
      commandDigest: 'a'.repeat(64),
      idOwner: (hash) => this.state.idIndex.get(hash),
      today: this.today,
    };
  }

  run(command: RegistryCommand, commandId = `c${++this.commands}`): Decision {
    const id = command.kind === 'register' ? command.household.householdId : command.householdId;
    const decision = decide(command, this.state.households.get(id), this.context(commandId));
    if (decision.ok) this.fold(decision.events, commandId);
    return decision;
  }

  fold(events: readonly RegistryEventDraft[], commandId: string): void {
    for (const event of events) applyEvent(this.state, { seq: this.state.lastSeq + 1, commandId, event });
  }
}

export function codes(decision: Decision): string[] {
  return decision.ok ? [] : decision.rejection.problems.map((p) => p.code);
}
