import { describe, expect, it } from 'vitest';
import {
  generateHouseholds,
  generateVillages,
  householdHeader,
  householdInputSchema,
  householdsToImportRows,
  householdToRows,
  parseHouseholdRows,
  validateBankAccount,
  validateIdNumber,
  validatePhone,
} from '../src/index';

describe('generateHouseholds', () => {
  const households = generateHouseholds({ county: '411325', villages: 40, count: 2000, seed: 7 });

  it('is reproducible for a seed and differs between seeds', () => {
    expect(generateHouseholds({ county: '411325', villages: 40, count: 50, seed: 7 })).toEqual(
      households.slice(0, 50),
    );
    expect(generateHouseholds({ county: '411325', villages: 40, count: 50, seed: 8 })).not.toEqual(
      households.slice(0, 50),
    );
  });

  it('produces only valid, unique ID numbers whose birth date and sex agree with the member', () => {
    const ids = new Set<string>();
    for (const h of households) {
      for (const m of h.members) {
        const result = validateIdNumber(m.idNumber, { asOf: h.registeredOn });
        expect(result.ok, `${h.householdId} ${result.ok || result.message}`).toBe(true);
        if (!result.ok) continue;
        expect(result.birthDate).toBe(m.birthDate);
        if (m.relation === 'son' || m.relation === 'father' || m.relation === 'grandson')
          expect(result.sex).toBe('male');
        if (m.relation === 'daughter' || m.relation === 'mother' || m.relation === 'granddaughter')
          expect(result.sex).toBe('female');
        ids.add(m.idNumber);
      }
    }
    expect(ids.size).toBe(households.reduce((n, h) => n + h.members.length, 0));
  });

  it('gives every household exactly one head, valid accounts held by members, valid phones, county villages', () => {
    for (const h of households) {
      expect(householdInputSchema.safeParse(h).success).toBe(true);
      expect(h.members.filter((m) => m.relation === 'head')).toHaveLength(1);
      expect(h.villageCode.startsWith('411325')).toBe(true);
      if (h.account) {
        expect(validateBankAccount(h.account.bank, h.account.medium, h.account.number).ok).toBe(true);
        expect(h.account.holderMemberNo).toBeLessThanOrEqual(h.members.length);
      }
      if (h.phone) expect(validatePhone(h.phone).ok).toBe(true);
      if (h.status === 'lifted') expect(h.liftedOn! > h.registeredOn).toBe(true);
    }
  });

  it('uses the explicit village list when given one, and refuses bad arguments', () => {
    const [a, b] = generateVillages('411325', 2);
    const few = generateHouseholds({ county: '411325', villages: [a!.code, b!.code], count: 30, seed: 1 });
    expect(new Set(few.map((h) => h.villageCode))).toEqual(new Set([a!.code, b!.code]));
    expect(() => generateHouseholds({ county: '411300', villages: 1, count: 1, seed: 1 })).toThrow(
      /not a county/,
    );
    expect(() => generateHouseholds({ county: '411325', villages: [], count: 1, seed: 1 })).toThrow(
      /village/,
    );
    expect(() => generateHouseholds({ county: '411325', villages: 1, count: -1, seed: 1 })).toThrow(/count/);
  });

  it('names real 内乡县 townships with distinct village codes', () => {
    const villages = generateVillages('411325', 100);
    expect(new Set(villages.map((v) => v.code)).size).toBe(100);
    expect(villages[0]!.township.name).toBe('城关镇');
    expect(villages.every((v) => /^411325\d{6}$/.test(v.code))).toBe(true);
  });
});

describe('import rows', () => {
  const households = generateHouseholds({ county: '411325', villages: 5, count: 200, seed: 3 });
  const toSource = (rows: string[][], first = 2) => rows.map((cells, i) => ({ row: first + i, cells }));

  it('round-trips generated households through rows', () => {
    const rows = households.flatMap((h) => householdToRows(h));
    const parsed = parseHouseholdRows(householdHeader, toSource(rows));
    expect(parsed.errors).toEqual([]);
    expect(parsed.households.map((p) => p.input)).toEqual(
      households.map((h) => householdInputSchema.parse(h)),
    );
    expect(parsed.households[0]!.rows.first).toBe(2);
  });

  it('numbers import rows from 2, one per person, and they parse back', () => {
    const { header, rows } = householdsToImportRows(households.slice(0, 5));
    expect(rows[0]!.row).toBe(2);
    expect(rows).toHaveLength(households.slice(0, 5).reduce((n, h) => n + h.members.length, 0));
    expect(parseHouseholdRows(header, rows).households).toHaveLength(5);
  });

  it('accepts English headers and codes, and ignores extra columns', () => {
    const header = [
      'householdId',
      'villageCode',
      'name',
      'idNumber',
      'relation',
      'health',
      'causeOfPoverty',
      'registeredOn',
      '备注',
    ];
    const parsed = parseHouseholdRows(header, [
      {
        row: 2,
        cells: [
          'H1',
          '411325100201',
          '张三',
          '11010519491231002X',
          'head',
          'healthy',
          'illness',
          '2016/3/1',
          'x',
        ],
      },
    ]);
    expect(parsed.errors).toEqual([]);
    expect(parsed.households[0]!.input).toMatchObject({
      registeredOn: '2016-03-01',
      status: 'enrolled',
      account: null,
    });
  });

  it('reports missing and duplicate columns on row 1 and stops', () => {
    const parsed = parseHouseholdRows(['户编号', '户编号', '姓名'], []);
    expect(parsed.households).toEqual([]);
    expect(parsed.errors.map((e) => e.reason)).toContain('duplicate_column');
    expect(parsed.errors.filter((e) => e.reason === 'missing_column').map((e) => e.column)).toEqual([
      '村代码',
      '身份证号',
      '与户主关系',
      '健康状况',
      '致贫原因',
      '建档日期',
    ]);
  });

  it('reports every bad row with its row number, column and reason, never the value', () => {
    const rows = householdToRows(households[0]!).concat(householdToRows(households[1]!));
    const col = (header: string) => householdHeader.indexOf(header);
    const bad = rows.map((r) => [...r]);
    bad[0]![col('与户主关系')] = '邻居';
    bad[1]![col('健康状况')] = '';
    bad[1]![col('建档日期')] = '2016-02-30';
    bad[2]![col('村代码')] = '411325999999';
    bad[2]![col('开户银行')] = 'RCC';
    bad[2]![col('账户类型')] = '';
    bad[2]![col('一卡通账号')] = '';
    const parsed = parseHouseholdRows(householdHeader, toSource(bad));
    const summary = parsed.errors.map((e) => `${e.row}:${e.column}:${e.reason}`);
    expect(summary).toContain('2:与户主关系:unknown_value');
    expect(summary).toContain('3:健康状况:required');
    expect(summary).toContain('3:建档日期:date');
    expect(summary).toContain('4:一卡通账号:incomplete');
    const secondHouseholdRows = householdToRows(households[0]!).length;
    expect(secondHouseholdRows).toBeGreaterThanOrEqual(1);
    for (const e of parsed.errors) {
      for (const m of households[0]!.members) expect(e.message).not.toContain(m.idNumber);
    }
  });

  it('reports a household field that differs between rows and a second account', () => {
    const h = households.find((x) => x.members.length >= 3 && x.account)!;
    const rows = householdToRows(h).map((r) => [...r]);
    const col = (header: string) => householdHeader.indexOf(header);
    const holderIndex = h.account!.holderMemberNo - 1;
    const other = holderIndex === 0 ? 1 : 0;
    rows[other]![col('开户银行')] = rows[holderIndex]![col('开户银行')]!;
    rows[other]![col('账户类型')] = rows[holderIndex]![col('账户类型')]!;
    rows[other]![col('一卡通账号')] = rows[holderIndex]![col('一卡通账号')]!;
    rows[2]![col('致贫原因')] = '因灾';
    const parsed = parseHouseholdRows(householdHeader, toSource(rows));
    expect(parsed.errors.map((e) => e.reason).sort()).toEqual(['inconsistent', 'second_account']);
    expect(parsed.errors.find((e) => e.reason === 'inconsistent')!.row).toBe(4);
  });

  it('needs the household fields on at least one row', () => {
    const rows = householdToRows(households[0]!).map((r) => [...r]);
    rows[0]![householdHeader.indexOf('致贫原因')] = '';
    const parsed = parseHouseholdRows(householdHeader, toSource(rows));
    expect(parsed.errors).toEqual([
      expect.objectContaining({ row: 2, column: '致贫原因', reason: 'required' }),
    ]);
    expect(parsed.households).toEqual([]);
  });
});
