import { ledger } from '@fundtrace/events';
import { householdRef, ledgerRef, programmeName, purposeName, yuan } from '../support';
import type {
  EvidenceRef,
  FindingDraft,
  HouseholdFact,
  NoticeFact,
  PaymentFact,
  ProgrammeRef,
  Rule,
  RuleInput,
} from '../types';

/** Payments that moved money to a household (a returned or reversed one came back). */
function effective(p: PaymentFact): boolean {
  return p.status === 'instructed' || p.status === 'settled';
}

function paymentSubjects(input: RuleInput, p: PaymentFact) {
  return [ledgerRef(input.partition, 'payment', p.paymentId), householdRef(input.partition, p.householdId)];
}

/**
 * 改变用途 (use outside purpose): a payment drawn from a tranche whose purpose (用途) may not pay
 * the programme (专款专用), or for a programme the reference data does not know. The writer
 * refuses this today; the rule exists for books that predate the write rules or came by import.
 */
export const purposeMismatch: Rule<Record<string, never>> = {
  id: 'purpose_mismatch',
  version: 1,
  description: '改变用途：补贴所动用资金的用途不允许支付该补助项目，或补助项目不在参考数据中。',
  defaults: {},
  run(input) {
    const out: FindingDraft[] = [];
    for (const p of input.payments) {
      if (!effective(p)) continue;
      const programme = input.programmes.get(p.programmeCode);
      const allowed = new Set(programme?.purposes ?? []);
      const wrong = p.pieces.filter((piece) => !allowed.has(piece.purpose));
      if (wrong.length === 0) continue;
      const wrongFen = wrong.reduce((sum, piece) => sum + piece.amountFen, 0n);
      out.push({
        key: p.paymentId,
        severity: 'high',
        subjects: paymentSubjects(input, p),
        evidence: [p.instructed],
        amounts: [
          { label: 'paid', amountFen: p.amountFen },
          { label: 'outside_purpose', amountFen: wrongFen },
        ],
        summary:
          programme === undefined
            ? `改变用途：补贴发放 ${p.paymentId} 金额 ${yuan(p.amountFen)}，其补助项目 ${p.programmeCode} 不在补助项目参考数据中。`
            : `改变用途：补贴发放 ${p.paymentId}（${programme.name}）从用途为 ${purposeNames(
                input,
                wrong.map((w) => w.purpose),
              )} 的资金中支用 ${yuan(wrongFen)}；该补助项目只能由用途为 ${purposeNames(input, programme.purposes)} 的资金支付。`,
      });
    }
    return out;
  },
};

/** Purposes (用途) by their reference-data names, each once: 产业发展、基础设施建设. */
function purposeNames(input: RuleInput, codes: readonly string[]): string {
  return [...new Set(codes)].map((code) => purposeName(input, code)).join('、');
}

/**
 * What a rule version says about the objections (异议) on a payment's notice: a problem to report,
 * or null. The objection evidence it cites is pushed onto `evidence`.
 */
type ObjectionCheck = (p: PaymentFact, notice: NoticeFact, evidence: EvidenceRef[]) => string | null;

/**
 * 程序违规 (procedure skipped): a payment of a programme that needs a public notice (公示) made
 * without one, or before the notice's period had ended, or against open objections; a payment
 * that needs acceptance (验收) made without one or before it; a 报账制 disbursement made without
 * or before its project's acceptance.
 */
function procedureViolations(input: RuleInput, objectionProblem: ObjectionCheck): FindingDraft[] {
  const notices = new Map(input.notices.map((n) => [n.noticeId, n]));
  const acceptancesByDoc = new Map<string, (typeof input.acceptances)[number][]>();
  for (const a of input.acceptances) {
    acceptancesByDoc.set(a.documentNumber, [...(acceptancesByDoc.get(a.documentNumber) ?? []), a]);
  }
  const acceptances = new Map(input.acceptances.map((a) => [a.acceptanceId, a]));
  const projects = new Map(input.projects.map((p) => [p.projectId, p]));
  const out: FindingDraft[] = [];
  for (const p of input.payments) {
    if (!effective(p)) continue;
    const programme = input.programmes.get(p.programmeCode);
    if (programme === undefined) continue; // purpose_mismatch reports unknown programmes
    const problems: string[] = [];
    const evidence: EvidenceRef[] = [p.instructed];
    if (programme.needsNotice) {
      const notice = p.noticeId === null ? undefined : notices.get(p.noticeId);
      if (notice === undefined) problems.push('未经公示');
      else {
        evidence.push(notice.published);
        if (p.instructedOn <= notice.endsOn)
          problems.push(`于 ${p.instructedOn} 发放，而公示 ${notice.noticeId} 到 ${notice.endsOn} 才期满`);
        const objected = objectionProblem(p, notice, evidence);
        if (objected !== null) problems.push(objected);
      }
    }
    if (programme.needsAcceptance) {
      const accepted = (p.acceptanceRef === null ? [] : (acceptancesByDoc.get(p.acceptanceRef) ?? [])).filter(
        (a) => a.acceptedOn <= p.instructedOn,
      );
      if (accepted.length === 0) {
        problems.push(
          p.acceptanceRef === null
            ? '未经验收'
            : `截至发放日 ${p.instructedOn} 未登记验收 ${p.acceptanceRef}`,
        );
      } else evidence.push(...accepted.map((a) => a.recorded));
    }
    if (problems.length === 0) continue;
    out.push({
      key: `payment:${p.paymentId}`,
      severity: 'medium',
      subjects: paymentSubjects(input, p),
      evidence,
      amounts: [{ label: 'paid', amountFen: p.amountFen }],
      summary: `程序违规：补贴发放 ${p.paymentId}（${programme.name}，${yuan(p.amountFen)}）${problems.join('；')}。`,
    });
  }
  for (const d of input.disbursements) {
    if (d.reversed) continue;
    const project = projects.get(d.projectId);
    if (project === undefined || !project.reimbursement) continue;
    const acceptance = d.acceptanceId === null ? undefined : acceptances.get(d.acceptanceId);
    if (acceptance !== undefined && acceptance.acceptedOn <= d.disbursedOn) continue;
    out.push({
      key: `disbursement:${d.disbursementId}`,
      severity: 'medium',
      subjects: [
        ledgerRef(input.partition, 'disbursement', d.disbursementId),
        ledgerRef(input.partition, 'project', d.projectId),
      ],
      evidence: [d.disbursed, project.approved, ...(acceptance ? [acceptance.recorded] : [])],
      amounts: [{ label: 'disbursed', amountFen: d.amountFen }],
      summary:
        acceptance === undefined
          ? `程序违规：报账制项目 ${d.projectId} 的拨付 ${d.disbursementId}（${yuan(d.amountFen)}）未经验收。`
          : `程序违规：报账制项目 ${d.projectId} 的拨付 ${d.disbursementId}（${yuan(d.amountFen)}）于 ${d.disbursedOn} 拨付，早于 ${acceptance.acceptedOn} 的验收。`,
    });
  }
  return out;
}

const procedureViolationDescription =
  '程序违规：补贴在公示未完成（无公示、公示期未满或异议未处理）或验收前发放，或报账资金在项目验收前拨付。';

/**
 * v1 flagged every payment on a notice that has an objection open now, whenever the payment was
 * made: one objection filed in August turned the July payments already made into ten findings.
 * Kept so its findings can be re-run as they were raised.
 */
export const procedureViolationV1: Rule<Record<string, never>> = {
  id: 'procedure_violation',
  version: 1,
  description: procedureViolationDescription,
  defaults: {},
  run(input) {
    return procedureViolations(input, (_p, notice) =>
      notice.openObjectionCount > 0
        ? `公示 ${notice.noticeId} 有 ${notice.openObjectionCount} 件异议尚未处理`
        : null,
    );
  },
};

/**
 * v2 flags a payment only if it was decided while an objection to its notice as a whole, or to its
 * household's line, was open: filed before the payment's PaymentInstructed and not resolved before
 * it. Objections and payments are events of the same ledger stream, so their sequences order them
 * exactly (dates would tie on the day). This is what the ledger writer refuses (decision 0062).
 */
export const procedureViolation: Rule<Record<string, never>> = {
  id: 'procedure_violation',
  version: 2,
  description: procedureViolationDescription,
  defaults: {},
  run(input) {
    return procedureViolations(input, (p, notice, evidence) => {
      const open = notice.objections.filter(
        (o) =>
          (o.householdId === null || o.householdId === p.householdId) &&
          o.filed.seq < p.instructed.seq &&
          (o.resolved === null || o.resolved.seq > p.instructed.seq),
      );
      if (open.length === 0) return null;
      evidence.push(...open.map((o) => o.filed));
      return `发放时公示 ${notice.noticeId} 的异议 ${open.map((o) => o.objectionId).join('、')} 尚未处理`;
    });
  },
};

/** Members alive on `day`: died on a later day or not at all. */
function livingOn(h: HouseholdFact, day: string): number {
  return h.members.filter((m) => m.diedOn === null || m.diedOn > day).length;
}

/**
 * Persons a payment pays for as a rule version reads its quantity; null when the programme does not
 * pay per person (or is unknown: purpose_mismatch reports those).
 */
type PersonsPaid = (p: PaymentFact, programme: ProgrammeRef | undefined) => number | null;

const falseClaimDescription = '虚报冒领：补贴发给未登记、已销号或已去世的对象。';

/**
 * 虚报冒领 (false claims): a payment to a household that is not in the register, was removed from
 * it (销号) before the payment, or whose beneficiaries had died: every member, or for a per-person
 * programme more persons paid than were alive. Households lifted out of poverty (脱贫) stay
 * eligible: the policy is "脱贫不脱政策".
 */
function falseClaims(input: RuleInput, personsPaid: PersonsPaid): FindingDraft[] {
  const households = new Map(input.households.map((h) => [h.householdId, h]));
  const out: FindingDraft[] = [];
  for (const p of input.payments) {
    if (!effective(p)) continue;
    const h = households.get(p.householdId);
    let problem: string | null = null;
    const evidence: EvidenceRef[] = [p.instructed];
    if (h === undefined || h.registeredOn > p.instructedOn) {
      problem = `户 ${p.householdId} 在 ${p.instructedOn} 尚未建档登记`;
      if (h !== undefined) evidence.push(h.registered);
    } else if (h.status === 'removed' && h.exitedOn !== null && h.exitedOn <= p.instructedOn) {
      problem = `户 ${p.householdId} 已于 ${h.exitedOn} 销号`;
      if (h.exited) evidence.push(h.exited);
    } else {
      const living = livingOn(h, p.instructedOn);
      const persons = personsPaid(p, input.programmes.get(p.programmeCode));
      if (living === 0 || (persons !== null && persons > living)) {
        problem =
          living === 0
            ? `户 ${p.householdId} 的成员在 ${p.instructedOn} 前均已死亡`
            : `按 ${persons} 人发放${persons === p.quantity ? '' : `（${p.period} 数量 ${p.quantity}）`}，${p.instructedOn} 在世的只有 ${living} 人`;
        for (const m of h.members)
          if (m.died && m.diedOn !== null && m.diedOn <= p.instructedOn) evidence.push(m.died);
      }
    }
    if (problem === null) continue;
    out.push({
      key: `payment:${p.paymentId}`,
      severity: 'high',
      subjects: paymentSubjects(input, p),
      evidence,
      amounts: [{ label: 'paid', amountFen: p.amountFen }],
      summary: `虚报冒领：补贴发放 ${p.paymentId}（${programmeName(input, p.programmeCode)}，${p.period}）金额 ${yuan(p.amountFen)}，${problem}。`,
    });
  }
  return out;
}

/**
 * v1 read the quantity of every unit starting with `person` as persons: a quarter of 低保
 * (person_month) for three persons, quantity 9, was flagged as 9 persons paid, and 雨露计划
 * (student_year) was not counted at all. Kept so its findings can be re-run as they were raised.
 */
export const falseClaimV1: Rule<Record<string, never>> = {
  id: 'false_claim',
  version: 1,
  description: falseClaimDescription,
  defaults: {},
  run(input) {
    return falseClaims(input, (p, programme) =>
      (programme?.unit.startsWith('person') ?? false) ? p.quantity : null,
    );
  },
};

/**
 * v2 counts persons exactly as the ledger writer does when it refuses `member_deceased`
 * (`ledger.personsPaid` in @fundtrace/events: person-months divided by the months of the period,
 * students counted), so the rule flags what the writer would have refused and nothing it admits
 * (decision 0061).
 */
export const falseClaim: Rule<Record<string, never>> = {
  id: 'false_claim',
  version: 2,
  description: falseClaimDescription,
  defaults: {},
  run(input) {
    return falseClaims(input, (p, programme) =>
      programme === undefined ? null : ledger.personsPaid(programme.unit, p.quantity, p.period),
    );
  },
};

/**
 * 虚报冒领 (duplicate payments): more than one payment that moved money to the same household for
 * the same programme and period. A payment returned by the bank and paid again is not a duplicate:
 * only instructed and settled payments count.
 */
export const duplicatePayment: Rule<Record<string, never>> = {
  id: 'duplicate_payment',
  version: 1,
  description: '重复发放：同一户在同一补助项目、同一期间被发放两次以上。',
  defaults: {},
  run(input) {
    const groups = new Map<string, PaymentFact[]>();
    for (const p of input.payments) {
      if (!effective(p)) continue;
      const key = `${p.householdId}|${p.programmeCode}|${p.period}`;
      const list = groups.get(key);
      if (list === undefined) groups.set(key, [p]);
      else list.push(p);
    }
    const out: FindingDraft[] = [];
    for (const [key, payments] of groups) {
      if (payments.length < 2) continue;
      const first = payments[0]!;
      const total = payments.reduce((sum, p) => sum + p.amountFen, 0n);
      const excess = total - first.amountFen;
      out.push({
        key,
        severity: 'high',
        subjects: [
          householdRef(input.partition, first.householdId),
          ...payments.map((p) => ledgerRef(input.partition, 'payment', p.paymentId)),
        ],
        evidence: payments.map((p) => p.instructed),
        amounts: [
          { label: 'paid', amountFen: total },
          { label: 'excess', amountFen: excess },
        ],
        summary: `重复发放：户 ${first.householdId} 的 ${programmeName(input, first.programmeCode)}（${first.period}）发放了 ${payments.length} 次（${payments.map((p) => p.paymentId).join('、')}），多发 ${yuan(excess)}。`,
      });
    }
    return out;
  },
};

/**
 * 超标准 (above the standard): a payment above the programme's cap (最高标准) times the quantity
 * paid for. Programmes with a floor only (危房改造 repair ≥ 8,000) have no cap to exceed.
 */
export const aboveStandard: Rule<Record<string, never>> = {
  id: 'above_standard',
  version: 1,
  description: '超标准发放：一笔补贴超过补助项目的发放标准乘以数量。',
  defaults: {},
  run(input) {
    const out: FindingDraft[] = [];
    for (const p of input.payments) {
      if (!effective(p)) continue;
      const programme = input.programmes.get(p.programmeCode);
      if (programme?.maxFen == null) continue;
      const cap = programme.maxFen * BigInt(p.quantity);
      if (p.amountFen <= cap) continue;
      out.push({
        key: p.paymentId,
        severity: 'medium',
        subjects: paymentSubjects(input, p),
        evidence: [p.instructed],
        amounts: [
          { label: 'paid', amountFen: p.amountFen },
          { label: 'standard', amountFen: cap },
          { label: 'excess', amountFen: p.amountFen - cap },
        ],
        summary: `超标准发放：补贴发放 ${p.paymentId}（${programme.name}，数量 ${p.quantity}）金额 ${yuan(p.amountFen)}，超过标准上限 ${yuan(cap)}。`,
      });
    }
    return out;
  },
};
