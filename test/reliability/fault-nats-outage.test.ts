import { randomBytes } from 'node:crypto';
import { checkBooks } from '@fundtrace/books';
import { createDb, type Database } from '@fundtrace/db';
import { connectNats, lastSequence } from '@fundtrace/eventlog';
import { streamName } from '@fundtrace/events';
import { defaultOriginPrefix, parseSigningKey } from '@fundtrace/merkle';
import { generateHouseholds } from '@fundtrace/pii';
import {
  type PrivateNats,
  recordReliability,
  reliabilityIterations,
  startPrivateNats,
  testNamespace,
  useTestInfra,
} from '@fundtrace/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  beijingDate,
  call,
  faultLogDir,
  openFundedPool,
  type ServiceProcess,
  startService,
  testJwtSecret,
  token,
  until,
} from './support/faults';

/**
 * NATS goes away (SIGKILL of a private nats-server) under the running services. Every command of
 * the two writers, ledger-api and registry-api, must fail fast with 503, a Retry-After header and a
 * code saying why; nothing may be half-written (the streams hold exactly what was acknowledged); the
 * read side (audit-api and the notice board from PostgreSQL, the writers' own queries, audit-api's
 * dry run of the rules) keeps answering, while a real rule run, which raises findings, is refused.
 * Once NATS is back, the same commands with the same ids succeed and the books hold exactly the
 * expected money.
 */

const infra = useTestInfra({ nats: false });
const partition = '411325';
const secret = testJwtSecret();
let nats: PrivateNats;
const services: ServiceProcess[] = [];
let ledger: ServiceProcess;
let registry: ServiceProcess;
let audit: ServiceProcess;
let board: ServiceProcess;
const ns = testNamespace();

beforeAll(async () => {
  nats = await startPrivateNats({ jetstream: true });
  const logDir = faultLogDir(ns);
  const signing = randomBytes(32).toString('base64');
  const base = {
    NATS_URL: nats.url,
    DATABASE_URL: infra.databaseUrl,
    FUNDTRACE_NAMESPACE: ns,
    JWT_SECRET: secret,
  };
  const start = async (name: Parameters<typeof startService>[0], env: Record<string, string> = {}) => {
    const service = await startService(name, { ...base, ...env }, { logDir });
    services.push(service);
    return service;
  };
  registry = await start('registry-api', {
    REGISTRY_PARTITIONS: partition,
    PII_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    PII_ACTIVE_KEY: 'k1',
    PII_HMAC_KEY: randomBytes(32).toString('base64'),
  });
  ledger = await start('ledger-api', { LEDGER_PARTITIONS: partition });
  await start('projector');
  const verifier = parseSigningKey(defaultOriginPrefix, signing).verifierKey;
  audit = await start('audit-api', {
    AUDIT_PARTITIONS: partition,
    LOG_VERIFIER_KEY: verifier,
    RULES_INTERVAL_MS: '3600000',
  });
  board = await start('notice-board', { LEDGER_API_URL: ledger.url, LOG_VERIFIER_KEY: verifier });
}, 600_000);

afterAll(async () => {
  for (const service of services.reverse()) await service.stop().catch(() => undefined);
  await nats?.stop();
});

/** Last sequence of each of the partition's streams on the private server. */
async function sequences(): Promise<{ ledger: number; registry: number; audit: number }> {
  const nc = await connectNats(nats.url, { name: 'outage-check' });
  try {
    const jsm = await jetstreamManager(nc);
    const tail = (context: 'ledger' | 'registry' | 'audit') =>
      lastSequence(jsm, streamName(context, partition, ns)).catch(() => 0);
    return { ledger: await tail('ledger'), registry: await tail('registry'), audit: await tail('audit') };
  } finally {
    await nc.close();
  }
}

async function projectedTo(seqs: Record<string, number>): Promise<boolean> {
  const { rows } = await sql<{ stream: string; last_seq: string }>`
    select stream, last_seq::text from books.projection_checkpoints`.execute(infra.db);
  const at = new Map(rows.map((r) => [r.stream, Number(r.last_seq)]));
  return Object.entries(seqs).every(
    ([context, seq]) => (at.get(streamName(context as 'ledger', partition, ns)) ?? 0) >= seq,
  );
}

describe('NATS unavailable', () => {
  it('commands fail fast with 503 and Retry-After, nothing is half-written, reads keep working, and the same commands succeed afterwards', async () => {
    const finance = await token(secret, 'finance', [partition]);
    const registrar = await token(secret, 'registry', [partition]);
    const inspector = await token(secret, 'inspector', [partition]);
    const fundedFen = 10_000_000n;
    await openFundedPool(ledger.url, finance, partition, fundedFen, 'out');
    const [household, second] = generateHouseholds({
      county: partition,
      villages: 2,
      count: 2,
      seed: 'outage',
    });
    /** The rules over the county as of a year from now (fixed for the whole test). */
    const rulesRun = { partition, asOf: beijingDate(365), correlationId: 'outage-rules' };
    const registered = await call(
      'POST',
      `${registry.url}/v1/partitions/${partition}/households`,
      registrar,
      {
        commandId: 'reg-1',
        household,
      },
    );
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    const before = await sequences();
    const householdEvents = 2;
    expect(before.registry).toBe(householdEvents);
    await until('the projector to catch up', () => projectedTo(before));

    const reads: Record<string, { url: string; body?: unknown }> = {
      'audit-api progress': { url: `${audit.url}/v1/partitions/${partition}/progress` },
      'ledger-api account': { url: `${ledger.url}/v1/partitions/${partition}/accounts/POOL` },
      'registry-api household': {
        url: `${registry.url}/v1/partitions/${partition}/households/${household!.householdId}`,
      },
      // A read sent as POST (the ID number stays out of URLs): it must not be refused as a command.
      'registry-api search by ID number': {
        url: `${registry.url}/v1/partitions/${partition}/households/search-by-id-number`,
        body: { idNumber: household!.members[0]!.idNumber },
      },
      'notice-board county': { url: `${board.url}/api/r/${partition}` },
      // A dry run of the rules appends nothing: it answers from the books and audit-api's memory.
      'audit-api rules dry run': { url: `${audit.url}/v1/rules/run`, body: { ...rulesRun, dryRun: true } },
    };
    const read = (name: string) => {
      const { url, body } = reads[name]!;
      const as = name.startsWith('audit') ? inspector : name.startsWith('notice') ? null : finance;
      return call(body === undefined ? 'GET' : 'POST', url, as, body, 60_000);
    };
    const baseline: Record<string, number> = {};
    for (const name of Object.keys(reads)) {
      baseline[name] = (await read(name)).status;
      expect(baseline[name], name).toBe(200);
    }
    const dryRun = async () => {
      const answer = await read('audit-api rules dry run');
      expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(200);
      return answer.body;
    };
    const dryRunBaseline = await dryRun();
    // A year on, the pool's money is idle past 180 days: the run has a finding to raise (滞留).
    expect(dryRunBaseline.findings.map((f: { ruleId: string }) => f.ruleId)).toContain('idle_funds');
    expect(dryRunBaseline.raised).toEqual([]);
    /** A real run during an outage: refused as a command, nothing raised. */
    const expectRunRefused = async (outage: string) => {
      const answer = await call('POST', `${audit.url}/v1/rules/run`, inspector, rulesRun, 60_000);
      expect(answer.status, `rules run (${outage}): ${JSON.stringify(answer.body)}`).toBe(503);
      expect(answer.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
      expect(answer.body.error.code).toBe('nats_unavailable');
      answers.push({
        outage,
        command: 'audit-api rules run',
        status: answer.status,
        code: answer.body.error.code,
      });
    };

    const commands = [
      {
        name: 'ledger-api receipt',
        url: `${ledger.url}/v1/partitions/${partition}/receipts`,
        bearer: finance,
        body: {
          commandId: 'out-receipt-2',
          receiptId: 'out-R2',
          accountId: 'POOL',
          amountFen: '5000000',
          origin: {
            kind: 'external',
            payer: '县财政',
            documentNumber: '内财〔2026〕2号',
            fundSource: 'county',
            purpose: 'social_assistance',
            fiscalYear: 2026,
          },
        },
      },
      {
        name: 'registry-api household',
        url: `${registry.url}/v1/partitions/${partition}/households`,
        bearer: registrar,
        body: { commandId: 'reg-2', household: second },
      },
    ];

    const outages = reliabilityIterations(1, 3);
    const answers: Array<Record<string, unknown>> = [];
    /** A command during an outage: 503 nats_unavailable with Retry-After and a message to act on. */
    const expectRefused = async (command: (typeof commands)[number], outage: string) => {
      const startedMs = Date.now();
      const answer = await call('POST', command.url, command.bearer, command.body, 60_000);
      const ms = Date.now() - startedMs;
      expect(answer.status, `${command.name} (${outage}): ${JSON.stringify(answer.body)}`).toBe(503);
      expect(answer.headers.get('retry-after'), command.name).toMatch(/^[1-9][0-9]*$/);
      expect(answer.body.error.code, command.name).toBe('nats_unavailable');
      expect(answer.body.error.message).toContain('Retry the same request');
      answers.push({
        outage,
        command: command.name,
        status: answer.status,
        code: answer.body.error.code,
        retryAfter: answer.headers.get('retry-after'),
        ms,
      });
    };
    for (let outage = 0; outage < outages; outage++) {
      await nats.kill('SIGKILL');
      for (const command of commands) await expectRefused(command, `killed ${outage + 1}`);
      await expectRunRefused(`killed ${outage + 1}`);
      for (const name of Object.keys(reads)) {
        const answer = await read(name);
        expect(answer.status, `${name} during the outage: ${JSON.stringify(answer.body).slice(0, 300)}`).toBe(
          baseline[name],
        );
      }
      expect(await dryRun(), 'the dry run during the outage').toEqual(dryRunBaseline);
      await nats.restart();
      // Nothing half-written: the refused commands left no event behind, also after reconnecting.
      await until(
        'the writers to reconnect',
        async () => (await call('GET', `${ledger.url}/ready`, null)).status === 200,
      );
      await until(
        'registry-api to reconnect',
        async () => (await call('GET', `${registry.url}/ready`, null)).status === 200,
      );
      expect(await sequences()).toEqual(before);
    }

    // NATS back, the books as before: the real run, refused during the outages, raises exactly what
    // the dry runs listed.
    const run = await call('POST', `${audit.url}/v1/rules/run`, inspector, rulesRun);
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.raised.map((r: { findingId: string }) => r.findingId).sort()).toEqual(
      dryRunBaseline.findings.map((f: { findingId: string }) => f.findingId).sort(),
    );
    const raised = dryRunBaseline.findings.length;
    expect(await sequences()).toEqual({ ...before, audit: before.audit + raised });

    // A frozen server (SIGSTOP): the connection looks alive, requests time out instead.
    await nats.nodes[0]!.pause();
    try {
      for (const command of commands) await expectRefused(command, 'frozen');
      // A dry run never waits on NATS, so a frozen server does not hold it up either.
      // It lists the same findings, now all known: the real run above raised them.
      const frozenDryRun = await dryRun();
      expect(frozenDryRun.findings, 'the dry run while NATS is frozen').toEqual(dryRunBaseline.findings);
      expect([...frozenDryRun.known].sort()).toEqual(
        run.body.raised.map((r: { findingId: string }) => r.findingId).sort(),
      );
    } finally {
      nats.nodes[0]!.resume();
    }
    await until(
      'the writers to answer again',
      async () => (await call('GET', `${ledger.url}/ready`, null)).status === 200,
    );
    // A frozen server may still store what reached it before the freeze: the whole command or
    // nothing, never a part (a household is HouseholdRegistered + AccountBound). The 503 said so:
    // the retry below is then answered with the original result.
    const frozen = await sequences();
    expect([0, 1]).toContain(frozen.ledger - before.ledger);
    expect([0, householdEvents]).toContain(frozen.registry - before.registry);

    // Back: the same commands, same ids, are booked exactly once.
    for (const command of commands) {
      const answer = await call('POST', command.url, command.bearer, command.body);
      expect([200, 201], `${command.name}: ${JSON.stringify(answer.body)}`).toContain(answer.status);
      expect(answer.body.duplicate).toBe(answer.status === 200);
    }
    const after = await sequences();
    expect(after).toEqual({
      ledger: before.ledger + 1,
      registry: before.registry + householdEvents,
      audit: before.audit + raised,
    });
    await until('the projector to catch up', () => projectedTo(after));

    // Independent check: the books hold exactly the money received, and no invariant is broken.
    const books = createDb<Database>(infra.databaseUrl, { schema: 'books', max: 2 });
    const violations = (await checkBooks(books).finally(() => books.destroy())).filter(
      (r) => r.violations > 0,
    );
    expect(violations).toEqual([]);
    const { rows } = await sql<{ balance: string }>`
      select balance_fen::text as balance from books.balances where partition = ${partition} and account_id = 'POOL'`.execute(
      infra.db,
    );
    expect(rows[0]?.balance).toBe((fundedFen + 5_000_000n).toString());
    const { rows: households } = await sql<{
      n: string;
    }>`select count(*)::text as n from books.households`.execute(infra.db);
    expect(households[0]?.n).toBe('2');

    recordReliability({
      suite: 'fault',
      name: 'NATS unavailable',
      injected:
        'SIGKILL of the nats-server under ledger-api, registry-api, projector, audit-api and notice-board, then SIGSTOP of it (a frozen server); a ledger and a registry command sent during each outage, and a rule run and its dry run during each killed one',
      iterations: outages,
      checked:
        'each command answered 503 nats_unavailable with Retry-After; no stream grew during or after a killed server’s outage, a frozen one stored whole commands or nothing; audit-api, notice-board and the writers’ queries answered as before; the rules’ dry run listed the same findings during both kinds of outage while the real run was refused 503 and raised exactly those once NATS was back; after restart the same command ids booked once; checkBooks clean, pool balance and household count exact',
      result: 'passed',
      details: {
        answers,
        storedDuringFreeze: {
          ledger: frozen.ledger - before.ledger,
          registry: frozen.registry - before.registry,
        },
      },
    });
  }, 600_000);
});
