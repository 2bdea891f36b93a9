import { readFileSync } from 'node:fs';
import { checkBooks, startProjector } from '@fundtrace/books';
import { defaultNatsUrl } from '@fundtrace/devstack';
import { ensurePartitionStreams, lastSequence } from '@fundtrace/eventlog';
import { streamName } from '@fundtrace/events';
import { recordReliability, reliabilityIterations, useTestInfra } from '@fundtrace/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerHouseholds } from '../../services/ledger-api/test/fixtures';
import { waitFor } from '../../services/projector/test/support/harness';
import {
  type Answer,
  call,
  dibaoPerPersonFen,
  faultLogDir,
  openFundedPool,
  type ServiceProcess,
  startService,
  testJwtSecret,
  token,
} from './support/faults';

/**
 * Two ledger-api processes write one partition and race each other with conflicting payments:
 * every household is paid twice at once (once through each instance, different payment ids), and
 * the pool holds money for fewer households than there are. The optimistic append (expected last
 * sequence) must let exactly the affordable, non-duplicate payments through: no overdraft, no
 * household paid twice, and every loser told why with a named code. The extension of
 * services/ledger-api/test/writer.integration.test.ts (in-process writers) to real processes.
 */

const infra = useTestInfra();
const partition = '411325';
const secret = testJwtSecret();
const households = 30;
/** The pool pays this many households; the rest must be refused for lack of funds. */
const affordable = 20;
const instances: ServiceProcess[] = [];
let bearer: string;

beforeAll(async () => {
  await ensurePartitionStreams(infra.jsm, { partition, ns: infra.ns, contexts: ['ledger', 'registry'] });
  await registerHouseholds(
    infra.js,
    infra.jsm,
    infra.ns,
    partition,
    Array.from({ length: households }, (_, i) => `H${i}`),
  );
  const env = {
    NATS_URL: process.env.NATS_URL ?? defaultNatsUrl,
    FUNDTRACE_NAMESPACE: infra.ns,
    JWT_SECRET: secret,
    LEDGER_PARTITIONS: partition,
    // info: the writer logs each append race it lost, which shows the race really happened.
    LOG_LEVEL: 'info',
  };
  const logDir = faultLogDir(infra.ns);
  for (const suffix of ['-a', '-b'])
    instances.push(await startService('ledger-api', env, { logDir, suffix }));
  bearer = await token(secret, 'finance', [partition]);
}, 600_000);

afterAll(async () => {
  for (const instance of instances) await instance.stop();
});

/** A client: retries a 503 (partition busy) with the same command id, as the API tells it to. */
async function send(
  instance: ServiceProcess,
  body: Record<string, unknown>,
): Promise<Answer & { retries: number }> {
  for (let retries = 0; ; retries++) {
    const answer = await call('POST', `${instance.url}/v1/partitions/${partition}/payments`, bearer, body);
    if (answer.status !== 503) return { ...answer, retries };
    await new Promise((resolve) => setTimeout(resolve, 100 * Number(answer.headers.get('retry-after') ?? 1)));
  }
}

describe('two ledger-api instances on one partition', () => {
  it('never overdraw or pay a household twice under a race of conflicting payments, and tell every loser why', async () => {
    const [a, b] = instances as [ServiceProcess, ServiceProcess];
    const amountFen = dibaoPerPersonFen;
    const rounds = reliabilityIterations(1, 5);
    const outcomes: Record<string, number> = {};
    let retries = 0;
    let accepted = 0;
    for (let round = 0; round < rounds; round++) {
      const prefix = `race${round}`;
      // Each round its own programme period: the same households may be paid once per period.
      const { period, noticeId } = await openFundedPool(
        a.url,
        bearer,
        partition,
        amountFen * BigInt(affordable),
        prefix,
        {
          accountId: `POOL${round}`,
          monthsAgo: 2 + round,
        },
      );
      const payment = (h: number, via: string) => ({
        commandId: `${prefix}-${via}-${h}`,
        paymentId: `${prefix}-${via}-${h}`,
        householdId: `H${h}`,
        programmeCode: 'dibao_class1',
        period,
        quantity: 1,
        amountFen: amountFen.toString(),
        accountId: `POOL${round}`,
        noticeId,
        acceptanceRef: null,
      });
      // Both instances warm (routes compiled, state caught up) before the burst, so they overlap.
      for (const instance of [a, b]) {
        const dry = await call(
          'POST',
          `${instance.url}/v1/partitions/${partition}/payments?dryRun=true`,
          bearer,
          payment(0, 'dry'),
        );
        expect(dry.body.dryRun, JSON.stringify(dry.body)).toBe(true);
      }
      // A pays from the first household up, B from the last down: they meet in the middle, where
      // both append for the last money at once, and each household is then paid a second time.
      const answers = await Promise.all(
        Array.from({ length: households }, (_, h) => [
          send(a, payment(h, 'a')),
          send(b, payment(households - 1 - h, 'b')),
        ]).flat(),
      );
      const won = answers.filter((x) => x.status === 201);
      const lost = answers.filter((x) => x.status !== 201);
      retries += answers.reduce((n, x) => n + x.retries, 0);
      accepted += won.length;
      expect(won).toHaveLength(affordable);
      for (const loser of lost) {
        expect(loser.status, JSON.stringify(loser.body)).toBe(422);
        expect(['insufficient_funds', 'duplicate_payment']).toContain(loser.body.error.code);
        expect(loser.body.error.message.length).toBeGreaterThan(20);
        outcomes[loser.body.error.code] = (outcomes[loser.body.error.code] ?? 0) + 1;
      }
      // Each household at most once: the two racing commands for one household never both won.
      const paid = won.map((x) => x.body.commandId.split('-').at(-1));
      expect(new Set(paid).size).toBe(affordable);
    }
    outcomes.accepted = accepted;
    // The instances really raced: appends refused for a stale expected sequence, decided again.
    const racesLost = instances
      .map((i) => readFileSync(i.logFile, 'utf8').split('append race lost').length - 1)
      .reduce((x, y) => x + y, 0);
    expect(racesLost).toBeGreaterThan(0);

    // Independent check: the log, projected by the real projection code, balances to the fen.
    const ledger = streamName('ledger', partition, infra.ns);
    const registry = streamName('registry', partition, infra.ns);
    const tails = new Map([
      [ledger, await lastSequence(infra.jsm, ledger)],
      [registry, await lastSequence(infra.jsm, registry)],
    ]);
    const projector = startProjector({ nc: infra.nc, db: infra.db, schema: 'public', ns: infra.ns });
    try {
      await projector.discover();
      await waitFor(projector, infra.db, 'public', tails);
    } finally {
      await projector.stop();
    }
    expect((await checkBooks(infra.db)).filter((r) => r.violations > 0)).toEqual([]);
    const { rows } = await sql<{ account_id: string; balance_fen: string }>`
      select account_id, balance_fen::text from balances where partition = ${partition} and account_id like 'POOL%'`.execute(
      infra.db,
    );
    expect(rows).toHaveLength(rounds);
    expect(rows.every((r) => r.balance_fen === '0')).toBe(true);
    const { rows: paid } = await sql<{ n: string; households: string; period_households: string }>`
      select count(*)::text as n, count(distinct household_id)::text as households,
             count(distinct (household_id, period))::text as period_households
      from payments where partition = ${partition}`.execute(infra.db);
    expect(paid[0]).toEqual({
      n: String(affordable * rounds),
      households: String(Math.min(households, affordable * rounds)),
      period_households: String(affordable * rounds),
    });

    recordReliability({
      suite: 'fault',
      name: 'two ledger-api instances racing',
      injected: `two ledger-api processes on one partition; each round ${households} households paid twice at once (once through each instance) from a pool holding ${affordable} payments`,
      iterations: rounds,
      checked:
        'exactly the affordable payments accepted, no household paid twice in a period, every loser 422 with insufficient_funds or duplicate_payment and a message; projected books: checkBooks clean, every pool at 0, payments count and households exact',
      result: 'passed',
      details: { ...outcomes, appendRacesLost: racesLost, clientRetriesOf503: retries },
    });
  }, 600_000);
});
