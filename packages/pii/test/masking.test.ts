import { describe, expect, it } from 'vitest';
import { hiddenMark, maskingPolicyV1 as policy } from '../src/index';

describe('masking policy v1', () => {
  it('is versioned', () => {
    expect(policy.version).toBe(1);
  });

  it.each([
    ['张三丰', '张*丰'],
    ['张三', '张*'],
    ['欧阳小明', '欧**明'],
    ['王', '*'],
    ['', '*'],
    ['𠮷野家', '𠮷*家'], // characters outside the BMP count as one
  ])('masks the name %j as %j', (name, masked) => {
    expect(policy.name(name)).toBe(masked);
  });

  it('shows staff the first and last four characters of an ID number, the public nothing', () => {
    expect(policy.idNumber('41132519800101001X', 'staff')).toBe('4113**********001X');
    expect(policy.idNumber('41132519800101001X', 'public')).toBe(hiddenMark);
    expect(policy.idNumber('4113', 'staff')).toBe(hiddenMark);
  });

  it('masks accounts and phones for staff and hides them from the public', () => {
    expect(policy.accountNumber('6228480402564890018', 'staff')).toBe('****0018');
    expect(policy.accountNumber('6228480402564890018', 'public')).toBe(hiddenMark);
    expect(policy.accountNumber('1234567', 'staff')).toBe(hiddenMark);
    expect(policy.phone('13812345678', 'staff')).toBe('138****5678');
    expect(policy.phone('037765123456', 'staff')).toBe('037*****3456');
    expect(policy.phone('13812345678', 'public')).toBe(hiddenMark);
  });

  it('never shows health conditions', () => {
    expect(policy.health()).toBeNull();
  });
});
