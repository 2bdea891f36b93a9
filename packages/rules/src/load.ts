import type { Database } from '@fundtrace/db';
import { levelOf, streamName } from '@fundtrace/events';
import { type Kysely, sql } from 'kysely';
import type {
  EvidenceRef,
  HouseholdFact,
  MemberFact,
  ObjectionFact,
  PaymentFact,
  PaymentPiece,
  RuleInput,
  RuleReference,
} from './types';

/**
 * Reads the input of a rule run for one partition from the read models (the projector's tables),
 * citing every fact by the event that established it (stream without namespace, sequence, type).
 * Only reads; the rules themselves stay pure.
 */
export async function loadRuleInput(
  db: Kysely<Database>,
  options: RuleReference & {
    readonly partition: string;
    readonly asOf: string;
  },
): Promise<RuleInput> {
  const { partition } = options;
  const ledger = streamName('ledger', partition);
  const registry = streamName('registry', partition);
  const level = levelOf(partition);
  if (level !== 'central' && level !== 'province' && level !== 'city' && level !== 'county') {
    throw new RangeError(`${partition} is not the code of a partition's books`);
  }
  const types = await eventTypes(db, [ledger, registry]);
  const ref = (stream: string, seq: bigint | number): EvidenceRef => {
    const n = Number(seq);
    const type = types.get(`${stream}#${n}`);
    // A read model citing a sequence the trail does not hold is a broken projection.
    if (type === undefined)
      throw new Error(`${stream} sequence ${n} is cited by the books but not in the trail`);
    return { stream, seq: n, type };
  };

  const tranches = await db
    .selectFrom('tranches as t')
    .innerJoin('accounts as a', (j) =>
      j.onRef('a.partition', '=', 't.partition').onRef('a.account_id', '=', 't.account_id'),
    )
    .select([
      't.tranche_id',
      't.account_id',
      'a.kind',
      't.amount_fen',
      't.remaining_fen',
      't.purpose',
      't.document_number',
      't.created_on',
      't.movement_kind',
      't.created_seq',
    ])
    .where('t.partition', '=', partition)
    .orderBy('t.tranche_id')
    .execute();

  const pieces = await sql<{
    child_id: string;
    parent_tranche_id: string;
    purpose: string;
    amount_fen: bigint;
  }>`
    select f.child_id, f.parent_tranche_id, t.purpose, f.amount_fen
    from tranche_flows f
    join tranches t on t.partition = f.parent_partition and t.tranche_id = f.parent_tranche_id
    where f.partition = ${partition} and f.child_kind = 'payment'
    order by f.child_id, f.seq, f.piece_no`.execute(db);
  const piecesByPayment = new Map<string, PaymentPiece[]>();
  for (const row of pieces.rows) {
    const list = piecesByPayment.get(row.child_id) ?? [];
    list.push({ trancheId: row.parent_tranche_id, purpose: row.purpose, amountFen: row.amount_fen });
    piecesByPayment.set(row.child_id, list);
  }
  const payments = await db
    .selectFrom('payments')
    .selectAll()
    .where('partition', '=', partition)
    .orderBy('instructed_seq')
    .execute();

  const households = await db
    .selectFrom('households')
    .selectAll()
    .where('partition', '=', partition)
    .orderBy('household_id')
    .execute();
  const members = await db
    .selectFrom('members')
    .selectAll()
    .where('partition', '=', partition)
    .orderBy('household_id')
    .orderBy('member_no')
    .execute();
  // The registry facts the read models keep without their sequence: deaths, exits, account bindings.
  const registryEvents = await sql<{
    seq: bigint;
    type: string;
    entity_id: string;
    member_no: string | null;
  }>`
    select seq, type, entity_id, data->>'memberNo' as member_no from events
    where stream = ${registry} and type in ('MemberDeceased', 'HouseholdExited', 'AccountBound', 'AccountChanged')
    order by seq`.execute(db);
  const died = new Map<string, bigint>();
  const exited = new Map<string, bigint>();
  const bound = new Map<string, bigint>();
  for (const row of registryEvents.rows) {
    if (row.type === 'MemberDeceased') died.set(`${row.entity_id}#${row.member_no}`, row.seq);
    else if (row.type === 'HouseholdExited') exited.set(row.entity_id, row.seq);
    else bound.set(row.entity_id, row.seq);
  }
  const membersByHousehold = new Map<string, MemberFact[]>();
  for (const m of members) {
    const diedSeq = died.get(`${m.household_id}#${m.member_no}`);
    const list = membersByHousehold.get(m.household_id) ?? [];
    list.push({
      memberNo: m.member_no,
      idNumberHash: m.id_number_hash,
      diedOn: m.died_on,
      added: ref(registry, m.added_seq),
      died: diedSeq === undefined ? null : ref(registry, diedSeq),
    });
    membersByHousehold.set(m.household_id, list);
  }

  const elsewhere = await sql<{
    partition: string;
    household_id: string;
    id_number_hash: string;
    added_seq: bigint;
    type: string | null;
  }>`
    select o.partition, o.household_id, o.id_number_hash, o.added_seq, e.type
    from members o
    left join events e on e.stream = 'REGISTRY_' || o.partition and e.seq = o.added_seq
    where o.partition <> ${partition}
      and o.id_number_hash in (select id_number_hash from members where partition = ${partition})
    order by o.partition, o.household_id, o.member_no`.execute(db);

  const notices = await db.selectFrom('notices').selectAll().where('partition', '=', partition).execute();
  const lineCounts = new Map(
    (
      await db
        .selectFrom('notice_lines')
        .select(['notice_id', (eb) => eb.fn.countAll<string>().as('lines')])
        .where('partition', '=', partition)
        .groupBy('notice_id')
        .execute()
    ).map((r) => [r.notice_id, Number(r.lines)]),
  );
  const objections = await db
    .selectFrom('objections')
    .select(['objection_id', 'notice_id', 'household_id', 'outcome', 'filed_seq', 'resolved_seq'])
    .where('partition', '=', partition)
    .orderBy('filed_seq')
    .execute();
  // The published lines objected to (one per notice and household), so a finding can cite the line.
  const objectedLines = await db
    .selectFrom('notice_lines as l')
    .select(['l.notice_id', 'l.household_id', 'l.line_no', 'l.seq'])
    .where('l.partition', '=', partition)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('objections as o')
          .select(sql`1`.as('one'))
          .whereRef('o.partition', '=', 'l.partition')
          .whereRef('o.notice_id', '=', 'l.notice_id')
          .whereRef('o.household_id', '=', 'l.household_id'),
      ),
    )
    .execute();
  const lineOf = new Map(
    objectedLines.map((l) => [
      `${l.notice_id}\u0000${l.household_id}`,
      { lineNo: l.line_no, published: ref(ledger, l.seq) },
    ]),
  );
  const objectionsByNotice = new Map<string, ObjectionFact[]>();
  for (const o of objections) {
    const list = objectionsByNotice.get(o.notice_id) ?? [];
    list.push({
      objectionId: o.objection_id,
      householdId: o.household_id,
      filed: ref(ledger, o.filed_seq),
      resolved: o.resolved_seq === null ? null : ref(ledger, o.resolved_seq),
      outcome: o.outcome,
      line: o.household_id === null ? null : (lineOf.get(`${o.notice_id}\u0000${o.household_id}`) ?? null),
    });
    objectionsByNotice.set(o.notice_id, list);
  }
  const projects = await db.selectFrom('projects').selectAll().where('partition', '=', partition).execute();
  const acceptances = await db
    .selectFrom('acceptances')
    .selectAll()
    .where('partition', '=', partition)
    .execute();
  const disbursements = await db
    .selectFrom('disbursements')
    .selectAll()
    .where('partition', '=', partition)
    .orderBy('seq')
    .execute();

  return {
    partition,
    level,
    asOf: options.asOf,
    programmes: options.programmes,
    purposes: options.purposes,
    tranches: tranches.map((t) => ({
      trancheId: t.tranche_id,
      accountId: t.account_id,
      accountKind: t.kind,
      amountFen: t.amount_fen,
      remainingFen: t.remaining_fen,
      purpose: t.purpose,
      documentNumber: t.document_number,
      createdOn: t.created_on,
      movementKind: t.movement_kind,
      created: ref(ledger, t.created_seq),
    })),
    payments: payments.map(
      (p): PaymentFact => ({
        paymentId: p.payment_id,
        householdId: p.household_id,
        programmeCode: p.programme_code,
        period: p.period,
        quantity: p.quantity,
        amountFen: p.amount_fen,
        status: p.status,
        instructedOn: p.instructed_on,
        noticeId: p.notice_id,
        acceptanceRef: p.acceptance_ref,
        instructed: ref(ledger, p.instructed_seq),
        pieces: piecesByPayment.get(p.payment_id) ?? [],
      }),
    ),
    households: households.map(
      (h): HouseholdFact => ({
        householdId: h.household_id,
        villageCode: h.village_code,
        registeredOn: h.registered_on,
        registered: ref(registry, h.registered_seq),
        status: h.status,
        exitedOn: h.exited_on,
        exited: exited.has(h.household_id) ? ref(registry, exited.get(h.household_id)!) : null,
        accountHash: h.account_hash,
        accountBound: bound.has(h.household_id) ? ref(registry, bound.get(h.household_id)!) : null,
        members: membersByHousehold.get(h.household_id) ?? [],
      }),
    ),
    membersElsewhere: elsewhere.rows.map((row) => {
      const stream = streamName('registry', row.partition);
      if (row.type === null)
        throw new Error(`${stream} sequence ${row.added_seq} is cited by the books but not in the trail`);
      return {
        partition: row.partition,
        householdId: row.household_id,
        idNumberHash: row.id_number_hash,
        added: { stream, seq: Number(row.added_seq), type: row.type },
      };
    }),
    notices: notices.map((n) => ({
      noticeId: n.notice_id,
      kind: n.kind,
      programmeCode: n.programme_code,
      lineCount: lineCounts.get(n.notice_id) ?? 0,
      status: n.status,
      startsOn: n.starts_on,
      endsOn: n.ends_on,
      openObjectionCount: n.open_objection_count,
      published: ref(ledger, n.published_seq),
      objections: objectionsByNotice.get(n.notice_id) ?? [],
    })),
    projects: projects.map((p) => ({
      projectId: p.project_id,
      reimbursement: p.reimbursement,
      implementingUnitAccountId: p.implementing_unit_account_id,
      approved: ref(ledger, p.approved_seq),
    })),
    acceptances: acceptances.map((a) => ({
      acceptanceId: a.acceptance_id,
      projectId: a.project_id,
      documentNumber: a.document_number,
      acceptedOn: a.accepted_on,
      recorded: ref(ledger, a.seq),
    })),
    disbursements: disbursements.map((d) => ({
      disbursementId: d.disbursement_id,
      projectId: d.project_id,
      toAccountId: d.to_account_id,
      amountFen: d.amount_fen,
      acceptanceId: d.acceptance_id,
      disbursedOn: d.disbursed_on,
      reversed: d.reversed_seq !== null,
      disbursed: ref(ledger, d.seq),
    })),
  };
}

/** Most events whose types one run looks up: a county's whole log of a few years. */
export const ruleInputEventsMax = 5_000_000;

async function eventTypes(db: Kysely<Database>, streams: readonly string[]): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('events')
    .select(['stream', 'seq', 'type'])
    .where('stream', 'in', [...streams])
    .limit(ruleInputEventsMax + 1)
    .execute();
  if (rows.length > ruleInputEventsMax) {
    throw new RangeError(
      `more than ${ruleInputEventsMax} events in ${streams.join(', ')}; run the rules per year`,
    );
  }
  return new Map(rows.map((r) => [`${r.stream}#${Number(r.seq)}`, r.type]));
}
