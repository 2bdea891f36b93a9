import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Projector, startProjector } from '@fundtrace/books';
import { lastSequence } from '@fundtrace/eventlog';
import { streamName } from '@fundtrace/events';
import { currentMaskingPolicy, generateHouseholds } from '@fundtrace/pii';
import { signToken } from '@fundtrace/service-kit';
import { readTable } from '@fundtrace/tabular';
import { type ServiceProcess, useTestInfra } from '@fundtrace/testkit';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  householdColumnSpecs,
  writeHouseholdsFile,
  writeHouseholdTemplate,
} from '../src/commands/registry-files';
import { ImportRejectedError, importHouseholdsFile } from '../src/commands/registry-import';
import { ApiError, callApi } from '../src/http';
import { startGeneratedRegistry } from './generated-registry';
import { runCli } from './run-cli';

/**
 * `fundtrace registry import` end to end: a real registry-api process on the machine's NATS (this
 * file's namespace), files written and read by @fundtrace/tabular, 100,000+ rows in one import.
 */
const infra = useTestInfra();
const jwtSecret = randomBytes(32).toString('hex');
let service: ServiceProcess;
let baseUrl: string;
let token: string;
let dir: string;
let projector: Projector | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-import-'));
  service = await startGeneratedRegistry({
    ns: infra.ns,
    databaseUrl: infra.databaseUrl,
    jwtSecret,
    logDir: dir,
    // The last test reads the service's log for the import's start.
    logLevel: 'info',
  });
  baseUrl = service.url;
  projector = startProjector({ nc: infra.nc, db: infra.db, schema: 'public', ns: infra.ns });
  await projector.discover();
  token = await signToken(
    jwtSecret,
    { sub: 'clerk', role: 'registry', org: '内乡县扶贫办', partitions: ['411325'] },
    3600,
  );
}, 180_000);

afterAll(async () => {
  await projector?.stop();
  await service?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * registry-api answers reads from the books: ask for what was written (minSeq), and retry while
 * the projector is still behind (after a 100,000-row import it has tens of thousands of events to go).
 */
async function household(id: string): Promise<{ householdId: string; members: { nameMasked: string }[] }> {
  const minSeq = await lastSequence(infra.jsm, streamName('registry', '411325', infra.ns));
  for (let attempt = 1; ; attempt++) {
    try {
      return await callApi({
        baseUrl,
        token,
        path: `/v1/partitions/411325/households/${id}?minSeq=${minSeq}`,
      });
    } catch (error) {
      if (
        !(error instanceof ApiError && error.code === 'projection_behind') ||
        attempt >= projectionRetriesMax
      )
        throw error;
    }
  }
}
const maskName = (name: string) => currentMaskingPolicy.name(name);

/** A few generated households of the county, written to `file` in the test directory. */
async function smallRoster(file: string, seed: string, firstNumber: number, birthRegion: string, count = 3) {
  const households = generateHouseholds({
    county: '411325',
    villages: 2,
    count,
    seed,
    firstNumber,
    birthRegions: [birthRegion],
  });
  const path = join(dir, file);
  await writeHouseholdsFile(path, households);
  return { households, path };
}
/** Each wait is the service's own (5 s): this bounds catching up after the large import to 10 minutes. */
const projectionRetriesMax = 120;

describe('fundtrace registry import', () => {
  it('writes a template whose example row reads back and passes a dry run', async () => {
    const path = join(dir, 'template.xlsx');
    await writeHouseholdTemplate(path);
    const rows = [];
    for await (const row of readTable({ path }, { columns: householdColumnSpecs })) rows.push(row);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.problems).toEqual([]);
    expect(rows[0]!.values.idNumber).toMatch(/^411325\d{11}[\dX]$/);
    const summary = await importHouseholdsFile({
      file: path,
      partition: '411325',
      dryRun: true,
      baseUrl,
      token,
    });
    expect(summary).toMatchObject({ dryRun: true, rows: 1, households: 1 });
  });

  it('imports an XLSX roster, and a re-run of the same file adds nothing', async () => {
    const households = generateHouseholds({
      county: '411325',
      villages: 20,
      count: 8,
      seed: 'xlsx',
      firstNumber: 900_001,
      birthRegions: ['411328'],
    });
    const path = join(dir, 'roster.xlsx');
    const rows = await writeHouseholdsFile(path, households);
    const phases = new Set<string>();
    const checked: number[] = [];
    const summary = await importHouseholdsFile({
      file: path,
      partition: '411325',
      dryRun: false,
      baseUrl,
      token,
      onProgress: (p, done) => {
        phases.add(p);
        if (p === 'checking') checked.push(done);
      },
    });
    expect(summary).toMatchObject({ dryRun: false, rows, households: 8 });
    expect(phases).toEqual(new Set(['reading', 'checking', 'appending']));
    // The checking bar ends full before appending starts (it stopped at 0/rows on a real run).
    expect(checked.at(-1)).toBe(rows);
    const last = households[7]!;
    expect((await household(last.householdId)).members).toHaveLength(last.members.length);
    const again = await importHouseholdsFile({
      file: path,
      partition: '411325',
      dryRun: false,
      baseUrl,
      token,
    });
    expect(again).toMatchObject({ commandId: summary.commandId, lastSeq: summary.lastSeq });
  });

  it('erases one household with `fundtrace registry erase`: its reveals answer keyDestroyed, its neighbour stays readable', async () => {
    const {
      households: [gone, kept],
      path,
    } = await smallRoster('erase.csv', 'erase', 600_001, '411326', 2);
    await importHouseholdsFile({ file: path, partition: '411325', dryRun: false, baseUrl, token });
    const cli = (...args: string[]) =>
      runCli([
        'registry',
        'erase',
        gone!.householdId,
        '--partition',
        '411325',
        '--url',
        baseUrl,
        '--token',
        token,
        ...args,
      ]);
    const refused = await cli('--reason', '本人申请删除个人信息', '--on', '2024-06-01');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('household_still_enrolled');
    await callApi({
      baseUrl,
      token,
      path: `/v1/partitions/411325/households/${gone!.householdId}/exits`,
      body: { commandId: 'erase-exit', kind: 'removed', exitedOn: '2024-05-01', reason: '户籍迁出' },
    });
    const erased = await cli('--reason', '本人申请删除个人信息', '--on', '2024-06-01');
    expect(erased.code).toBe(0);
    expect(erased.stdout).toContain(`erased: the personal data of household ${gone!.householdId}`);
    const repeated = await cli('--reason', '本人申请删除个人信息', '--on', '2024-06-01');
    expect(repeated.stdout).toContain('already erased');
    const reveal = (id: string, commandId: string) =>
      callApi<{ members: { idNumber: { value: string | null; keyDestroyed: boolean } }[] }>({
        baseUrl,
        token,
        path: `/v1/partitions/411325/households/${id}/reveals`,
        body: { commandId, memberNos: [1], fields: ['id_number'], reason: '核对' },
      });
    expect((await reveal(gone!.householdId, 'erase-rv-1')).members[0]!.idNumber).toEqual({
      value: null,
      keyDestroyed: true,
    });
    expect((await reveal(kept!.householdId, 'erase-rv-2')).members[0]!.idNumber).toEqual({
      value: kept!.members[0]!.idNumber,
      keyDestroyed: false,
    });
  });

  it('imports a GBK-encoded CSV (as Excel on Chinese Windows saves it) and refuses a UTF-8 BOM over GBK bytes by name', async () => {
    const { households, path: utf8Path } = await smallRoster('gbk-source.csv', 'gbk', 650_001, '411322');
    const text = (await readFile(utf8Path, 'utf8')).replace(/^\uFEFF/, '');
    const gbkPath = join(dir, 'gbk.csv');
    await writeFile(gbkPath, iconv.encode(text, 'gbk'));
    const mislabelled = join(dir, 'bom-over-gbk.csv');
    await writeFile(mislabelled, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), iconv.encode(text, 'gbk')]));
    const refused = await importHouseholdsFile({
      file: mislabelled,
      partition: '411325',
      dryRun: true,
      baseUrl,
      token,
    }).catch((e) => e);
    expect(refused).toBeInstanceOf(ImportRejectedError);
    expect((refused as ImportRejectedError).errors).toEqual([
      expect.objectContaining({ reason: 'invalid_encoding', message: expect.stringMatching(/UTF-8/) }),
    ]);
    const summary = await importHouseholdsFile({
      file: gbkPath,
      partition: '411325',
      dryRun: false,
      baseUrl,
      token,
    });
    expect(summary).toMatchObject({ households: 3 });
    const view = await household(households[2]!.householdId);
    expect(view.members.map((m) => m.nameMasked)).toEqual(
      households[2]!.members.map((m) => maskName(m.name)),
    );
  });

  it('refuses a row whose cell a decoder could not read (U+FFFD) instead of storing garbage', async () => {
    const { households, path } = await smallRoster('garbled.csv', 'fffd', 700_001, '411327');
    const text = await readFile(path, 'utf8');
    const name = households[1]!.members[0]!.name;
    await writeFile(path, text.replace(name, `${name.slice(0, 1)}\uFFFD${name.slice(2)}`));
    const error = await importHouseholdsFile({
      file: path,
      partition: '411325',
      dryRun: false,
      baseUrl,
      token,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ImportRejectedError);
    expect((error as ImportRejectedError).errors).toEqual([
      expect.objectContaining({ column: '姓名', reason: 'unreadable_characters' }),
    ]);
    await expect(household(households[1]!.householdId)).rejects.toThrow();
  });

  it('rejects a file with bad rows, listing every one with its row number, and appends nothing', async () => {
    const households = generateHouseholds({
      county: '411325',
      villages: 5,
      count: 50,
      seed: 'bad',
      firstNumber: 800_001,
      birthRegions: ['411329'],
    });
    const path = join(dir, 'bad.csv');
    await writeHouseholdsFile(path, households);
    const lines = (await readFile(path, 'utf8')).split('\r\n');
    // Line i of the file is spreadsheet row i + 1. Break rows 3, 6 and 10.
    const spoil = (row: number, column: number, value: string) => {
      const cells = lines[row - 1]!.split(',');
      cells[column] = value;
      lines[row - 1] = cells.join(',');
    };
    const id3 = lines[2]!.split(',')[3]!;
    spoil(3, 3, id3.slice(0, 17) + (id3.endsWith('1') ? '2' : '1'));
    spoil(6, 4, '邻居');
    spoil(10, 16, '6228480402564890019');
    spoil(10, 14, 'ABC');
    spoil(10, 15, '银行卡');
    await writeFile(path, lines.join('\r\n'));
    const before = await lastSequence(infra.jsm, streamName('registry', '411325', infra.ns));
    const error = await importHouseholdsFile({
      file: path,
      partition: '411325',
      dryRun: false,
      baseUrl,
      token,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ImportRejectedError);
    const found = (error as ImportRejectedError).errors.map((e) => `${e.row}:${e.column}:${e.reason}`);
    expect(found).toContain('3:身份证号:id_number_invalid.check_digit');
    expect(found).toContain('6:与户主关系:unknown_value');
    expect(found.some((f) => f.startsWith('10:一卡通账号:'))).toBe(true);
    for (const e of (error as ImportRejectedError).errors) expect(e.message).not.toContain(id3.slice(0, 17));
    expect(await lastSequence(infra.jsm, streamName('registry', '411325', infra.ns))).toBe(before);
  });

  it('imports 100,000+ rows of Chinese names from one XLSX file against real NATS, with the guarantees of CSV', async () => {
    // Before @fundtrace/tabular fed exceljs pure-ASCII parts, about one row in a thousand of such a
    // file came back with U+FFFD (a character split across exceljs's 16 KiB chunks, exceljs#2063) and
    // the whole file was refused as unreadable_characters.
    const households = generateHouseholds({
      county: '411325',
      villages: 200,
      count: 30_500,
      seed: 'hundred-thousand-xlsx',
      firstNumber: 3_000_001,
      birthRegions: ['411323', '411324'],
    });
    const firstRowOf: number[] = [];
    let next = 2; // row 1 is the header
    for (const h of households) {
      firstRowOf.push(next);
      next += h.members.length;
    }
    const stream = streamName('registry', '411325', infra.ns);
    const before = await lastSequence(infra.jsm, stream);

    // Two bad rows deep in the file: both are reported with their row numbers, nothing is appended.
    const spoiled = households.map((h) => ({ ...h, members: h.members.map((m) => ({ ...m })) }));
    const id = spoiled[12_000]!.members[0]!.idNumber;
    spoiled[12_000]!.members[0]!.idNumber = id.slice(0, 17) + (id.endsWith('1') ? '2' : '1');
    spoiled[29_000]!.phone = '1234';
    const badPath = join(dir, 'large-bad.xlsx');
    await writeHouseholdsFile(badPath, spoiled);
    const error = await importHouseholdsFile({
      file: badPath,
      partition: '411325',
      dryRun: false,
      baseUrl,
      token,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ImportRejectedError);
    const errors = (error as ImportRejectedError).errors;
    expect(errors.map((e) => e.row)).toEqual([firstRowOf[12_000], firstRowOf[29_000]]);
    expect(errors[0]!.reason).toBe('id_number_invalid.check_digit');
    expect(errors[1]!.reason).toMatch(/^phone_invalid/);
    expect(await lastSequence(infra.jsm, stream)).toBe(before);

    const path = join(dir, 'large.xlsx');
    const rows = await writeHouseholdsFile(path, households);
    expect(rows).toBeGreaterThanOrEqual(100_000);
    const dry = await importHouseholdsFile({ file: path, partition: '411325', dryRun: true, baseUrl, token });
    expect(dry).toMatchObject({ dryRun: true, rows, households: 30_500 });
    expect(await lastSequence(infra.jsm, stream)).toBe(before);

    let appended = 0;
    const summary = await importHouseholdsFile({
      file: path,
      partition: '411325',
      dryRun: false,
      baseUrl,
      token,
      onProgress: (phase, done) => {
        if (phase === 'appending') {
          expect(done).toBeGreaterThanOrEqual(appended);
          appended = done;
        }
      },
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}\nservice log tail:\n${service.proc.logTail(60)}`);
    });
    expect(summary).toMatchObject({ rows, households: 30_500 });
    expect(appended).toBe(30_500);
    // Names are stored encrypted, so check them the way staff would see them: the masks.
    for (const sample of [households[0]!, households[12_345]!, households[30_499]!]) {
      const view = await household(sample.householdId);
      expect(view.members.map((m) => m.nameMasked)).toEqual(sample.members.map((m) => maskName(m.name)));
    }
  }, 1_200_000);

  it('imports 100,000+ rows from one CSV file against real NATS', async () => {
    const households = generateHouseholds({
      county: '411325',
      villages: 200,
      count: 30_500,
      seed: 'hundred-thousand',
      // Born in the county only: the XLSX test above draws from 411323/411324, and the default mix
      // of neighbours gave one ID number both files hold (id_number_registered_in_county).
      birthRegions: ['411325'],
    });
    const path = join(dir, 'large.csv');
    const rows = await writeHouseholdsFile(path, households);
    expect(rows).toBeGreaterThanOrEqual(100_000);
    let appended = 0;
    const summary = await importHouseholdsFile({
      file: path,
      partition: '411325',
      dryRun: false,
      baseUrl,
      token,
      onProgress: (phase, done) => {
        if (phase === 'appending') {
          expect(done).toBeGreaterThanOrEqual(appended); // progress never goes back
          appended = done;
        }
      },
    }).catch((error: unknown) => {
      // Show what the service said: a failure here is otherwise just "fetch failed".
      throw new Error(`${String(error)}\nservice log tail:\n${service.proc.logTail(60)}`);
    });
    expect(summary).toMatchObject({ rows, households: 30_500 });
    expect(appended).toBe(30_500);
    expect(await lastSequence(infra.jsm, streamName('registry', '411325', infra.ns))).toBe(summary.lastSeq);
    const sample = households[12_345]!;
    expect((await household(sample.householdId)).members).toHaveLength(sample.members.length);
    // No clear ID number of the 100,000 people in any line the service wrote (the log is scanned for
    // anything shaped like an ID number, and each candidate looked up in the file's numbers).
    const clearIds = new Set(households.flatMap((h) => h.members.map((m) => m.idNumber)));
    const serviceLog = await readFile(service.logFile, 'utf8');
    const leaked = (serviceLog.match(/\d{17}[\dX]/g) ?? []).filter((candidate) => clearIds.has(candidate));
    expect(leaked).toEqual([]);
    expect(serviceLog).toContain('import started');
  }, 900_000);
});
