import {
  appendBatch,
  ensurePartitionStreams,
  lastSequence,
  type OutgoingMessage,
  silentLogger,
} from '@fundtrace/eventlog';
import { encodeEvent, messageId, newEventId, streamName, subjectFor, utcTimestamp } from '@fundtrace/events';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { LedgerCommand } from '../src/ledger/commands';
import { LedgerWriter, type WriterOptions } from '../src/writer/writer';
import { reference } from './support';

/** The writers' clock in integration tests: 2024-06-15 12:00 Beijing, after the fixtures' notice periods. */
export const testNowMs = Date.parse('2024-06-15T04:00:00Z');

export const financeActor = { userId: 'clerk-1', role: 'finance' as const, org: '内乡县财政局' };

/**
 * Opens POOL, receives `amountFen` from outside into it and publishes notice N1 (低保, June 2024),
 * one command each: what a payment test needs first.
 */
export async function fundPool(
  writer: LedgerWriter,
  amountFen: bigint,
  purpose = 'social_assistance',
  fundSource: 'county' | 'city' = 'county',
): Promise<void> {
  const run = async (command: LedgerCommand, commandId: string) => {
    const outcome = await writer.execute({ commandId, actor: financeActor, command });
    if (!outcome.ok) throw new Error(`${commandId} refused ${outcome.code}: ${outcome.message}`);
  };
  await run({ type: 'OpenAccount', data: { accountId: 'POOL', kind: 'pool', name: '专户' } }, 'pool-open');
  await run(
    {
      type: 'ReceiveAllocation',
      data: {
        receiptId: 'R1',
        accountId: 'POOL',
        amountFen,
        origin: {
          kind: 'external',
          payer: '县财政',
          documentNumber: '内财〔2024〕1号',
          fundSource,
          purpose,
          fiscalYear: 2024,
        },
      },
    },
    'pool-receipt',
  );
  await run(
    {
      type: 'PublishNotice',
      data: {
        noticeId: 'N1',
        kind: 'programme',
        title: '2024年6月低保公示',
        stage: 'approval',
        programmeCode: 'dibao_class1',
        period: '2024-06',
        subjectId: null,
        startsOn: '2024-06-01',
        endsOn: '2024-06-07',
      },
    },
    'pool-notice',
  );
}

/** A 低保 payment of June 2024 from POOL under notice N1 (`quantity` persons). */
export function pay(paymentId: string, householdId: string, amountFen: bigint, quantity = 1): LedgerCommand {
  return {
    type: 'InstructPayment',
    data: {
      paymentId,
      householdId,
      programmeCode: 'dibao_class1',
      period: '2024-06',
      quantity,
      amountFen,
      accountId: 'POOL',
      noticeId: 'N1',
      acceptanceRef: null,
    },
  };
}

/** A command as its HTTP route takes it: its data with `commandId` beside it, money as strings of digits. */
export function httpBody(commandId: string, command: LedgerCommand): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({ commandId, ...command.data }, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    ),
  ) as Record<string, unknown>;
}

/**
 * `nc` with its `publish` handed to `publish` (with the real one as `forward`): a test holds back,
 * drops or fails a writer's appends, which are plain publishes on this connection (decision 0035),
 * while reads and API requests go through untouched.
 */
export function interceptPublishes(
  nc: NatsConnection,
  publish: (forward: NatsConnection['publish'], ...args: Parameters<NatsConnection['publish']>) => void,
): NatsConnection {
  const forward: NatsConnection['publish'] = (...args) => nc.publish(...args);
  return new Proxy(nc, {
    get(target, property, receiver) {
      if (property !== 'publish') return Reflect.get(target, property, receiver);
      return (...args: Parameters<NatsConnection['publish']>) => publish(forward, ...args);
    },
  });
}

export async function startWriter(
  js: JetStreamClient,
  jsm: JetStreamManager,
  ns: string,
  partition: string,
  now: () => number = () => testNowMs,
  /** More writer options: small append chunks, a connection that fails on cue, group commit off. */
  extra: Partial<WriterOptions> = {},
): Promise<LedgerWriter> {
  await ensurePartitionStreams(jsm, { partition, ns, contexts: ['ledger', 'registry'] });
  const writer = new LedgerWriter({
    js,
    jsm,
    partition,
    ns,
    reference,
    logger: silentLogger(),
    now,
    ...extra,
  });
  await writer.start();
  return writer;
}

// Placeholders of the right shape: the ledger reads household facts, never the personal data.
const sealed = { keyId: 'k1', iv: 'AAAAAAAAAAAAAAAA', ct: 'AAAA', tag: 'AAAAAAAAAAAAAAAAAAAAAA==' };
const hash = (n: number) => n.toString(16).padStart(64, '0');

function registryEvent(partition: string, type: string, data: Record<string, unknown>, n: number) {
  const nowMs = testNowMs - 86_400_000;
  return {
    id: newEventId(nowMs),
    type,
    version: 1,
    partition,
    occurredAt: utcTimestamp(nowMs),
    recordedAt: utcTimestamp(nowMs),
    actor: { userId: 'registrar', role: 'registry' as const, org: '内乡县扶贫办' },
    commandId: `reg-${type}-${n}`,
    correlationId: `reg-${n}`,
    data: { ...data, commandDigest: hash(n) },
  };
}

/**
 * Appends real registry events (HouseholdRegistered, then AccountBound unless
 * `withAccount` is false) to REGISTRY_<partition>, as registry-api would.
 */
export async function registerHouseholds(
  js: JetStreamClient,
  jsm: JetStreamManager,
  ns: string,
  partition: string,
  householdIds: readonly string[],
  options: { withAccount?: boolean; exited?: boolean } = {},
): Promise<void> {
  const stream = streamName('registry', partition, ns);
  const seq = await lastSequence(jsm, stream);
  const messages: OutgoingMessage[] = [];
  for (const [k, householdId] of householdIds.entries()) {
    // Three numbers per household, above any an earlier call used (it appended at least two events
    // per household), so command ids and hashes never repeat across calls on one stream.
    const n = 3 * seq + 1 + k * 3;
    const events = [
      registryEvent(
        partition,
        'HouseholdRegistered',
        {
          householdId,
          villageCode: `${partition}100201`,
          causeOfPoverty: 'illness',
          registeredOn: '2016-03-01',
          members: [
            {
              memberNo: 1,
              relation: 'head',
              nameEnc: sealed,
              nameMasked: '张*',
              idNumberEnc: sealed,
              idNumberHash: hash(n),
              idNumberMasked: '4113**********1234',
              birthYear: 1960,
              sex: 'male',
              disability: null,
              healthEnc: sealed,
            },
          ],
          phoneEnc: null,
          phoneHash: null,
          phoneMasked: null,
          maskingVersion: 1,
        },
        n,
      ),
    ];
    if (options.withAccount !== false) {
      events.push(
        registryEvent(
          partition,
          'AccountBound',
          {
            householdId,
            bank: 'RCC',
            medium: 'card',
            accountEnc: sealed,
            accountHash: hash(n + 1_000_000),
            accountMasked: '****1234',
            holderMemberNo: 1,
            boundOn: '2016-03-02',
            maskingVersion: 1,
          },
          n,
        ),
      );
    }
    if (options.exited) {
      events.push(
        registryEvent(
          partition,
          'HouseholdExited',
          { householdId, kind: 'lifted', exitedOn: '2020-12-01', reason: '稳定脱贫' },
          n,
        ),
      );
    }
    for (const [i, event] of events.entries()) {
      messages.push({
        subject: subjectFor(event as never, ns),
        bytes: encodeEvent(event as never),
        msgId: messageId(event.commandId, i),
      });
    }
  }
  await appendBatch(js, { stream, messages, expectedLastSeq: seq });
}

/** Appends MemberDeceased for each (household, member) to REGISTRY_<partition>, as registry-api would. */
export async function recordDeaths(
  js: JetStreamClient,
  jsm: JetStreamManager,
  ns: string,
  partition: string,
  deaths: ReadonlyArray<{ householdId: string; memberNo: number; diedOn: string }>,
): Promise<void> {
  const stream = streamName('registry', partition, ns);
  const seq = await lastSequence(jsm, stream);
  const messages = deaths.map(({ householdId, memberNo, diedOn }, k) => {
    const event = registryEvent(
      partition,
      'MemberDeceased',
      { householdId, memberNo, diedOn },
      3 * seq + 1 + k,
    );
    return {
      subject: subjectFor(event as never, ns),
      bytes: encodeEvent(event as never),
      msgId: messageId(event.commandId, 0),
    };
  });
  await appendBatch(js, { stream, messages, expectedLastSeq: seq });
}

/** Stored bytes of one event of each registry type the ledger's tail applies, as registry-api writes them. */
export function registryEventsForTest(): Uint8Array[] {
  const partition = '411325';
  const member = (memberNo: number) => ({
    memberNo,
    relation: memberNo === 1 ? 'head' : 'son',
    nameEnc: sealed,
    nameMasked: '张*',
    idNumberEnc: sealed,
    idNumberHash: hash(memberNo),
    idNumberMasked: '4113**********1234',
    birthYear: 1960,
    sex: 'male',
    disability: null,
    healthEnc: sealed,
  });
  const account = {
    bank: 'RCC',
    medium: 'card',
    accountEnc: sealed,
    accountHash: hash(7),
    accountMasked: '****1234',
    holderMemberNo: 1,
    maskingVersion: 1,
  };
  const events = [
    registryEvent(
      partition,
      'HouseholdRegistered',
      {
        householdId: 'H1',
        villageCode: `${partition}100201`,
        causeOfPoverty: 'illness',
        registeredOn: '2016-03-01',
        members: [member(1), member(2)],
        phoneEnc: null,
        phoneHash: null,
        phoneMasked: null,
        maskingVersion: 1,
      },
      1,
    ),
    registryEvent(
      partition,
      'MemberAdded',
      { householdId: 'H1', member: member(3), reason: 'birth', addedOn: '2019-01-01', maskingVersion: 1 },
      2,
    ),
    registryEvent(partition, 'AccountBound', { householdId: 'H1', ...account, boundOn: '2016-03-02' }, 3),
    registryEvent(
      partition,
      'AccountChanged',
      {
        householdId: 'H1',
        ...account,
        accountHash: hash(8),
        previousAccountHash: hash(7),
        changedOn: '2020-01-02',
        reason: '换卡',
      },
      4,
    ),
    registryEvent(partition, 'MemberDeceased', { householdId: 'H1', memberNo: 2, diedOn: '2024-05-02' }, 5),
    registryEvent(
      partition,
      'HouseholdExited',
      { householdId: 'H1', kind: 'lifted', exitedOn: '2020-12-01', reason: '稳定脱贫' },
      6,
    ),
    registryEvent(
      partition,
      'HouseholdReentered',
      { householdId: 'H1', reenteredOn: '2021-06-01', causeOfPoverty: 'illness', reason: '因病返贫' },
      7,
    ),
  ];
  return events.map((event) => encodeEvent(event as never));
}
