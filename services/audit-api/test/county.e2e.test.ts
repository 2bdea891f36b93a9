import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Projector, startProjector } from '@fundtrace/books';
import { signerFromSeed, verifyBundle } from '@fundtrace/merkle';
import { signToken } from '@fundtrace/service-kit';
import {
  connectTestNats,
  createTestDatabase,
  deleteNamespaceStreams,
  factsOf,
  freePorts,
  notChinese,
  type TestDatabase,
  testNamespace,
} from '@fundtrace/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditApp, buildApp } from '../src/app';
import { loadAuditConfig } from '../src/config';
import { asOf, city, county, docCity, importCounty, otherCounty, planted, village } from './support/county';
import { keepLog, LegacyImport } from './support/legacy-import';

/** How long the test waits for the projector (a bound, not a timing assertion). */
const catchUpTimeoutMs = 60_000;
const secret = 'audit-api-test-secret-of-at-least-32-bytes!!';
const signer = signerFromSeed('fundtrace.test', new Uint8Array(32).fill(7));

let nc: NatsConnection;
let ns: string;
let database: TestDatabase;
let projector: Projector;
let audit: AuditApp;
let token: string;
let outsider: string;
let gazetteerDir: string | undefined;

async function project(tails: ReadonlyMap<string, number>): Promise<void> {
  await projector.discover();
  const deadline = Date.now() + catchUpTimeoutMs;
  let failure: unknown;
  projector.done.catch((error: unknown) => {
    failure = error;
  });
  for (;;) {
    if (failure !== undefined) throw failure;
    const { rows } = await sql<{ stream: string; last_seq: bigint }>`
      select stream, last_seq from projection_checkpoints where consumer = 'projector-public'`.execute(
      database.db,
    );
    const at = new Map(rows.map((r) => [r.stream, Number(r.last_seq)]));
    if ([...tails].every(([stream, seq]) => (at.get(stream) ?? 0) >= seq)) return;
    if (Date.now() > deadline) throw new Error(`projector behind: ${JSON.stringify([...at])}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const logicalStreams = [
  `LEDGER_${city}`,
  `LEDGER_${county}`,
  `REGISTRY_${county}`,
  `REGISTRY_${otherCounty}`,
];

beforeAll(async () => {
  nc = await connectTestNats('audit-api-test');
  ns = testNamespace();
  database = await createTestDatabase();
  const log = new LegacyImport(nc, ns);
  importCounty(log);
  const tails = await log.flush();
  projector = startProjector({ nc, db: database.db, schema: 'public', ns, batchSize: 200 });
  await project(tails);
  await keepLog(nc, database.db, ns, logicalStreams, signer);
  // The county's gazetteer names its township and village (the books carry codes only).
  gazetteerDir = mkdtempSync(join(tmpdir(), 'audit-gazetteer-'));
  const gazetteerFile = join(gazetteerDir, 'gazetteer.json');
  writeFileSync(gazetteerFile, JSON.stringify({ [village.slice(0, 9)]: '城关镇', [village]: '王庄村' }));
  const config = loadAuditConfig({
    AUDIT_GAZETTEER_FILE: gazetteerFile,
    DATABASE_URL: database.url,
    NATS_URL: process.env.NATS_URL,
    FUNDTRACE_NAMESPACE: ns,
    JWT_SECRET: secret,
    LOG_LEVEL: 'warn',
    LOG_VERIFIER_KEY: signer.verifierKey,
    AUDIT_PARTITIONS: `${county},${city}`,
    RULES_INTERVAL_MS: '0',
  });
  audit = await buildApp({ config, now: () => Date.parse('2020-01-02T04:00:00Z') });
  token = await signToken(
    secret,
    { sub: 'inspector-1', role: 'inspector', org: '内乡县纪委监委', partitions: [county, city] },
    3600,
  );
  outsider = await signToken(
    secret,
    { sub: 'inspector-2', role: 'inspector', org: '渑池县纪委监委', partitions: [otherCounty] },
    3600,
  );
}, 120_000);

afterAll(async () => {
  await audit?.app.close();
  await projector?.stop();
  if (nc) {
    await deleteNamespaceStreams(await jetstreamManager(nc), ns).catch(() => undefined);
    await nc.close();
  }
  await database?.drop();
  if (gazetteerDir !== undefined) rmSync(gazetteerDir, { recursive: true, force: true });
});

const get = (url: string, bearer = token) =>
  audit.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${bearer}` } });
const post = (url: string, payload: unknown, bearer = token) =>
  audit.app.inject({
    method: 'POST',
    url,
    payload: payload as object,
    headers: { authorization: `Bearer ${bearer}` },
  });

interface RunBody {
  raised: { findingId: string; seq: number }[];
  known: string[];
  findings: {
    findingId: string;
    ruleId: string;
    ruleVersion: number;
    summary: string;
    evidence: { stream: string; seq: number; type: string }[];
  }[];
}

async function runRules(partition: string): Promise<RunBody> {
  const response = await post('/v1/rules/run', { partition, asOf });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as RunBody;
}

describe('the planted county: rules find exactly the planted violations', () => {
  let first: { county: RunBody; city: RunBody };

  beforeAll(async () => {
    first = { county: await runRules(county), city: await runRules(city) };
    const jsm = await jetstreamManager(nc);
    const tails = new Map<string, number>();
    for (const p of [county, city]) {
      const info = await jsm.streams.info(`${ns}_AUDIT_${p}`);
      tails.set(`${ns}_AUDIT_${p}`, info.state.last_seq);
    }
    await project(tails);
  }, 120_000);

  it('raises one finding per planted violation and none for the look-alikes', async () => {
    const expectedCounts = Object.fromEntries(
      Object.entries(planted).map(([rule, list]) => [rule, list.length]),
    );
    const found = [...first.county.findings, ...first.city.findings];
    const counts: Record<string, number> = {};
    for (const f of found) counts[f.ruleId] = (counts[f.ruleId] ?? 0) + 1;
    expect(counts).toEqual(expectedCounts);
    expect(first.county.raised).toHaveLength(first.county.findings.length);
    expect(first.county.known).toEqual([]);

    // Each planted violation is found with the subjects that identify it.
    const rows = await database.db
      .selectFrom('findings as f')
      .innerJoin('finding_subjects as s', (j) =>
        j.onRef('s.partition', '=', 'f.partition').onRef('s.finding_id', '=', 'f.finding_id'),
      )
      .select(['f.rule_id', 'f.finding_id', 's.subject_id'])
      .execute();
    const subjectsOf = new Map<string, { rule: string; ids: Set<string> }>();
    for (const r of rows) {
      const entry = subjectsOf.get(r.finding_id) ?? { rule: r.rule_id, ids: new Set<string>() };
      entry.ids.add(r.subject_id);
      subjectsOf.set(r.finding_id, entry);
    }
    for (const [rule, list] of Object.entries(planted)) {
      for (const ids of list) {
        const match = [...subjectsOf.values()].find(
          (s) => s.rule === rule && ids.every((id) => s.ids.has(id)),
        );
        expect(match, `${rule} on ${ids.join(', ')}`).toBeDefined();
      }
    }
  });

  it('cites the evidence: the idle tranche, the withheld receipt, the duplicate payments', () => {
    const idle = first.county.findings.find((f) => f.ruleId === 'idle_funds')!;
    expect(idle.summary).toContain('k-2');
    const withheld = first.city.findings.find((f) => f.ruleId === 'withheld_funds')!;
    expect(withheld.summary).toContain('y-1');
    // 500,000 元 received, 196,380 元 passed on.
    expect(withheld.summary).toContain('303,620.00 元');
    // Each summary is one Chinese sentence of a 预警 notice (资金滞留：…。), as inspectors read them.
    for (const f of [...first.county.findings, ...first.city.findings]) {
      expect(f.summary, f.ruleId).toMatch(/^\p{Script=Han}+：[^。]+。$/u);
    }
    // H09 is line 9 of n-dibao's list; its objection was upheld after the payment, which stays booked.
    const upheld = first.county.findings.find((f) => f.ruleId === 'objection_upheld_paid')!;
    expect(upheld.summary).toBe(
      '异议成立仍发放：公示 n-dibao 第 9 行的户 H09 异议成立，补贴发放 pay-h09（农村低保 一类 (2,280 元/人/年, 按月发放)，2019-08）金额 380.00 元，款项发放中，未退回也未冲正；成立的异议：o-h09（发放在异议提出之前）。',
    );
    expect(upheld.evidence.map((e) => `${e.stream}:${e.type}`)).toEqual(
      // In log order: the list was published before the payment, the objection filed after it.
      ['NoticeLinesPublished', 'PaymentInstructed', 'ObjectionFiled', 'ObjectionResolved'].map(
        (type) => `LEDGER_${county}:${type}`,
      ),
    );
  });

  it('re-running the same rule versions over the same data appends nothing new', async () => {
    const again = await runRules(county);
    expect(again.raised).toEqual([]);
    expect(again.known.sort()).toEqual(first.county.findings.map((f) => f.findingId).sort());
    expect(again.findings).toEqual(first.county.findings);
  });

  it('lists findings with filters and walks one through review → trace → rectify → close', async () => {
    const list = await get(`/v1/partitions/${county}/findings?ruleId=duplicate_payment`);
    expect(list.statusCode, list.body).toBe(200);
    const [dup] = (list.json() as { findings: { findingId: string; status: string }[] }).findings;
    expect(dup?.status).toBe('open');
    const base = `/v1/partitions/${county}/findings/${dup!.findingId}`;
    // Rectification before review is refused with a named code.
    const early = await post(`${base}/rectify`, {
      commandId: 'c-early',
      note: '提前整改',
      recoveredFen: '19000',
    });
    expect(early.statusCode, early.body).toBe(409);
    expect(early.json().error.code).toBe('step_not_allowed');
    const review = await post(`${base}/review`, {
      commandId: 'c-review',
      note: '核实：同月重复发放',
      outcome: 'confirmed',
    });
    expect(review.statusCode, review.body).toBe(201);
    // The same command again is the original result; the same id with other content is refused.
    const repeat = await post(`${base}/review`, {
      commandId: 'c-review',
      note: '核实：同月重复发放',
      outcome: 'confirmed',
    });
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json()).toMatchObject({ duplicate: true, seq: review.json().seq });
    const reused = await post(`${base}/review`, {
      commandId: 'c-review',
      note: '另一个结论',
      outcome: 'dismissed',
    });
    expect(reused.statusCode).toBe(409);
    expect(reused.json().error.code).toBe('idempotency_key_reused');
    expect((await post(`${base}/trace`, { commandId: 'c-trace', note: '溯源至村会计' })).statusCode).toBe(
      201,
    );
    expect(
      (
        await post(`${base}/rectify`, {
          commandId: 'c-rect',
          note: '已追回',
          recoveredFen: '19000',
          documentNumber: '内纪整〔2020〕1号',
        })
      ).statusCode,
    ).toBe(201);
    // Closing as dismissed needs a dismissing review.
    expect(
      (await post(`${base}/close`, { commandId: 'c-dismiss', note: '驳回', resolution: 'dismissed' }))
        .statusCode,
    ).toBe(409);
    expect(
      (await post(`${base}/close`, { commandId: 'c-close', note: '整改到位，销号', resolution: 'rectified' }))
        .statusCode,
    ).toBe(201);
    const unknown = await post(`/v1/partitions/${county}/findings/no-such/review`, {
      commandId: 'c-x',
      note: 'x',
      outcome: 'confirmed',
    });
    expect(unknown.statusCode).toBe(404);
    const blank = await post(`${base}/reopen`, { commandId: 'c-blank', note: '   ' });
    expect(blank.statusCode).toBe(400);
  });

  it('refuses inspectors of other partitions and other roles', async () => {
    expect((await get(`/v1/partitions/${county}/findings`, outsider)).statusCode).toBe(403);
    expect((await post('/v1/rules/run', { partition: county }, outsider)).statusCode).toBe(403);
    const finance = await signToken(secret, { sub: 'f', role: 'finance', org: 'x', partitions: ['*'] }, 60);
    expect((await get(`/v1/partitions/${county}/findings`, finance)).statusCode).toBe(403);
    expect((await get(`/v1/partitions/${county}/findings`, 'not-a-token')).statusCode).toBe(401);
  });
});

describe('traces, trails, progress and proofs', () => {
  it('traces a household up to the root allocation with 文号 and amounts at every hop', async () => {
    const response = await get(`/v1/partitions/${county}/households/H12/trace`);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.paidFen).toBe('19000');
    const [payment] = body.payments;
    expect(payment.paymentId).toBe('pay-h12');
    expect(payment.roots).toHaveLength(1);
    expect(payment.roots[0]).toMatchObject({
      tracedFen: '19000',
      tranche: { partition: city, trancheId: 'y-1', documentNumber: docCity },
    });
    const crossing = payment.hops.find((h: { allocation: unknown }) => h.allocation !== null);
    expect(crossing.allocation).toEqual({ fromPartition: city, allocationId: 'a-nx' });
    expect((await get(`/v1/partitions/${county}/households/NOPE/trace`)).statusCode).toBe(404);
  });

  it('serves an evidence bundle whose every event verifies offline and whose tampering fails', async () => {
    const response = await get(`/v1/partitions/${county}/households/H12/trace/evidence`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-disposition']).toContain('attachment');
    const bundle = response.json();
    expect(bundle.pending).toEqual([]);
    const cited = bundle.events.map((e: { stream: string; seq: number }) => `${e.stream}#${e.seq}`);
    // The payment, the county tranche, the city's issue and root tranche.
    expect(cited.some((c: string) => c.startsWith(`LEDGER_${city}#`))).toBe(true);
    expect(cited.some((c: string) => c.startsWith(`LEDGER_${county}#`))).toBe(true);
    for (const e of bundle.events) {
      const result = verifyBundle(e.bundle, signer.verifierKey);
      expect(result.ok, `${e.stream}#${e.seq}`).toBe(true);
      if (result.ok && result.kind === 'inclusion') expect(result.leafIndex).toBe(e.seq - 1);
    }
    // One fen changed in one event's bytes: the proof no longer holds.
    const e0 = bundle.events[0].bundle;
    const bytes = Buffer.from(e0.event, 'base64').toString('utf8');
    const tampered = bytes.replace(
      /"amountFen":"(\d+)"/,
      (_m, d: string) => `"amountFen":"${BigInt(d) + 1n}"`,
    );
    expect(tampered).not.toBe(bytes);
    expect(
      verifyBundle({ ...e0, event: Buffer.from(tampered).toString('base64') }, signer.verifierKey).ok,
    ).toBe(false);
    // An event moved to another position (reordered) fails too.
    expect(verifyBundle({ ...e0, leafIndex: e0.leafIndex + 1 }, signer.verifierKey).ok).toBe(false);

    // The whole file, offline, with the CLI and nothing but the key; then one event dropped from its proof.
    const dir = mkdtempSync(join(tmpdir(), 'trace-evidence-'));
    const good = join(dir, 'good.json');
    const bad = join(dir, 'bad.json');
    writeFileSync(good, response.body);
    const broken = structuredClone(bundle);
    broken.events[1].bundle.proof = broken.events[1].bundle.proof.slice(1);
    writeFileSync(bad, JSON.stringify(broken));
    const cli = (file: string) =>
      promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          resolve(import.meta.dirname, '../../../packages/cli/src/main.ts'),
          'trace',
          'verify',
          file,
          '--key',
          signer.verifierKey,
        ],
        { cwd: resolve(import.meta.dirname, '../../..') },
      ).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stderr: string }) => ({ code: e.code, out: e.stderr }),
      );
    const ok = await cli(good);
    expect(ok.out).toContain(`all ${bundle.events.length} cited events`);
    expect(ok.code).toBe(0);
    const refused = await cli(bad);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`${bundle.events[1].stream}#${bundle.events[1].seq}`);
  }, 60_000);

  it('traces the allocation forward to households, units, unspent and in transit, fen by fen', async () => {
    const response = await get(`/v1/partitions/${city}/allocations/a-nx/trace`);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      receivedFen: '19638000',
      inTransitFen: '0',
      unspentFen: '0',
      disbursedFen: '18000000',
      paidFen: '1638000',
    });
    expect(body.households.map((h: { householdId: string }) => h.householdId)).toEqual([
      'H11',
      'H12',
      'H13',
      'H14',
    ]);
    expect(body.units).toHaveLength(3);
  });

  it('renders both traces as escaped SVG with every node linked to its trail', async () => {
    for (const url of [
      `/v1/partitions/${county}/households/H12/trace.svg`,
      `/v1/partitions/${city}/allocations/a-nx/trace.svg`,
    ]) {
      const response = await get(url);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['content-type']).toContain('image/svg+xml');
      expect(response.body).not.toContain('<script');
      const links = response.body.match(/<a href="[^"]+"/g) ?? [];
      const rects = response.body.match(/<rect /g) ?? [];
      expect(links.length).toBe(rects.length);
      expect(links.length).toBeGreaterThan(2);
      expect(response.body).toContain('/trail/');
    }
  });

  it('shows the trail of an entity with stream, sequence, actor and leaf hash', async () => {
    const response = await get(`/v1/partitions/${county}/trail/payment/pay-h12`);
    expect(response.statusCode, response.body).toBe(200);
    const { events } = response.json();
    expect(events.map((e: { type: string }) => e.type)).toEqual(['PaymentInstructed', 'PaymentSettled']);
    expect(events[0]).toMatchObject({ stream: `LEDGER_${county}`, actor: { userId: 'import-ledger' } });
    expect(events[0].leafHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("orders a household's trail by recorded time across REGISTRY, LEDGER and AUDIT, and pages in that order", async () => {
    // H06: registered 2018-06-01 and its card bound 06-02 (registry), its member died 2019-06-01
    // (registry), paid 2019-08-05 (ledger), the false_claim finding raised by this test run (audit).
    // By stream, the payment came first and the registration after it.
    const trailOf = async (query = '') => {
      const response = await get(`/v1/partitions/${county}/trail/household/H06${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as {
        events: { stream: string; seq: number; type: string; recordedAt: string }[];
        next: { afterStream: string; afterSeq: number } | null;
      };
    };
    const whole = await trailOf();
    expect(whole.events.map((e) => `${e.stream}:${e.type}`)).toEqual([
      `REGISTRY_${county}:HouseholdRegistered`,
      `REGISTRY_${county}:AccountBound`,
      `REGISTRY_${county}:MemberDeceased`,
      `LEDGER_${county}:PaymentInstructed`,
      `AUDIT_${county}:FindingRaised`,
    ]);
    const times = whole.events.map((e) => e.recordedAt);
    expect(times).toEqual([...times].sort());
    // Pages of two continue after the last event of the page before, in the same order.
    const paged: typeof whole.events = [];
    let page = await trailOf('?limit=2');
    paged.push(...page.events);
    expect(page.next).toEqual({ afterStream: `REGISTRY_${county}`, afterSeq: whole.events[1]!.seq });
    while (page.next !== null) {
      page = await trailOf(`?limit=2&afterStream=${page.next.afterStream}&afterSeq=${page.next.afterSeq}`);
      paged.push(...page.events);
    }
    expect(paged).toEqual(whole.events);
  });

  it('reports spending progress per 旬 and year to date against the 100% target, as JSON, CSV and XLSX', async () => {
    const json = await get(`/v1/partitions/${county}/progress?from=2019-08-01&to=2019-08-10&by=fund_source`);
    expect(json.statusCode, json.body).toBe(200);
    const body = json.json();
    expect(body.targetPercent).toBe(100);
    const countyRow = body.rows.find((r: { key: { fund_source: string } }) => r.key.fund_source === 'county');
    // 1–10 August: 11 payments of 190 元 from county money (k-sa, k-ind), one returned; 250 元 over.
    expect(countyRow.period.paidFen).toBe(String(19_000 * 12 + 6_000 + 19_000));
    expect(countyRow.period.returnedFen).toBe('19000');
    const defaultXun = await get(`/v1/partitions/${county}/progress`);
    // The clock says 2 January 2020 (Beijing): the first 旬 of January.
    expect(defaultXun.json()).toMatchObject({ from: '2020-01-01', to: '2020-01-10' });
    const csv = await get(`/v1/partitions/${county}/progress?from=2019-08-01&to=2019-08-10&format=csv`);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body).toContain('100');
    // The spreadsheet says its unit (元, where the JSON has fen) and names its rows in Chinese; the
    // money received at the county itself (no township) is a named row, not an empty cell.
    /** The 旬报 of 1–10 August by `by` as CSV lines, without the BOM Excel needs. */
    const csvLines = async (by: string) =>
      (await get(`/v1/partitions/${county}/progress?from=2019-08-01&to=2019-08-10&by=${by}&format=csv`)).body
        .replace(/^\ufeff/, '')
        .trim()
        .split(/\r?\n/);
    const lines = await csvLines('township');
    expect(lines[0]).toMatch(/^乡镇 township,区划代码 code,到账（元） received,下达（元） issued,/);
    expect(lines[0]).toContain(',年度支出（元） spent YTD,');
    expect(lines.slice(1).filter((l) => l.startsWith(','))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('（不分乡镇）,'))).toHaveLength(1);
    // Rows are named from the gazetteer, the code beside the name: 城关镇, not 411325100.
    expect(lines.filter((l) => l.startsWith(`城关镇,${village.slice(0, 9)},`))).toHaveLength(1);
    expect(lines.filter((l) => /^[0-9]{9},/.test(l))).toEqual([]);
    const byVillage = await get(`/v1/partitions/${county}/progress?from=2019-08-01&to=2019-08-10&by=village`);
    const villageRows = byVillage.json().rows as { key: { village: string }; name: string | null }[];
    expect(villageRows.find((r) => r.key.village === village)?.name).toBe('王庄村');
    expect(villageRows.find((r) => r.key.village === '')?.name).toBeNull();
    // Fund sources and programmes are named too: 县级财政专项扶贫资金, 农村低保 一类, not county, dibao_class1.
    expect(countyRow.name).toBe('县级财政专项扶贫资金');
    const programmeLines = await csvLines('programme');
    expect(programmeLines[0]).toMatch(/^补助项目 programme,项目代码 code,到账（元） received,/);
    expect(
      programmeLines.filter((l) => l.startsWith('"农村低保 一类 (2,280 元/人/年, 按月发放)",dibao_class1,')),
    ).toHaveLength(1);
    const xlsx = await get(`/v1/partitions/${county}/progress?from=2019-08-01&to=2019-08-10&format=xlsx`);
    expect(xlsx.statusCode).toBe(200);
    expect(xlsx.rawPayload.subarray(0, 2).toString()).toBe('PK');
    expect((await get(`/v1/partitions/${county}/progress?from=2019-08-10&to=2019-08-01`)).statusCode).toBe(
      422,
    );
  });

  it('serves checkpoints, inclusion and consistency proofs from the stored tree', async () => {
    const stream = `LEDGER_${county}`;
    const checkpoint = (await get(`/v1/streams/${stream}/checkpoint`)).json();
    expect(checkpoint.size).toBeGreaterThan(10);
    const inclusion = await get(`/v1/streams/${stream}/proof/inclusion?seq=3`);
    expect(inclusion.statusCode, inclusion.body).toBe(200);
    expect(inclusion.json()).toMatchObject({
      leafIndex: 2,
      treeSize: checkpoint.size,
      rootHash: checkpoint.rootHash,
    });
    const consistency = await get(`/v1/streams/${stream}/proof/consistency?from=5`);
    expect(consistency.statusCode).toBe(200);
    expect(consistency.json().newRoot).toBe(checkpoint.rootHash);
    expect((await get(`/v1/streams/${stream}/proof/inclusion?seq=${checkpoint.size + 1}`)).statusCode).toBe(
      422,
    );
    expect(
      (await get(`/v1/streams/${stream}/proof/consistency?from=${checkpoint.size + 5}`)).statusCode,
    ).toBe(422);
    expect((await get('/v1/streams/AUDIT_000000/checkpoint')).statusCode).toBe(404);
    const single = await get(`/v1/streams/${stream}/bundles/inclusion?seq=1`);
    expect(verifyBundle(single.json(), signer.verifierKey).ok).toBe(true);
    // Query values PostgreSQL cannot hold are refused, not a 500 (found by route fuzzing).
    for (const url of [
      `/v1/partitions/${county}/findings?ruleVersion=99999999999`,
      `/v1/partitions/${county}/findings?raisedFrom=0000-01-01`,
      `/v1/partitions/${county}/progress?from=0000-01-01&to=0000-12-31`,
    ]) {
      const refused = await get(url);
      expect(refused.statusCode, url).toBe(400);
      expect(refused.json().error.code).toBe('validation_failed');
    }
    // The bundle carries the event: an inspector of another county may not read it.
    const foreign = await get(`/v1/streams/${stream}/bundles/inclusion?seq=1`, outsider);
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('forbidden');
  });
});

/**
 * The inspector's command line against this audit-api, listening (decision 0135): what `trace`,
 * `rules`, `findings` and `check` print is Chinese, and quotes the ids, 文号 and dates of what
 * audit-api answered as they are. Codes a line says in words (statuses, severities, purposes) are
 * not facts it may quote.
 */
describe('the inspector’s command line, in Chinese', () => {
  let url: string;
  const words = new Set([
    'status',
    'severity',
    'purpose',
    'fundSource',
    'reviewOutcome',
    'resolution',
    'type',
  ]);
  const cli = (...args: string[]) =>
    promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', resolve(import.meta.dirname, '../../../packages/cli/src/main.ts'), ...args],
      { cwd: resolve(import.meta.dirname, '../../..'), env: { ...process.env, DATABASE_URL: database.url } },
    ).then(
      (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        out: e.stdout,
        err: e.stderr,
      }),
    );
  const inspector = () => ['--url', url, '--token', token];
  /** Every line Chinese once `facts` are taken out, and each of `quoted` said as it is. */
  const expectChinese = (out: string, facts: readonly string[], quoted: readonly string[] = []) => {
    const lines = out.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(notChinese(line, facts), line).toBeUndefined();
    for (const fact of quoted) expect(out, fact).toContain(fact);
  };

  beforeAll(async () => {
    const [port] = await freePorts(1);
    await audit.app.listen({ port: port!, host: '127.0.0.1' });
    url = `http://127.0.0.1:${port}`;
    // The findings exist whichever test ran before: a re-run raises nothing new.
    await runRules(county);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(`${ns}_AUDIT_${county}`);
    await project(new Map([[`${ns}_AUDIT_${county}`, info.state.last_seq]]));
  }, 120_000);

  it('trace household: each payment up to its 文号, its status and purpose in words', async () => {
    const body = (await get(`/v1/partitions/${county}/households/H12/trace`)).json();
    const run = await cli('trace', 'household', county, 'H12', ...inspector());
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/^户 H12（411325）：补贴发放 1 笔，/);
    expect(run.out).toContain('（用途：综合扶贫，资金批次 ');
    const facts = factsOf(body, { skip: words });
    expectChinese(run.out, facts, ['pay-h12', docCity, 'y-1', '190.00 元']);
  }, 60_000);

  it('trace allocation: every figure by its Chinese term, and the households reached', async () => {
    const run = await cli('trace', 'allocation', city, 'a-nx', ...inspector());
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/^到账 +196,380\.00 元$/m);
    expect(run.out).toContain('发放到 4 户');
    expectChinese(run.out, [], ['196,380.00 元', '180,000.00 元', '16,380.00 元']);
  }, 60_000);

  it('rules list and run, findings list, show and review: statuses and severities in words', async () => {
    const rules = await cli('rules', 'list', ...inspector());
    expect(rules.code, rules.err).toBe(0);
    const ruleIds = (await get('/v1/rules'))
      .json()
      .rules.map((r: { id: string; version: number }) => `${r.id}@${r.version}`);
    expectChinese(rules.out, ruleIds, ruleIds);

    const again = await cli('rules', 'run', county, '--as-of', asOf, ...inspector());
    expect(again.code, again.err).toBe(0);
    const report = (await post('/v1/rules/run', { partition: county, asOf, dryRun: true })).json() as RunBody;
    const n = report.findings.length;
    expect(again.out).toContain(`共发现 ${n} 条预警：本次新记录 0 条，此前已记录 ${n} 条`);
    const found = factsOf(report.findings, { skip: words });
    expectChinese(
      again.out,
      found,
      report.findings.map((f) => f.findingId),
    );

    const idle = report.findings.find((f) => f.ruleId === 'idle_funds')!;
    const review = await cli(
      'findings',
      'review',
      county,
      idle.findingId,
      '--outcome',
      'confirmed',
      '--note',
      '核实：资金闲置',
      ...inspector(),
    );
    expect(review.code, review.err).toBe(0);
    expect(review.out).toMatch(
      new RegExp(`^复核已记录：预警 ${idle.findingId}，AUDIT_${county} 第 \\d+ 条$`, 'm'),
    );
    expectChinese(review.out, [idle.findingId, `AUDIT_${county}`]);
    const seq = Number(/第 (\d+) 条/.exec(review.out)![1]);
    await project(new Map([[`${ns}_AUDIT_${county}`, seq]]));

    const list = await cli('findings', 'list', county, ...inspector());
    expect(list.code, list.err).toBe(0);
    const listed = (await get(`/v1/partitions/${county}/findings?limit=500`)).json().findings as {
      findingId: string;
      status: string;
    }[];
    expect(list.out).toContain(`共 ${listed.length} 条预警`);
    expect(list.out).toMatch(new RegExp(`^${idle.findingId}  已复核  `, 'm'));
    expectChinese(
      list.out,
      factsOf(listed, { skip: words }),
      listed.map((f) => f.findingId),
    );

    const show = await cli('findings', 'show', county, idle.findingId, ...inspector());
    expect(show.code, show.err).toBe(0);
    expect(show.out).toContain('  状态：已复核\n');
    expect(show.out).toContain('  复核结论：属实\n');
    const detail = (await get(`/v1/partitions/${county}/findings/${idle.findingId}`)).json();
    // Event types and the actor stand beside the step's word, for whoever reads the log.
    const shown = [
      ...factsOf(detail, { skip: new Set(['status', 'severity', 'reviewOutcome', 'resolution']) }),
    ];
    expectChinese(show.out, shown, [idle.findingId, idle.summary]);
    // --json is what audit-api answered, unchanged.
    const json = await cli('findings', 'show', county, idle.findingId, '--json', ...inspector());
    expect(JSON.parse(json.out)).toEqual(detail);
  }, 120_000);

  it('check: each of the books’ checks passed, in Chinese', async () => {
    const run = await cli('check', '--schema', 'public');
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain(
      '通过   payments_rooted：每笔补贴发放沿每条来源路径都能追溯到一笔源头资金下达\n',
    );
    expectChinese(run.out, [
      'public',
      'fundtrace quarantine',
      '@external',
      '@received',
      'entries_balance',
      'no_negative_balance',
      'balances_equal_entries',
      'tranches_equal_entries',
      'flows_within_tranche',
      'payments_rooted',
      'allocations_received_within_issued',
    ]);
  }, 60_000);
});
