import { describe, expect, it } from 'vitest';
import {
  adminCodeSchema,
  ancestorsOf,
  countyOf,
  isAdminCode,
  isWithin,
  levelOf,
  parentOf,
  provincePrefixes,
  seedAreas,
  townshipCodeSchema,
  townshipOf,
  villageCodeSchema,
  zaozhuangHighTechZoneCode,
} from '../src';

describe('adminCodeSchema', () => {
  it('accepts central, province, city and county codes', () => {
    for (const code of [
      '000000',
      '410000',
      '410300',
      '411325',
      '110101',
      '500235',
      '820000',
      '419001',
      '650000',
    ]) {
      expect(adminCodeSchema.safeParse(code).success, code).toBe(true);
    }
  });

  it('refuses everything else, saying why', () => {
    const cases: [string, RegExp][] = [
      ['', /6 digits/],
      ['41132', /6 digits/],
      ['4113250', /6 digits/],
      ['41132a', /6 digits/],
      [' 411325', /6 digits/],
      ['４１１３２５', /6 digits/], // full-width digits
      ['001325', /no province 00/],
      ['101325', /no province 10/],
      ['161325', /no province 16/],
      ['241325', /no province/],
      ['381325', /no province/],
      ['471325', /no province/],
      ['551325', /no province/],
      ['661325', /no province/],
      ['721325', /no province/],
      ['831325', /no province/],
      ['910000', /no province/],
      ['410025', /county without a city/],
    ];
    for (const [code, message] of cases) {
      const result = adminCodeSchema.safeParse(code);
      expect(result.success, code).toBe(false);
      expect(result.error?.issues[0]?.message, code).toMatch(message);
    }
  });

  it('knows exactly the 34 province-level prefixes', () => {
    expect(provincePrefixes).toHaveLength(34);
    let accepted = 0;
    for (let prefix = 0; prefix < 100; prefix++) {
      if (isAdminCode(`${String(prefix).padStart(2, '0')}0000`) && prefix !== 0) accepted++;
    }
    expect(accepted).toBe(34);
  });
});

describe('levelOf and parentOf', () => {
  it.each([
    ['000000', 'central', undefined],
    ['410000', 'province', '000000'],
    ['410300', 'city', '410000'],
    ['411325', 'county', '411300'],
    ['410324', 'county', '410300'],
    ['110101', 'county', '110000'], // 北京 东城区: a municipality's district answers to the municipality
    ['110100', 'city', '110000'],
    ['310115', 'county', '310000'], // 上海 浦东新区
    ['120116', 'county', '120000'], // 天津 滨海新区
    ['500235', 'county', '500000'], // 重庆 云阳县 (city digits 02: 县)
    ['419001', 'county', '410000'], // 济源: 省直辖县级行政单位
    ['429004', 'county', '420000'], // 仙桃
    ['370471', 'county', '370400'], // 枣庄高新区 (local code)
  ] as const)('%s is %s with parent %s', (code, level, parent) => {
    expect(levelOf(code)).toBe(level);
    expect(parentOf(code)).toBe(parent);
  });

  it('walks up to central', () => {
    expect(ancestorsOf('411325')).toEqual(['411325', '411300', '410000', '000000']);
    expect(ancestorsOf('110101')).toEqual(['110101', '110000', '000000']);
    expect(ancestorsOf('000000')).toEqual(['000000']);
    expect(isWithin('411325', '410000')).toBe(true);
    expect(isWithin('411325', '411325')).toBe(true);
    expect(isWithin('411325', '410300')).toBe(false);
    expect(isWithin('410000', '411325')).toBe(false);
  });

  it('throws on codes that are not administrative codes', () => {
    expect(() => levelOf('991325')).toThrow(RangeError);
    expect(() => parentOf('12345')).toThrow(RangeError);
  });
});

describe('seed areas', () => {
  it('names the seed areas of DOMAIN.md with codes at the right levels', () => {
    const expected: [string, string, string][] = [
      ['410000', '河南省', 'province'],
      ['410300', '洛阳市', 'city'],
      ['410324', '栾川县', 'county'],
      ['410381', '偃师市', 'county'],
      ['411300', '南阳市', 'city'],
      ['411325', '内乡县', 'county'],
      ['411200', '三门峡市', 'city'],
      ['411221', '渑池县', 'county'],
      ['430000', '湖南省', 'province'],
      ['430600', '岳阳市', 'city'],
      ['430626', '平江县', 'county'],
      ['370000', '山东省', 'province'],
      ['370400', '枣庄市', 'city'],
    ];
    for (const [code, name, level] of expected) {
      expect(seedAreas.get(code)?.name).toBe(name);
      expect(seedAreas.get(code)?.official).toBe(true);
      expect(levelOf(code)).toBe(level);
    }
    for (const area of seedAreas.values()) expect(isAdminCode(area.code)).toBe(true);
  });

  it('gives 枣庄高新区 a documented local code under 枣庄', () => {
    expect(zaozhuangHighTechZoneCode).toBe('370471');
    expect(seedAreas.get('370471')).toEqual({
      code: '370471',
      name: '枣庄高新技术产业开发区',
      official: false,
    });
    expect(parentOf(zaozhuangHighTechZoneCode)).toBe('370400');
  });
});

describe('township and village codes (统计用区划代码)', () => {
  it('accepts 12 digits that extend a county code with township and village numbers', () => {
    for (const code of ['411325100201', '411325001001', '410324999999', '110101001001']) {
      expect(villageCodeSchema.safeParse(code).success, code).toBe(true);
    }
    expect(townshipOf('411325100201')).toBe('411325100');
    expect(countyOf('411325100201')).toBe('411325');
    expect(countyOf('411325100')).toBe('411325');
    expect(townshipCodeSchema.safeParse('411325100').success).toBe(true);
  });

  it('refuses malformed village codes, saying why', () => {
    const cases: [string, RegExp][] = [
      ['41132510020', /12 digits/],
      ['4113251002011', /12 digits/],
      ['41132510020a', /12 digits/],
      ['411300100201', /must start with a county code, but 411300 is a city code/],
      ['410000100201', /province code/],
      ['000000100201', /central code/],
      ['991325100201', /no province/],
      ['411325000201', /township number 000/],
      ['411325100000', /village number 000/],
    ];
    for (const [code, message] of cases) {
      const result = villageCodeSchema.safeParse(code);
      expect(result.success, code).toBe(false);
      expect(result.error?.issues[0]?.message, code).toMatch(message);
    }
    expect(() => townshipOf('411325100000')).toThrow(RangeError);
    expect(() => countyOf('4113251')).toThrow(RangeError);
    expect(townshipCodeSchema.safeParse('411325000').success).toBe(false);
    expect(townshipCodeSchema.safeParse('41132510').success).toBe(false);
  });
});
