import { type InvariantCode, ProjectionInvariantError, rebuildBooks, startProjector } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import { ProjectionHandlerError } from '@fundtrace/eventlog';
import { type EventData, type EventType, streamName } from '@fundtrace/events';
import {
  connectTestNats,
  createTestDatabase,
  deleteNamespaceStreams,
  type TestDatabase,
  testNamespace,
} from '@fundtrace/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectorEventLog } from './support/event-log';

/**
 * Every invariant the projector asserts, each broken by one crafted event appended straight to
 * the log (no writer would produce it). The projector must stop with an error naming the
 * event's stream, sequence and type and the invariant, and commit nothing of that batch.
 */

const p = '411325';
const pool = 'pool';
const purpose = 'poverty_alleviation';
const doc = '内财农〔2019〕1号';

let nc: NatsConnection;
let database: TestDatabase;
const namespaces: string[] = [];
const pools: Kysely<Database>[] = [];

beforeAll(async () => {
  nc = await connectTestNats('projector-invariants');
  database = await createTestDatabase();
});
afterAll(async () => {
  const jsm = await jetstreamManager(nc);
  for (const ns of namespaces) await deleteNamespaceStreams(jsm, ns).catch(() => undefined);
  for (const db of pools) await db.destroy();
  await nc.close();
  await database.drop();
});

type Add = <T extends EventType>(type: T, data: EventData<T>) => void;

/** The partition's log in namespace `ns`, and an `add` that counts: `count()` is the last sequence added. */
function countingLog(ns: string) {
  const log = projectorEventLog(nc, ns);
  let added = 0;
  const add: Add = (type, data) => {
    log.add(p, type, data);
    added++;
  };
  return { log, add, count: () => added };
}

const tranche = (
  trancheId: string,
  amountFen: bigint,
  parents: { partition: string | null; trancheId: string; amountFen: bigint }[] = [],
  accountId = pool,
) => ({
  trancheId,
  accountId,
  amountFen,
  fundSource: 'county' as const,
  fiscalYear: 2019,
  purpose,
  documentNumber: doc,
  parents,
});

/** Money from the county's budget into the pool, as root tranche `trancheId`. */
const received = (receiptId: string, trancheId: string, amountFen = 1_000_000n) => ({
  receiptId,
  origin: { kind: 'external' as const, payer: '县财政' },
  accountId: pool,
  documentNumber: doc,
  fundSource: 'county' as const,
  purpose,
  fiscalYear: 2019,
  amountFen,
  created: [tranche(trancheId, amountFen)],
});

/** A pool with one root tranche t1 of 1,000,000 fen, a plan, a project and its account. */
function setup(add: Add): void {
  add('AccountOpened', { accountId: pool, kind: 'pool', name: '县级专户' });
  add('AccountOpened', { accountId: 'prj', kind: 'project', name: '项目账户' });
  add('AccountOpened', { accountId: 'iu', kind: 'implementing_unit', name: '合作社' });
  add('AllocationReceived', received('r1', 't1'));
  add('PlanApproved', {
    planId: 'plan',
    documentNumber: doc,
    totalFen: 1_000_000n,
    title: '实施方案',
    fiscalYear: 2019,
    lines: [{ lineId: 'l1', category: 'infrastructure', title: '道路', amountFen: 1_000_000n }],
  });
  add('ProjectApproved', {
    projectId: 'prj',
    planId: 'plan',
    lineId: 'l1',
    name: '道路',
    villageCode: '411325100201',
    category: 'infrastructure',
    budgetFen: 500_000n,
    accountId: 'prj',
    implementingUnitAccountId: 'iu',
    reimbursement: false,
  });
}

const payment = (
  paymentId: string,
  amountFen: bigint,
  consumed: { trancheId: string; amountFen: bigint }[],
) => ({
  paymentId,
  rosterId: null,
  row: null,
  householdId: 'H1',
  programmeCode: 'housing_renovation',
  period: '2019',
  quantity: 1,
  amountFen,
  accountId: pool,
  noticeId: null,
  acceptanceRef: null,
  registrySeq: 0,
  consumed,
});

const earmark = (
  earmarkId: string,
  consumed: { trancheId: string; amountFen: bigint }[],
  created: ReturnType<typeof tranche>[],
  amountFen: bigint,
) => ({
  earmarkId,
  projectId: 'prj',
  fromAccountId: pool,
  toAccountId: 'prj',
  amountFen,
  consumed,
  created,
});

interface Case {
  readonly name: string;
  readonly invariant: InvariantCode;
  readonly bad: (add: Add) => void;
  /** Valid events between the setup and the bad one. */
  readonly before?: (add: Add) => void;
}

const cases: Case[] = [
  {
    name: 'a debit whose pieces do not sum to the movement',
    invariant: 'entries_unbalanced',
    bad: (add) =>
      add('AllocationIssued', {
        allocationId: 'a1',
        toPartition: '411300',
        fromAccountId: pool,
        documentNumber: doc,
        fundSource: 'county',
        purpose,
        fiscalYear: 2019,
        title: '下达',
        amountFen: 500_000n,
        consumed: [{ trancheId: 't1', amountFen: 400_000n, fundSource: 'county' }],
      }),
  },
  {
    name: 'a payment larger than the account holds',
    invariant: 'balance_negative',
    bad: (add) =>
      add('PaymentInstructed', payment('pay-big', 1_000_001n, [{ trancheId: 't1', amountFen: 1_000_001n }])),
  },
  {
    name: 'a payment taking more of a tranche than it holds while the account has enough',
    invariant: 'tranche_overdrawn',
    before: (add) => add('AllocationReceived', received('r2', 't2')),
    bad: (add) =>
      add('PaymentInstructed', payment('pay-over', 1_500_000n, [{ trancheId: 't1', amountFen: 1_500_000n }])),
  },
  {
    name: 'a reversal restoring money to a tranche that is already full',
    invariant: 'tranche_overfilled',
    before: (add) => {
      add('AllocationReceived', received('r2', 't2'));
      // The earmark takes its money from t2 but names t1 as the new tranche's parent.
      add(
        'FundsEarmarked',
        earmark(
          'em1',
          [{ trancheId: 't2', amountFen: 200_000n }],
          [tranche('e1', 200_000n, [{ partition: null, trancheId: 't1', amountFen: 200_000n }], 'prj')],
          200_000n,
        ),
      );
    },
    // Following the lineage, the reversal gives 200,000 fen back to t1, which never gave any.
    bad: (add) =>
      add('MovementReversed', {
        reversalId: 'rv1',
        movementKind: 'earmark',
        movementId: 'em1',
        reason: '错账',
        amountFen: 200_000n,
        cancelled: [{ trancheId: 'e1', amountFen: 200_000n }],
        restored: [{ trancheId: 't1', amountFen: 200_000n }],
      }),
  },
  {
    name: 'an earmark consuming a tranche the books do not hold',
    invariant: 'tranche_unknown',
    bad: (add) =>
      add(
        'FundsEarmarked',
        earmark(
          'em2',
          [{ trancheId: 'ghost', amountFen: 100n }],
          [tranche('e2', 100n, [{ partition: null, trancheId: 'ghost', amountFen: 100n }], 'prj')],
          100n,
        ),
      ),
  },
  {
    name: 'a receipt creating a tranche id that exists',
    invariant: 'tranche_duplicate',
    bad: (add) => add('AllocationReceived', received('r3', 't1', 5n)),
  },
  {
    name: 'an earmark creating a tranche whose parents do not sum to it',
    invariant: 'lineage_broken',
    bad: (add) =>
      add(
        'FundsEarmarked',
        earmark(
          'em3',
          [{ trancheId: 't1', amountFen: 100n }],
          [tranche('e3', 100n, [{ partition: null, trancheId: 't1', amountFen: 99n }], 'prj')],
          100n,
        ),
      ),
  },
  {
    name: 'a payment from a tranche with no lineage in the books',
    invariant: 'payment_unrooted',
    bad: (add) =>
      add('PaymentInstructed', payment('pay-ghost', 100n, [{ trancheId: 'nowhere', amountFen: 100n }])),
  },
  {
    name: 'an account opened twice',
    invariant: 'entity_duplicate',
    bad: (add) => add('AccountOpened', { accountId: pool, kind: 'pool', name: '又一个专户' }),
  },
  {
    name: 'an acceptance of a project that was never approved',
    invariant: 'entity_unknown',
    bad: (add) =>
      add('AcceptanceRecorded', {
        acceptanceId: 'acc',
        projectId: 'nope',
        documentNumber: doc,
        acceptedOn: '2019-05-01',
        inspectedBy: '交通局',
      }),
  },
  {
    name: 'a notice list (公示名单) for a notice that was never published',
    invariant: 'entity_unknown',
    bad: (add) =>
      add('NoticeLinesPublished', {
        noticeId: 'nope',
        part: 1,
        partCount: 1,
        lines: [{ line: 1, householdId: 'H1', memberNos: [], quantity: 1, amountFen: 19_000n }],
      }),
  },
  {
    name: 'a notice list appended after the notice was closed',
    invariant: 'transition_invalid',
    before: (add) => {
      add('NoticePublished', {
        noticeId: 'n-closed',
        kind: 'roster',
        title: '低保名单公示',
        stage: 'approval',
        programmeCode: 'dibao_class1',
        period: '2019-05',
        subjectId: null,
        startsOn: '2019-05-01',
        endsOn: '2019-05-07',
      });
      add('NoticeClosed', { noticeId: 'n-closed', note: '期满' });
    },
    bad: (add) =>
      add('NoticeLinesPublished', {
        noticeId: 'n-closed',
        part: 1,
        partCount: 1,
        lines: [{ line: 1, householdId: 'H1', memberNos: [], quantity: 1, amountFen: 19_000n }],
      }),
  },
  {
    name: 'settling a payment the bank returned',
    invariant: 'transition_invalid',
    before: (add) => {
      add('PaymentInstructed', payment('pay-r', 100n, [{ trancheId: 't1', amountFen: 100n }]));
      add('PaymentReturned', {
        paymentId: 'pay-r',
        reason: '户名不符',
        returnedOn: '2019-05-02',
        restored: [{ trancheId: 't1', amountFen: 100n }],
      });
    },
    bad: (add) =>
      add('PaymentSettled', { paymentId: 'pay-r', bankReference: 'BK-9', settledOn: '2019-05-03' }),
  },
  {
    name: 'a plan whose lines do not add up to its total',
    invariant: 'total_mismatch',
    bad: (add) =>
      add('PlanAdjusted', {
        planId: 'plan',
        documentNumber: doc,
        totalFen: 2_000_000n,
        reason: '调整',
        lines: [{ lineId: 'l1', category: 'infrastructure', title: '道路', amountFen: 1_999_999n }],
      }),
  },
  {
    name: 'a reversal giving an earmark back to another tranche than it came from',
    invariant: 'restore_mismatch',
    before: (add) => {
      add('AllocationReceived', received('r2', 't2'));
      add(
        'FundsEarmarked',
        earmark(
          'em5',
          [{ trancheId: 't1', amountFen: 300n }],
          [tranche('e5', 300n, [{ partition: null, trancheId: 't1', amountFen: 300n }], 'prj')],
          300n,
        ),
      );
      add('PaymentInstructed', payment('pay-t2', 300n, [{ trancheId: 't2', amountFen: 300n }]));
    },
    // t2 has room for 300 fen, but the earmark's money came from t1.
    bad: (add) =>
      add('MovementReversed', {
        reversalId: 'rv5',
        movementKind: 'earmark',
        movementId: 'em5',
        reason: '错账',
        amountFen: 300n,
        cancelled: [{ trancheId: 'e5', amountFen: 300n }],
        restored: [{ trancheId: 't2', amountFen: 300n }],
      }),
  },
  {
    name: 'a return giving the money to another tranche than it came from',
    invariant: 'restore_mismatch',
    before: (add) => {
      add(
        'FundsEarmarked',
        earmark(
          'em4',
          [{ trancheId: 't1', amountFen: 300n }],
          [tranche('e4', 300n, [{ partition: null, trancheId: 't1', amountFen: 300n }], 'prj')],
          300n,
        ),
      );
      add('PaymentInstructed', payment('pay-m', 300n, [{ trancheId: 't1', amountFen: 300n }]));
    },
    bad: (add) =>
      add('PaymentReturned', {
        paymentId: 'pay-m',
        reason: '退回',
        returnedOn: '2019-05-02',
        restored: [{ trancheId: 'e4', amountFen: 300n }],
      }),
  },
];

describe('each invariant stops the projector at the event that breaks it', () => {
  cases.forEach((testCase, index) => {
    it.concurrent(`${testCase.invariant}: ${testCase.name}`, async () => {
      const ns = testNamespace();
      namespaces.push(ns);
      const schema = `inv_${index}`;
      await migrateToLatest(database.db, { schema });
      const db = createDb<Database>(database.url, { schema, max: 2 });
      pools.push(db);
      const { log, add, count } = countingLog(ns);
      setup(add);
      testCase.before?.(add);
      const goodCount = count();
      testCase.bad(add);
      const badSeq = count();
      await log.flush();

      const projector = startProjector({ nc, db, schema, ns, batchSize: 500 });
      await projector.discover();
      const error = await projector.done.then(
        () => new Error('the projector stopped without an error'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProjectionHandlerError);
      const cause = (error as ProjectionHandlerError).cause;
      expect(cause).toBeInstanceOf(ProjectionInvariantError);
      const broken = cause as ProjectionInvariantError;
      expect(broken.invariant).toBe(testCase.invariant);
      const stream = streamName('ledger', p);
      expect(broken.position.stream).toBe(stream);
      expect(broken.position.seq).toBe(badSeq);
      expect(broken.message).toContain(`${stream} #${badSeq}`);
      expect(broken.message).toContain(testCase.invariant);
      // The whole batch rolled back: nothing of it is in the books, the checkpoint did not move.
      const { rows } = await sql<{ n: string }>`select count(*)::text as n from events`.execute(db);
      const { rows: checkpoints } = await sql<{
        n: string;
      }>`select count(*)::text as n from projection_checkpoints`.execute(db);
      expect([rows[0]!.n, checkpoints[0]!.n]).toEqual(['0', '0']);
      expect(goodCount).toBe(badSeq - 1);
    });
  });
});

describe('a rebuild checks the invariants as it goes', () => {
  it('stops at the event that breaks one, named, on its bulk path (COPY, decision 0065)', async () => {
    const ns = testNamespace();
    namespaces.push(ns);
    const { log, add, count } = countingLog(ns);
    setup(add);
    const overdrawn = cases.find((testCase) => testCase.invariant === 'tranche_overdrawn')!;
    overdrawn.before?.(add);
    overdrawn.bad(add);
    const badSeq = count();
    // Valid events after the bad one: the rebuild must not step over it.
    add('AccountOpened', { accountId: 'later', kind: 'pool', name: '之后' });
    await log.flush();

    const error = await rebuildBooks({ url: database.url, nc, ns, schema: 'inv_rebuild' }).then(
      () => new Error('the rebuild returned without an error'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProjectionHandlerError);
    const broken = (error as ProjectionHandlerError).cause as ProjectionInvariantError;
    expect(broken).toBeInstanceOf(ProjectionInvariantError);
    expect(broken.invariant).toBe('tranche_overdrawn');
    expect(broken.position).toMatchObject({ stream: streamName('ledger', p), seq: badSeq });
    // The batch that held it rolled back: no event of it was copied in.
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from inv_rebuild.events`.execute(
      database.db,
    );
    expect(rows[0]!.n).toBe('0');
  });
});
