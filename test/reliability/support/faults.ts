/**
 * Helpers of the fault suite (test/reliability/fault-*.test.ts): services as real child processes
 * that can be SIGKILLed and restarted on the same port, HTTP commands with a bearer token, and the
 * setup a ledger test needs (a funded pool, a closed notice period, registered households).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Role, signToken } from '@fundtrace/service-kit';

const root = join(import.meta.dirname, '..', '..', '..');

/** One HTTP request of a test; a roster of 50,000 rows takes seconds, more on a loaded machine. */
const requestTimeoutMs = 300_000;

// Services as real child processes: testkit's startServiceProcess (shared with the CLI's import
// test and the notice board's browser test and benchmark); and testkit's bounded wait `until`.
export {
  type ServiceName,
  type ServiceProcess,
  serviceStartTimeoutMs,
  startServiceProcess as startService,
  until,
} from '@fundtrace/testkit';

/** Where the suite's service logs go (git-ignored). */
export function faultLogDir(ns: string): string {
  const dir = join(root, 'test-output', 'reliability', ns);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Secrets for one test's services, generated fresh (never the development ones). */
export function testJwtSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function token(secret: string, role: Role, partitions: readonly string[]): Promise<string> {
  return signToken(
    secret,
    { sub: `fault-${role}`, role, org: 'fault suite', partitions: [...partitions] },
    3600,
  );
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the service answered
  readonly body: any;
}

/** A JSON request; rejects only when no answer came (connection refused or reset, timeout). */
export async function call(
  method: 'GET' | 'POST',
  url: string,
  bearer: string | null,
  body?: unknown,
  timeoutMs = requestTimeoutMs,
): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed };
}

/** A Beijing calendar date `days` from now (the writers judge notice periods on their own clock). */
export function beijingDate(days: number): string {
  return new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);
}

/** 低保 class 1 pays 190 元 per person-month (services/ledger-api/reference/programmes.v1.json). */
export const dibaoPerPersonFen = 19_000n;

/**
 * Opens a pool, funds it from outside and publishes a 低保 notice for the programme period
 * `monthsAgo` months back (default 1) whose notice period ended ten days ago, so payments of that
 * period can be instructed at once. Returns the period and the notice.
 */
export async function openFundedPool(
  ledgerUrl: string,
  bearer: string,
  partition: string,
  amountFen: bigint,
  prefix: string,
  options: { accountId?: string; monthsAgo?: number } = {},
): Promise<{ period: string; noticeId: string }> {
  const accountId = options.accountId ?? 'POOL';
  const today = beijingDate(0);
  const month = new Date(
    Date.UTC(Number(today.slice(0, 4)), Number(today.slice(5, 7)) - 1 - (options.monthsAgo ?? 1), 1),
  );
  const period = month.toISOString().slice(0, 7);
  const noticeId = `${prefix}-N`;
  const commands: Array<[string, Record<string, unknown>]> = [
    ['accounts', { accountId, kind: 'pool', name: '专户' }],
    [
      'receipts',
      {
        receiptId: `${prefix}-R`,
        accountId,
        amountFen: amountFen.toString(),
        origin: {
          kind: 'external',
          payer: '县财政',
          documentNumber: '内财〔2026〕1号',
          fundSource: 'county',
          purpose: 'social_assistance',
          fiscalYear: Number(period.slice(0, 4)),
        },
      },
    ],
    [
      'notices',
      {
        noticeId,
        kind: 'programme',
        title: '低保公示',
        stage: 'approval',
        programmeCode: 'dibao_class1',
        period,
        subjectId: null,
        startsOn: beijingDate(-20),
        endsOn: beijingDate(-10),
      },
    ],
  ];
  for (const [path, body] of commands) {
    const answer = await call('POST', `${ledgerUrl}/v1/partitions/${partition}/${path}`, bearer, {
      commandId: `${prefix}-${path}`,
      ...body,
    });
    if (answer.status !== 201 && answer.status !== 200)
      throw new Error(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return { period, noticeId };
}
