/**
 * How many persons a payment pays for (虚报冒领 is judged by it). A payment
 * (PaymentInstructed, a roster row, a notice line) names a household, a quantity
 * in its programme's unit and a period, not the members it is for. The writer
 * (ledger-api, refusing `member_deceased`) and the `false_claim` warning rule
 * (@fundtrace/rules, flagging after the fact) must read the quantity the same
 * way, or one admits what the other flags; so the one definition lives here,
 * beside the period it depends on (decision 0061).
 */

/**
 * Programme units whose standard counts people: 低保 and 特困 per person, 残疾人两项补贴
 * per person per month, 医疗保险代缴 per person per year, 雨露计划 per student per
 * year (DOMAIN.md, "Programmes"). Household, household-year and m² units do not.
 */
export const perPersonUnits = ['person', 'person_month', 'person_year', 'student_year'] as const;
export type PerPersonUnit = (typeof perPersonUnits)[number];

const perPerson: ReadonlySet<string> = new Set(perPersonUnits);

export function isPerPersonUnit(unit: string): unit is PerPersonUnit {
  return perPerson.has(unit);
}

/** Months in a payment period (periodSchema): YYYY-MM 1, YYYY-Qn 3, YYYY-Hn 6, YYYY 12. */
export function monthsInPeriod(period: string): number {
  if (period.length === 4) return 12;
  const part = period.slice(5);
  return part.startsWith('Q') ? 3 : part.startsWith('H') ? 6 : 1;
}

/**
 * Persons a quantity pays for over a period, or null when the unit does not count
 * people. A monthly standard's quantity is person-months, so it is divided by the
 * months of the period, rounded up: one person's quarter of 残疾人两项补贴 is 3
 * person-months, 1 person; a quarter of 低保 for three persons is 9, 3 persons.
 * Every other per-person unit's quantity is persons (students for 雨露计划).
 */
export function personsPaid(unit: string, quantity: number, period: string): number | null {
  if (!isPerPersonUnit(unit)) return null;
  return unit === 'person_month' ? Math.ceil(quantity / monthsInPeriod(period)) : quantity;
}
