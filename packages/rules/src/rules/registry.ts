import { householdRef } from '../support';
import type { EvidenceRef, FindingDraft, Rule } from '../types';

/**
 * 一卡多户 (one card, several households): one 一卡通 account (by its keyed hash) is the current
 * account of more than one household. Subsidies of several households landing on one card is the
 * classic pattern of 冒领 by a village cadre holding the cards.
 */
export const sharedAccount: Rule<Record<string, never>> = {
  id: 'shared_account',
  version: 1,
  description: '一卡多户：一个一卡通账户绑定在多户名下。',
  defaults: {},
  run(input) {
    const byHash = new Map<string, { householdId: string; bound: EvidenceRef | null }[]>();
    for (const h of input.households) {
      if (h.accountHash === null) continue;
      byHash.set(h.accountHash, [
        ...(byHash.get(h.accountHash) ?? []),
        { householdId: h.householdId, bound: h.accountBound },
      ]);
    }
    const out: FindingDraft[] = [];
    for (const [hash, holders] of byHash) {
      if (holders.length < 2) continue;
      const ids = holders.map((h) => h.householdId).sort();
      out.push({
        // The hash is already keyed (HMAC), but the id need not carry it: the sorted households do.
        key: `${hash}|${ids.join(',')}`,
        severity: 'high',
        subjects: ids.map((id) => householdRef(input.partition, id)),
        evidence: holders.flatMap((h) => (h.bound ? [h.bound] : [])),
        amounts: [],
        summary: `一卡多户：同一个一卡通账户绑定了 ${ids.length} 户（${ids.join('、')}）。`,
      });
    }
    return out;
  },
};

/**
 * The same person (ID number, by keyed hash) registered in households of different counties: one
 * of the registrations is false, or the person is drawing support twice. Each county's rule run
 * raises it in its own AUDIT stream, citing both registrations.
 */
export const crossCountyIdentity: Rule<Record<string, never>> = {
  id: 'cross_county_identity',
  version: 1,
  description: '跨县重复登记：同一身份证号出现在不同县的贫困户中。',
  defaults: {},
  run(input) {
    const elsewhere = new Map<string, (typeof input.membersElsewhere)[number][]>();
    for (const m of input.membersElsewhere) {
      if (m.partition === input.partition) continue;
      elsewhere.set(m.idNumberHash, [...(elsewhere.get(m.idNumberHash) ?? []), m]);
    }
    const out: FindingDraft[] = [];
    for (const h of input.households) {
      for (const member of h.members) {
        const others = elsewhere.get(member.idNumberHash);
        if (others === undefined) continue;
        // The key keeps `partition/household`: the summary's wording is not part of the finding id.
        const places = others.map((o) => `${o.partition}/${o.householdId}`).sort();
        const placeNames = others.map((o) => `${o.partition} 户 ${o.householdId}`).sort();
        out.push({
          key: `${h.householdId}|${member.memberNo}|${places.join(',')}`,
          severity: 'high',
          subjects: [
            householdRef(input.partition, h.householdId),
            ...others.map((o) => householdRef(o.partition, o.householdId)),
          ],
          evidence: [member.added, ...others.map((o) => o.added)],
          amounts: [],
          summary: `跨县重复登记：户 ${h.householdId} 第 ${member.memberNo} 名成员的身份证号也登记在 ${placeNames.join('、')}。`,
        });
      }
    }
    return out;
  },
};
