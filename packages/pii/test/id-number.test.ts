import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idCheckCharacter, validateIdNumber } from '../src/index';

/** A valid number built from its parts, so every test states which part it breaks. */
function idFrom(region: string, birth: string, sequence: string): string {
  const first17 = region + birth + sequence;
  return first17 + idCheckCharacter(first17);
}

describe('identity numbers (GB 11643-1999)', () => {
  it('accepts the examples printed in the standard and reads their parts', () => {
    const result = validateIdNumber('11010519491231002X');
    expect(result).toEqual({
      ok: true,
      value: '11010519491231002X',
      regionCode: '110105',
      birthDate: '1949-12-31',
      sex: 'female',
    });
  });

  it('computes the ISO 7064 MOD 11-2 check character, including X for 10', () => {
    expect(idCheckCharacter('11010519491231002')).toBe('X');
    expect(idCheckCharacter('41132519800101001')).toBe(idFrom('411325', '19800101', '001').slice(17));
    expect(() => idCheckCharacter('1234')).toThrow();
  });

  it('accepts a lower-case x and normalises it', () => {
    const result = validateIdNumber(' 11010519491231002x ');
    expect(result.ok && result.value).toBe('11010519491231002X');
  });

  it('reads the sex from the parity of the 17th digit', () => {
    const male = validateIdNumber(idFrom('411325', '19800101', '011'));
    expect(male.ok && male.sex).toBe('male');
  });

  it.each([
    ['', 'length'],
    ['41132519800101001', 'length'],
    ['4113251980010100123', 'length'],
    ['411325800101001', 'length'], // a first-generation 15-digit number
    ['41132519800101001 ', 'length'], // trimmed to 17
    ['4113251980O101001X', 'characters'], // letter O for zero
    ['X11325198001010011', 'characters'],
    ['41132519800101001Y', 'characters'],
    ['４１１３２５１９８００１０１００１Ｘ', 'characters'], // full-width digits are not repaired silently
  ])('rejects %j for %s', (input, reason) => {
    const result = validateIdNumber(input);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toBe(reason);
  });

  it('names the position of a bad character', () => {
    const result = validateIdNumber('4113251980O101001X');
    expect(!result.ok && result.message).toContain('character 11');
  });

  it.each([
    ['001325', 'no province'],
    ['991325', 'no province'],
    ['410000', 'province'],
    ['410025', 'prefecture'],
    ['810001', '810000'],
  ])('rejects region %s', (region, words) => {
    const result = validateIdNumber(idFrom(region, '19800101', '001'));
    expect(!result.ok && result.reason).toBe('region');
    expect(!result.ok && result.message).toContain(words);
  });

  it('accepts residence permits of Hong Kong, Macao and Taiwan residents and province-administered counties', () => {
    expect(validateIdNumber(idFrom('810000', '19900101', '002')).ok).toBe(true);
    expect(validateIdNumber(idFrom('830000', '19900101', '002')).ok).toBe(true);
    expect(validateIdNumber(idFrom('419001', '19900101', '002')).ok).toBe(true); // 济源
  });

  it.each([
    ['19800230', 'no calendar date'],
    ['19810229', 'no calendar date'], // 1981 is not a leap year
    ['19001329', 'no calendar date'],
    ['19800100', 'no calendar date'],
    ['18991231', 'before 1900'],
    ['20300101', 'after 2026-11-22'],
  ])('rejects birth date %s', (birth, words) => {
    const result = validateIdNumber(idFrom('411325', birth, '001'), { asOf: '2026-11-22' });
    expect(!result.ok && result.reason).toBe('birth_date');
    expect(!result.ok && result.message).toContain(words);
  });

  it('accepts the boundary birth dates: 1900-01-01, 29 February of a leap year, the as-of day itself', () => {
    expect(validateIdNumber(idFrom('411325', '19000101', '001')).ok).toBe(true);
    expect(validateIdNumber(idFrom('411325', '20000229', '001')).ok).toBe(true);
    expect(validateIdNumber(idFrom('411325', '20261122', '001'), { asOf: '2026-11-22' }).ok).toBe(true);
  });

  it('rejects the standard example born in 1880 on its birth date, not its check digit', () => {
    const result = validateIdNumber('440524188001010014');
    expect(!result.ok && result.reason).toBe('birth_date');
  });

  it('rejects a wrong check digit and says what it should be', () => {
    const valid = idFrom('411325', '19800101', '001');
    const wrong = valid.slice(0, 17) + (valid[17] === '0' ? '1' : '0');
    const result = validateIdNumber(wrong);
    expect(!result.ok && result.reason).toBe('check_digit');
    expect(!result.ok && result.message).toContain(`give ${valid[17]}`);
  });

  it('catches every single-digit typo in the first 17 digits with the check digit (property)', () => {
    const valid = idFrom('411325', '19800101', '001');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 1, max: 9 }), (pos, delta) => {
        const digit = (Number(valid[pos]) + delta) % 10;
        const typo = valid.slice(0, pos) + digit + valid.slice(pos + 1);
        expect(validateIdNumber(typo).ok).toBe(false);
      }),
    );
  });
});
