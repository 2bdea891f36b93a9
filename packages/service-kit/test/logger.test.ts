import { describe, expect, it } from 'vitest';
import { createLogger, isSensitiveKey, scrubText, signToken } from '../src/index';
import { logCapture, sampleApp, secret } from './sample-app';

// Synthetic but well-formed personal data (the ID has a valid date part; numbers are made up).
const idNumber = '411325198803150012';
const idNumberX = '41132519880315001X';
const account = '6228480402564890018';
const groupedAccount = '6222 0210 0112 3456 789';
const mobile = '13812345678';

describe('logger redaction', () => {
  it('keeps ID numbers, accounts, phones, tokens, secrets, passwords and health out of the output', () => {
    const logs = logCapture();
    const log = createLogger({ name: 'redaction', destination: logs.stream });
    log.info(
      {
        householdId: 'h-42',
        amountFen: '250000',
        idNumber,
        member: { id_number: idNumberX, name: '张*', healthCondition: 'diabetes', phone: mobile },
        bankAccount: account,
        deep: { a: { b: { c: { cardNumber: account, note: `bound card ${groupedAccount}` } } } },
        accessToken: 'eyJhbGciOiJIUzI1NiJ9.payload.sig',
        JWT_SECRET: 'super-secret-value',
        password: 'hunter2',
        req: { headers: { authorization: 'Bearer abc.def.ghi', cookie: 'session=s3cr3t' } },
        remark: `call +86 138-1234-5678 or ${mobile}, ID ${idNumber}`,
      },
      `paid household with ID ${idNumberX} to account ${account}`,
    );
    log.error(new Error(`bank refused account ${account} for ID ${idNumber}`), 'payment returned');
    log.warn({ err: new Error(`phone ${mobile} unreachable`) }, 'notification failed');

    const text = logs.text();
    for (const secretValue of [
      idNumber,
      idNumberX,
      account,
      groupedAccount,
      mobile,
      '138-1234-5678',
      'diabetes',
      'eyJhbGciOiJIUzI1NiJ9',
      'super-secret-value',
      'hunter2',
      'abc.def.ghi',
      's3cr3t',
    ]) {
      expect(text, secretValue).not.toContain(secretValue);
    }
    // What an operator needs stays readable.
    const [first, second, third] = logs.lines();
    expect(first).toMatchObject({ householdId: 'h-42', amountFen: '250000', member: { name: '张*' } });
    expect(first?.msg).toBe('paid household with ID [REDACTED:id_number] to account [REDACTED:account]');
    expect(second?.err).toMatchObject({
      type: 'Error',
      message: expect.stringContaining('[REDACTED:account]'),
    });
    expect(third?.err).toMatchObject({ message: 'phone [REDACTED:phone] unreachable' });
  });

  it('redacts in request logs of a real app: the URL query and the Authorization header', async () => {
    const { app, logs } = await sampleApp();
    try {
      const token = await signToken(secret, { sub: 'u', role: 'finance', org: 'o', partitions: ['*'] }, 60);
      await app.inject({
        method: 'GET',
        url: `/public?idNumber=${idNumber}&phone=${mobile}`,
        headers: { authorization: `Bearer ${token}` },
      });
      const text = logs.text();
      expect(text).toContain('incoming request');
      expect(text).not.toContain(idNumber);
      expect(text).not.toContain(mobile);
      expect(text).not.toContain(token);
    } finally {
      await app.close();
    }
  });
});

describe('scrubText', () => {
  it.each([
    [`ID ${idNumber}.`, 'ID [REDACTED:id_number].'],
    [`id ${idNumberX.toLowerCase()}`, 'id [REDACTED:id_number]'],
    [`card ${account}`, 'card [REDACTED:account]'],
    ['card 622848040256', 'card [REDACTED:account]'], // 12 digits: the shortest account
    ['amount 12345678901 fen', 'amount 12345678901 fen'], // 11 digits but not a mobile prefix
    [`tel ${mobile}`, 'tel [REDACTED:phone]'],
    ['tel +86 138 1234 5678', 'tel [REDACTED:phone]'],
  ])('%j → %j', (input, output) => {
    expect(scrubText(input)).toBe(output);
  });

  it('leaves ordinary numbers, codes and ids alone', () => {
    const text =
      'partition 411325 seq 123456 amount 250000 fen doc 财农〔2018〕45号 id 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    expect(scrubText(text)).toBe(text);
  });

  it('treats a 20-digit run as not an account (longer than any card)', () => {
    expect(scrubText('x 12345678901234567890 y')).toBe('x 12345678901234567890 y');
  });
});

describe('isSensitiveKey', () => {
  it.each([
    'idNumber',
    'ID_NUMBER',
    'residentId',
    'bankAccount',
    'accountNo',
    'phone',
    'householdPhone',
    'mobile',
    'refreshToken',
    'clientSecret',
    'password',
    'healthCondition',
    'authorization',
    'tel',
    'pin',
  ])('%s is sensitive', (key) => expect(isSensitiveKey(key)).toBe(true));
  it.each(['householdId', 'accountId', 'amountFen', 'partition', 'hotel', 'pinyin', 'name', 'stream'])(
    '%s is not',
    (key) => expect(isSensitiveKey(key)).toBe(false),
  );
});
