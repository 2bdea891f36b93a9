import { describe, expect, it } from 'vitest';
import { ledger } from '../src';

describe('personsPaid: the one reading of a payment quantity as persons (虚报冒领)', () => {
  it('counts the months of every period form periodSchema accepts', () => {
    for (const [period, months] of [
      ['2024', 12],
      ['2024-H2', 6],
      ['2024-Q3', 3],
      ['2024-03', 1],
    ] as const) {
      expect(ledger.periodSchema.parse(period)).toBe(period);
      expect(ledger.monthsInPeriod(period)).toBe(months);
    }
  });

  it('divides person-months by the months of the period, rounding up', () => {
    expect(ledger.personsPaid('person_month', 9, '2024-Q2')).toBe(3); // 低保, three persons, a quarter
    expect(ledger.personsPaid('person_month', 10, '2024-Q2')).toBe(4); // more than three persons' worth
    expect(ledger.personsPaid('person_month', 3, '2024-Q2')).toBe(1); // 残疾人两项补贴, one person
    expect(ledger.personsPaid('person_month', 24, '2024')).toBe(2);
    expect(ledger.personsPaid('person_month', 12, '2024-H1')).toBe(2);
    expect(ledger.personsPaid('person_month', 2, '2024-06')).toBe(2);
  });

  it('reads persons, person-years and students as persons whatever the period', () => {
    expect(ledger.personsPaid('person', 3, '2024-Q2')).toBe(3);
    expect(ledger.personsPaid('person_year', 2, '2024')).toBe(2);
    expect(ledger.personsPaid('student_year', 2, '2024')).toBe(2); // 雨露计划, two students
  });

  it('does not count people for household, household-year and area units', () => {
    for (const unit of ['household', 'household_year', 'm2']) {
      expect(ledger.isPerPersonUnit(unit)).toBe(false);
      expect(ledger.personsPaid(unit, 5, '2024')).toBeNull();
    }
  });
});
