import { describe, expect, it } from 'vitest';
import { luhnCheckDigit, luhnValid, validateBankAccount, validatePhone } from '../src/index';

describe('bank accounts', () => {
  // A UnionPay test card number with a valid Luhn digit.
  const card = '6228480402564890018';

  it('accepts a card with a valid Luhn digit, spaces and dashes dropped', () => {
    expect(luhnValid(card)).toBe(true);
    expect(validateBankAccount('ABC', 'card', '6228 4804-0256 4890 018')).toEqual({
      ok: true,
      bank: 'ABC',
      medium: 'card',
      number: card,
    });
  });

  it('rejects a card whose Luhn digit does not match', () => {
    const typo = card.slice(0, 18) + ((Number(card[18]) + 1) % 10);
    const result = validateBankAccount('ABC', 'card', typo);
    expect(!result.ok && result.reason).toBe('luhn');
  });

  it('computes the Luhn digit that completes a payload', () => {
    expect(luhnCheckDigit(card.slice(0, 18))).toBe(card[18]);
  });

  it.each([
    ['ABC', 'card', '622848040256489', 'length'], // 15 digits
    ['ABC', 'card', '62284804025648900180', 'length'], // 20 digits
    ['ABC', 'card', '6228a80402564890018', 'characters'],
    ['ABC', 'card', '', 'characters'],
    ['XYZ', 'card', card, 'unknown_bank'],
    ['ABC', 'wallet', card, 'unknown_medium'],
    ['RCC', 'passbook', '123456789', 'length'], // 9 digits
    ['RCC', 'passbook', '1'.repeat(26), 'length'],
  ])('rejects bank %s %s %s for %s', (bank, medium, number, reason) => {
    const result = validateBankAccount(bank, medium, number);
    expect(!result.ok && result.reason).toBe(reason);
  });

  it('accepts the length boundaries and does not apply Luhn to passbooks', () => {
    const card16 = '622848040256489' + luhnCheckDigit('622848040256489');
    expect(validateBankAccount('PSBC', 'card', card16).ok).toBe(true);
    expect(validateBankAccount('RCC', 'passbook', '1234567890').ok).toBe(true);
    expect(validateBankAccount('RCC', 'passbook', '1'.repeat(25)).ok).toBe(true);
    expect(luhnValid('1234567890')).toBe(false);
  });

  it('does not accept a prototype property as a bank code', () => {
    expect(validateBankAccount('toString', 'card', card).ok).toBe(false);
  });
});

describe('phones', () => {
  it.each([
    ['13812345678', 'mobile', '13812345678'],
    ['+86 138-1234-5678', 'mobile', '13812345678'],
    ['0377-65123456', 'landline', '037765123456'],
    ['010-6512345', 'landline', '0106512345'],
  ])('accepts %s', (input, kind, number) => {
    expect(validatePhone(input)).toEqual({ ok: true, kind, number });
  });

  it.each([
    ['1381234567', 'length'],
    ['138123456789', 'length'],
    ['12812345678', 'prefix'],
    ['23812345678', 'prefix'],
    ['138-1234-567a', 'characters'],
    ['037712345', 'length'],
  ])('rejects %s for %s', (input, reason) => {
    const result = validatePhone(input);
    expect(!result.ok && result.reason).toBe(reason);
  });
});
