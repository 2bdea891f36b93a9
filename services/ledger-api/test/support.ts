import { encodeEvent, eventBatchEncoder, ledgerEvents, newEventId } from '@fundtrace/events';
import { notChinese } from '@fundtrace/testkit';
import { expect } from 'vitest';
import { z } from 'zod';
import type { LedgerCommand } from '../src/ledger/commands';
import { type DecideContext, type Decision, decide, type HouseholdFacts } from '../src/ledger/decide';
import { evolve, type LedgerEventInput } from '../src/ledger/evolve';
import type { RejectionCode } from '../src/ledger/rejections';
import { initialState, type LedgerState } from '../src/ledger/state';
import { loadReference } from '../src/reference/programmes';

export const county = '411325';
export const reference = loadReference();

export function registryOf(households: Record<string, HouseholdFacts>, seq = 42) {
  return { seq, household: (id: string) => households[id] };
}

export const defaultHouseholds: Record<string, HouseholdFacts> = {
  H001: { exited: false, accountBound: true },
  H002: { exited: false, accountBound: true },
  H003: { exited: false, accountBound: true },
  EXITED: { exited: true, accountBound: true },
  NOCARD: { exited: false, accountBound: false },
};

/** The register with households whose members died (MemberDeceased; decision 0032). */
export const householdsWithDeaths: Record<string, HouseholdFacts> = {
  ...defaultHouseholds,
  // Three members registered; member 3 died in May.
  WIDOWED: {
    exited: false,
    accountBound: true,
    livingMembers: 2,
    deceased: [{ memberNo: 3, diedOn: '2024-05-02' }],
  },
  // Every member recorded dead.
  EXTINCT: {
    exited: false,
    accountBound: true,
    livingMembers: 0,
    deceased: [{ memberNo: 1, diedOn: '2024-01-09' }],
  },
};

export function context(overrides: Partial<DecideContext> = {}): DecideContext {
  return { reference, registry: registryOf(defaultHouseholds), today: '2024-06-15', ...overrides };
}

/** Given these events (already in the log) … */
export function given(events: LedgerEventInput[], partition = county): LedgerState {
  const state = initialState(partition);
  for (const e of events) evolve(state, e);
  return state;
}

/** … when this command is decided … */
export function when(state: LedgerState, command: LedgerCommand, ctx: DecideContext = context()): Decision {
  const decision = decide(state, command, ctx);
  if (decision.ok) expectEncodable(decision.events);
  return decision;
}

/** … then it is accepted with these events (returned for further checks). */
export function accepted(decision: Decision): LedgerEventInput[] {
  if (!decision.ok) throw new Error(`expected acceptance, got ${decision.code}: ${decision.message}`);
  return decision.events;
}

/** Codes some test has shown refusing; the decider test checks every code is among them. */
export const refusedCodes = new Set<RejectionCode>();

/** … then it is refused with this code. */
export function refused(decision: Decision, code: RejectionCode) {
  refusedCodes.add(code);
  if (decision.ok)
    throw new Error(
      `expected ${code}, but the command was accepted: ${decision.events.map((e) => e.type).join(', ')}`,
    );
  expect(decision.code).toBe(code);
  expectChinese(decision.message);
  return decision;
}

/** A refusal worded in Chinese for the finance officer (decision 0131); see testkit's notChinese. */
export function expectChinese(message: string, identifiers: readonly string[] = []): void {
  expect(notChinese(message, identifiers)).toBeUndefined();
}

/** One row of a refusal that lists rows (a roster's rows, a notice's lines). */
export interface RowError {
  readonly row: number;
  readonly code: RejectionCode;
  readonly message: string;
}

/** The rows a refusal lists, each row's code counted as shown refusing. */
export function rowErrors(refusal: { readonly details?: unknown }): RowError[] {
  const errors = (refusal.details as { errors: RowError[] }).errors;
  for (const e of errors) {
    refusedCodes.add(e.code);
    expectChinese(e.message);
  }
  return errors;
}

const encodeCheckedMax = 1_000;
const definitions = new Map(ledgerEvents.map((d) => [d.type, d]));

/**
 * Every decided event must pass its published schema, or the writer could not
 * append it. A 50,000-row roster repeats one shape: its first rows are enough.
 */
export function expectEncodable(events: LedgerEventInput[]): void {
  const encoder = eventBatchEncoder(head);
  events.slice(0, encodeCheckedMax).forEach((e, index) => {
    const def = definitions.get(e.type);
    if (!def) throw new Error(`no definition for ${e.type}`);
    z.encode(def.data as z.ZodType, e.data as never);
    // The writer's batch encoder writes exactly encodeEvent's bytes for every event a decider makes.
    const event = {
      id: eventIds[index % eventIds.length]!,
      type: e.type,
      version: def.version,
      data: e.data,
    };
    expect(Buffer.from(encoder.encode(event))).toEqual(
      Buffer.from(encodeEvent({ ...head, ...event } as never)),
    );
  });
}

const head = {
  partition: county,
  occurredAt: '2024-06-15T12:00:00+08:00',
  recordedAt: '2024-06-15T04:00:00.000Z',
  actor: { userId: 'clerk-1', role: 'finance' as const, org: '内乡县财政局' },
  commandId: 'cmd-support',
  correlationId: 'cmd-support',
};
const eventIds = Array.from({ length: 16 }, (_, i) => newEventId(Date.parse(head.recordedAt) + i));

/** Decides and applies, failing loudly on a rejection: builds the "given" of later tests. */
export function apply(
  state: LedgerState,
  command: LedgerCommand,
  ctx: DecideContext = context(),
): LedgerEventInput[] {
  const events = accepted(when(state, command, ctx));
  for (const e of events) evolve(state, e);
  return events;
}

export const yuan = (n: number) => BigInt(Math.round(n * 100));

// ---- common facts

export const poolOpened: LedgerEventInput = {
  type: 'AccountOpened',
  data: { accountId: 'POOL', kind: 'pool', name: '内乡县扶贫资金专户' },
};

export function externalReceipt(
  receiptId: string,
  amountFen: bigint,
  purpose = 'general',
  fiscalYear = 2024,
  accountId = 'POOL',
): LedgerEventInput {
  return {
    type: 'AllocationReceived',
    data: {
      receiptId,
      origin: { kind: 'external', payer: '县财政' },
      accountId,
      documentNumber: `内财〔${fiscalYear}〕${receiptId}号`,
      fundSource: 'county',
      purpose,
      fiscalYear,
      amountFen,
      created: [
        {
          trancheId: `rc_${receiptId}_1`,
          accountId,
          amountFen,
          fundSource: 'county',
          fiscalYear,
          purpose,
          documentNumber: `内财〔${fiscalYear}〕${receiptId}号`,
          parents: [],
        },
      ],
    },
  };
}

export function notice(
  noticeId: string,
  programmeCode: string,
  period: string,
  stage: string,
  startsOn = '2024-06-01',
  endsOn = '2024-06-07',
): LedgerEventInput {
  return {
    type: 'NoticePublished',
    data: {
      noticeId,
      kind: 'programme',
      title: '低保名单公示',
      stage,
      programmeCode,
      period,
      subjectId: null,
      startsOn,
      endsOn,
    },
  };
}

export type SubmitRoster = Extract<LedgerCommand, { type: 'SubmitRoster' }>;

/**
 * A 低保 roster of June 2024 from POOL under notice N1 (the funded pool the decider's and the
 * writer's tests set up). A row's persons and amount default to `defaults`.
 */
export function dibaoRoster(
  rosterId: string,
  rows: ReadonlyArray<{ row: number; householdId: string; amountFen?: bigint; quantity?: number }>,
  defaults: { readonly quantity: number; readonly amountFen: bigint },
): SubmitRoster {
  return {
    type: 'SubmitRoster',
    data: {
      rosterId,
      programmeCode: 'dibao_class1',
      period: '2024-06',
      accountId: 'POOL',
      noticeId: 'N1',
      rows: rows.map((r) => ({
        row: r.row,
        householdId: r.householdId,
        quantity: r.quantity ?? defaults.quantity,
        amountFen: r.amountFen ?? defaults.amountFen,
        acceptanceRef: null,
      })),
    },
  };
}
