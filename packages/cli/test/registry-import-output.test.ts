import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHouseholds, householdColumns } from '@fundtrace/pii';
import { signToken } from '@fundtrace/service-kit';
import { factsOf, notChinese, type ServiceProcess, useTestInfra } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnDescriptions, writeHouseholdsFile } from '../src/commands/registry-files';
import { startGeneratedRegistry } from './generated-registry';
import { runCli } from './run-cli';

/**
 * `fundtrace registry import` as a clerk runs it against a real registry-api (decision 0135): the
 * dry run's answer and each refused row in Chinese, 第 N 行，<列名>：<原因>（code）, nothing imported.
 */
const infra = useTestInfra();
let service: ServiceProcess;
let target: string[];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-import-output-'));
  const jwtSecret = randomBytes(32).toString('hex');
  service = await startGeneratedRegistry({
    ns: infra.ns,
    databaseUrl: infra.databaseUrl,
    jwtSecret,
    logDir: dir,
  });
  const token = await signToken(
    jwtSecret,
    { sub: 'clerk', role: 'registry', org: '内乡县扶贫办', partitions: ['411325'] },
    3600,
  );
  target = ['--partition', '411325', '--url', service.url, '--token', token];
}, 180_000);

afterAll(async () => {
  await service?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Three generated households of the county, one row per person. */
async function roster(name: string): Promise<{ path: string; lines: string[] }> {
  const households = generateHouseholds({
    county: '411325',
    villages: 2,
    count: 3,
    seed: name,
    firstNumber: 900_001,
  });
  const path = join(dir, name);
  await writeHouseholdsFile(path, households);
  return { path, lines: (await readFile(path, 'utf8')).split('\r\n') };
}

describe('fundtrace registry import, in Chinese', () => {
  it('a dry run says how many rows and households passed and that nothing was imported', async () => {
    const { path, lines } = await roster('good.csv');
    const run = await runCli(['registry', 'import', path, '--dry-run', ...target]);
    expect(run.code, run.stderr).toBe(0);
    const rows = lines.filter((l) => l !== '').length - 1;
    expect(run.stdout).toBe(`试运行：${rows} 行、3 户均通过检查，未导入任何内容\n`);
    expect(notChinese(run.stdout.trimEnd(), factsOf([rows, 3]))).toBeUndefined();
  }, 60_000);

  it('lists each refused row as 第 N 行，<列名>：<原因>（code）, pii’s format checks worded too, and imports nothing', async () => {
    const { path, lines } = await roster('bad.csv');
    // Row 3's ID number with another check digit, row 4's relation one the registry does not know.
    const spoil = (row: number, column: number, value: (was: string) => string) => {
      const cells = lines[row - 1]!.split(',');
      cells[column] = value(cells[column]!);
      lines[row - 1] = cells.join(',');
    };
    spoil(3, 3, (id) => id.slice(0, 17) + (id.endsWith('1') ? '2' : '1'));
    spoil(4, 4, () => '邻居');
    await writeFile(path, lines.join('\r\n'));
    const run = await runCli(['registry', 'import', path, ...target]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^\d+ 行中有 2 处问题，未导入任何内容：$/m);
    // registry-api's own refusal, in its words; pii's format check, in the CLI's.
    expect(run.stderr).toMatch(/^ {2}第 3 行，身份证号：.*校验位.*（id_number_invalid\.check_digit）$/m);
    expect(run.stderr).toContain(
      `  第 4 行，与户主关系：不是可识别的取值；可填：${columnDescriptions.relation}（unknown_value）\n`,
    );
    const facts = ['unknown_value', 'id_number_invalid.check_digit', ...householdColumns.map((c) => c.key)];
    for (const line of run.stderr.trimEnd().split('\n'))
      expect(notChinese(line, facts), line).toBeUndefined();
  }, 60_000);
});
