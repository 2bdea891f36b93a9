import { createHash, randomBytes } from 'node:crypto';
import { encryptField, hmacField } from '@fundtrace/pii';
import type { EventFixture } from '@fundtrace/testkit';

/**
 * A realistic event mix for load, kill and replay tests: central appropriations issued to a
 * county and received there, projects with earmarks and disbursements, rosters of household
 * payments with settlements, bank returns and re-payments, reversals, notices with objections,
 * a registered population with bound accounts, and findings. Every event is one a writer could
 * have produced: the books must end without a broken invariant.
 */
export const loadCentral = '000000';
export const loadCounty = '411325';
const purpose = 'poverty_alleviation';
const households = 200;
const paymentsPerRoster = 40;

const keyring = { activeKeyId: 'k1', keys: new Map([['k1', randomBytes(32)]]), hmacKey: randomBytes(32) };

/** The registry writer's digest of a command's content (its idempotency check). */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function day(round: number): string {
  const date = new Date(Date.UTC(2019, 0, 1) + (round % 360) * 86_400_000);
  return `${date.toISOString().slice(0, 10)}T10:00:00+08:00`;
}

/** Appends about `events` events (whole rounds) to `log`; returns how many it queued. */
export function writeLoad(log: EventFixture, events: number): number {
  let count = 0;
  let ledgerSeq = 0;
  const add: EventFixture['add'] = (partition, type, data, options) => {
    count++;
    if (
      partition === loadCounty &&
      !type.startsWith('Household') &&
      type !== 'AccountBound' &&
      type !== 'FindingRaised'
    )
      ledgerSeq++;
    return log.add(partition, type, data, options);
  };
  const at = (round: number) => ({ occurredAt: day(round) });

  add(loadCentral, 'AccountOpened', { accountId: 'pool', kind: 'pool', name: '中央专户' }, at(0));
  add(loadCounty, 'AccountOpened', { accountId: 'pool', kind: 'pool', name: '县级专户' }, at(0));
  add(loadCounty, 'AccountOpened', { accountId: 'iu', kind: 'implementing_unit', name: '施工单位' }, at(0));
  add(
    loadCounty,
    'PlanApproved',
    {
      planId: 'plan',
      documentNumber: '内政〔2019〕1号',
      totalFen: 900_000_000_000n,
      title: '实施方案',
      fiscalYear: 2019,
      lines: [
        { lineId: 'infra', category: 'infrastructure', title: '基础设施', amountFen: 900_000_000_000n },
      ],
    },
    at(0),
  );
  for (let h = 0; h < households; h++) {
    const householdId = `H${String(h).padStart(5, '0')}`;
    const idNumber = `411325199001${String(h).padStart(4, '0')}1X`;
    add(
      loadCounty,
      'HouseholdRegistered',
      {
        householdId,
        commandDigest: digest(`register ${householdId}`),
        villageCode: `411325${String(100 + (h % 5)).padStart(3, '0')}${String(200 + (h % 3)).padStart(3, '0')}`,
        causeOfPoverty: 'illness',
        registeredOn: '2018-12-01',
        members: [
          {
            memberNo: 1,
            relation: 'head',
            nameEnc: encryptField('name', `户主${h}`, keyring),
            nameMasked: '户*',
            idNumberEnc: encryptField('id_number', idNumber, keyring),
            idNumberHash: hmacField('id_number', idNumber, keyring.hmacKey),
            idNumberMasked: '4113**********001X',
            birthYear: 1990,
            sex: 'male',
            disability: null,
            healthEnc: encryptField('health', 'healthy', keyring),
          },
        ],
        phoneEnc: null,
        phoneHash: null,
        phoneMasked: null,
        maskingVersion: 1,
      },
      at(0),
    );
    const account = `62170000${String(h).padStart(8, '0')}`;
    add(
      loadCounty,
      'AccountBound',
      {
        householdId,
        commandDigest: digest(`bind ${householdId}`),
        bank: 'ABC',
        medium: 'card',
        accountEnc: encryptField('account_number', account, keyring),
        accountHash: hmacField('account_number', account, keyring.hmacKey),
        accountMasked: `****${account.slice(-4)}`,
        holderMemberNo: 1,
        boundOn: '2018-12-02',
        maskingVersion: 1,
      },
      at(0),
    );
  }

  let payment = 0;
  for (let round = 1; count < events; round++) {
    const doc = `财农〔2019〕${round}号`;
    const amount = 50_000_000n;
    add(
      loadCentral,
      'AllocationReceived',
      {
        receiptId: `rc${round}`,
        origin: { kind: 'external', payer: '财政部' },
        accountId: 'pool',
        documentNumber: doc,
        fundSource: 'central',
        purpose,
        fiscalYear: 2019,
        amountFen: amount,
        created: [
          {
            trancheId: `ct${round}`,
            accountId: 'pool',
            amountFen: amount,
            fundSource: 'central',
            fiscalYear: 2019,
            purpose,
            documentNumber: doc,
            parents: [],
          },
        ],
      },
      at(round),
    );
    add(
      loadCentral,
      'AllocationIssued',
      {
        allocationId: `ac${round}`,
        toPartition: loadCounty,
        fromAccountId: 'pool',
        documentNumber: doc,
        fundSource: 'central',
        purpose,
        fiscalYear: 2019,
        title: `第${round}批`,
        amountFen: amount,
        consumed: [{ trancheId: `ct${round}`, amountFen: amount, fundSource: 'central' }],
      },
      at(round),
    );
    add(
      loadCounty,
      'AllocationReceived',
      {
        receiptId: `rk${round}`,
        origin: { kind: 'partition', partition: loadCentral, allocationId: `ac${round}` },
        accountId: 'pool',
        documentNumber: doc,
        fundSource: 'central',
        purpose,
        fiscalYear: 2019,
        amountFen: amount,
        created: [
          {
            trancheId: `kt${round}`,
            accountId: 'pool',
            amountFen: amount,
            fundSource: 'central',
            fiscalYear: 2019,
            purpose,
            documentNumber: doc,
            parents: [{ partition: loadCentral, trancheId: `ct${round}`, amountFen: amount }],
          },
        ],
      },
      at(round),
    );
    const project = `prj${round}`;
    add(
      loadCounty,
      'AccountOpened',
      { accountId: project, kind: 'project', name: `项目${round}` },
      at(round),
    );
    add(
      loadCounty,
      'ProjectApproved',
      {
        projectId: project,
        planId: 'plan',
        lineId: 'infra',
        name: `道路${round}`,
        villageCode: `411325${String(100 + (round % 5)).padStart(3, '0')}200`,
        category: 'infrastructure',
        budgetFen: 3_000_000n,
        accountId: project,
        implementingUnitAccountId: 'iu',
        reimbursement: false,
      },
      at(round),
    );
    const earmark = (id: string, amountFen: bigint) =>
      add(
        loadCounty,
        'FundsEarmarked',
        {
          earmarkId: id,
          projectId: project,
          fromAccountId: 'pool',
          toAccountId: project,
          amountFen,
          consumed: [{ trancheId: `kt${round}`, amountFen }],
          created: [
            {
              trancheId: `ke-${id}`,
              accountId: project,
              amountFen,
              fundSource: 'central',
              fiscalYear: 2019,
              purpose,
              documentNumber: doc,
              parents: [{ partition: null, trancheId: `kt${round}`, amountFen }],
            },
          ],
        },
        at(round),
      );
    earmark(`em${round}`, 2_000_000n);
    add(
      loadCounty,
      'FundsDisbursed',
      {
        disbursementId: `db${round}`,
        projectId: project,
        fromAccountId: project,
        toAccountId: 'iu',
        amountFen: 1_000_000n,
        acceptanceId: null,
        consumed: [{ trancheId: `ke-em${round}`, amountFen: 1_000_000n }],
        created: [
          {
            trancheId: `kd${round}`,
            accountId: 'iu',
            amountFen: 1_000_000n,
            fundSource: 'central',
            fiscalYear: 2019,
            purpose,
            documentNumber: doc,
            parents: [{ partition: null, trancheId: `ke-em${round}`, amountFen: 1_000_000n }],
          },
        ],
      },
      at(round),
    );
    if (round % 20 === 0) {
      earmark(`emx${round}`, 500_000n);
      add(
        loadCounty,
        'MovementReversed',
        {
          reversalId: `rv${round}`,
          movementKind: 'earmark',
          movementId: `emx${round}`,
          reason: '项目取消',
          amountFen: 500_000n,
          cancelled: [{ trancheId: `ke-emx${round}`, amountFen: 500_000n }],
          restored: [{ trancheId: `kt${round}`, amountFen: 500_000n }],
        },
        at(round),
      );
    }
    const roster = `ros${round}`;
    const amounts = Array.from({ length: paymentsPerRoster }, (_, i) => 10_000n + BigInt((i % 7) * 1_000));
    add(
      loadCounty,
      'RosterSubmitted',
      {
        rosterId: roster,
        programmeCode: 'minimum_living',
        period: `2019-${String(1 + (round % 12)).padStart(2, '0')}`,
        accountId: 'pool',
        noticeId: null,
        rowCount: paymentsPerRoster,
        totalFen: amounts.reduce((a, b) => a + b, 0n),
        registrySeq: households * 2,
      },
      at(round),
    );
    const paid: { id: string; household: string; amountFen: bigint }[] = [];
    amounts.forEach((amountFen, i) => {
      const id = `pay${++payment}`;
      const household = `H${String((round * 7 + i) % households).padStart(5, '0')}`;
      paid.push({ id, household, amountFen });
      add(
        loadCounty,
        'PaymentInstructed',
        {
          paymentId: id,
          rosterId: roster,
          row: i + 2,
          householdId: household,
          programmeCode: 'minimum_living',
          period: `2019-${String(1 + (round % 12)).padStart(2, '0')}`,
          quantity: 1,
          amountFen,
          accountId: 'pool',
          noticeId: null,
          acceptanceRef: null,
          registrySeq: households * 2,
          consumed: [{ trancheId: `kt${round}`, amountFen }],
        },
        at(round),
      );
    });
    for (const [i, p] of paid.entries()) {
      if (i % 10 === 9) {
        add(
          loadCounty,
          'PaymentReturned',
          {
            paymentId: p.id,
            reason: '账户冻结',
            returnedOn: day(round + 1).slice(0, 10),
            restored: [{ trancheId: `kt${round}`, amountFen: p.amountFen }],
          },
          at(round + 1),
        );
        const again = `pay${++payment}`;
        add(
          loadCounty,
          'PaymentInstructed',
          {
            paymentId: again,
            rosterId: null,
            row: null,
            householdId: p.household,
            programmeCode: 'minimum_living',
            period: `2019-${String(1 + (round % 12)).padStart(2, '0')}`,
            quantity: 1,
            amountFen: p.amountFen,
            accountId: 'pool',
            noticeId: null,
            acceptanceRef: null,
            registrySeq: households * 2,
            consumed: [{ trancheId: `kt${round}`, amountFen: p.amountFen }],
          },
          at(round + 2),
        );
        add(
          loadCounty,
          'PaymentSettled',
          { paymentId: again, bankReference: `BK${again}`, settledOn: day(round + 3).slice(0, 10) },
          at(round + 3),
        );
      } else {
        add(
          loadCounty,
          'PaymentSettled',
          { paymentId: p.id, bankReference: `BK${p.id}`, settledOn: day(round + 1).slice(0, 10) },
          at(round + 1),
        );
      }
    }
    if (round % 25 === 0) {
      const notice = `nt${round}`;
      add(
        loadCounty,
        'NoticePublished',
        {
          noticeId: notice,
          kind: 'roster',
          title: `公示${round}`,
          stage: 'first',
          programmeCode: 'minimum_living',
          period: null,
          subjectId: roster,
          startsOn: day(round).slice(0, 10),
          endsOn: day(round + 7).slice(0, 10),
        },
        at(round),
      );
      add(
        loadCounty,
        'ObjectionFiled',
        {
          objectionId: `ob${round}`,
          noticeId: notice,
          householdId: paid[0]!.household,
          summary: '收入情况不符',
          channel: 'notice_board',
          filedOn: day(round + 1).slice(0, 10),
        },
        at(round + 1),
      );
      add(
        loadCounty,
        'ObjectionResolved',
        { objectionId: `ob${round}`, noticeId: notice, outcome: 'dismissed', note: '经核实无误' },
        at(round + 3),
      );
      add(loadCounty, 'NoticeClosed', { noticeId: notice, note: '公示期满' }, at(round + 8));
      add(
        loadCounty,
        'FindingRaised',
        {
          findingId: `f${round}`,
          ruleId: 'duplicate_payment',
          ruleVersion: 1,
          severity: 'medium',
          subjects: [{ context: 'ledger', partition: loadCounty, entity: 'payment', id: paid[1]!.id }],
          evidence: [{ stream: `LEDGER_${loadCounty}`, seq: ledgerSeq, type: 'NoticeClosed' }],
          amounts: [{ label: 'paid', amountFen: paid[1]!.amountFen }],
          summary: '疑似重复发放',
        },
        at(round + 9),
      );
    }
  }
  return count;
}
