/**
 * Measures reading and writing 100,000-row rosters (time and peak RSS), the
 * size the ledger and registry imports must handle. Run:
 *   pnpm exec tsx packages/tabular/bench/measure.ts [rows]
 * Numbers go to stdout; nothing is asserted (tests never assert timings).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseYuan } from '@fundtrace/money';
import { type OutputColumn, readTable, writeCsv, writeXlsx } from '../src/index';
import { asciiArmoredEntry } from '../src/xlsx-armor';
import { zipEntries } from '../src/zip-directory';

const rows = Number(process.argv[2] ?? 100_000);
const columns = [
  { field: 'household_no', header: '户编号', kind: 'text' },
  { field: 'name', header: '户主姓名' },
  { field: 'id_masked', header: '身份证号' },
  { field: 'amount', header: '金额（元）', kind: 'money' },
  { field: 'paid_on', header: '发放日期', kind: 'date' },
  { field: 'note', header: '备注' },
] as const satisfies readonly OutputColumn[];
const specs = columns.map((column) => ({
  field: column.field,
  headers: [column.header] as [string],
  required: true,
}));

function* roster() {
  for (let i = 1; i <= rows; i += 1) {
    yield {
      household_no: `411325${String(i).padStart(8, '0')}`,
      name: `户主${i}`,
      id_masked: `411325********${String(i % 10_000).padStart(4, '0')}`,
      amount: BigInt(i) * 137n,
      paid_on: '2019-05-03',
      note: i % 7 === 0 ? '危房改造（重建）' : '',
    };
  }
}

let peak = 0;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);

async function measure(label: string, work: () => Promise<unknown>): Promise<void> {
  global.gc?.();
  peak = process.memoryUsage().rss;
  const start = performance.now();
  const detail = await work();
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${label.padEnd(28)} ${seconds.toFixed(2).padStart(7)} s  ${Math.round(rows / seconds)
      .toString()
      .padStart(8)} rows/s  peak RSS ${Math.round(peak / 2 ** 20)} MiB  ${detail ?? ''}`,
  );
}

const dir = await mkdtemp(join(tmpdir(), 'fundtrace-tabular-bench-'));
try {
  const csvPath = join(dir, 'roster.csv');
  const xlsxPath = join(dir, 'roster.xlsx');
  await measure('writeCsv', async () => {
    await pipeline(writeCsv(roster(), columns), createWriteStream(csvPath));
    return `${Math.round((await stat(csvPath)).size / 2 ** 20)} MiB`;
  });
  await measure('writeXlsx', async () => {
    await pipeline(writeXlsx(roster(), columns), createWriteStream(xlsxPath));
    return `${Math.round((await stat(xlsxPath)).size / 2 ** 20)} MiB`;
  });
  for (const [label, path] of [
    ['readTable csv + parseYuan', csvPath],
    ['readTable xlsx + parseYuan', xlsxPath],
  ] as const) {
    await measure(label, async () => {
      let count = 0;
      let total = 0n;
      for await (const row of readTable({ path }, { columns: specs })) {
        const amount = parseYuan(row.values.amount);
        if (!amount.ok || row.problems.length > 0) throw new Error(`row ${row.rowNumber} did not read back`);
        total += amount.fen;
        count += 1;
      }
      if (count !== rows) throw new Error(`read ${count} rows, wrote ${rows}`);
      return `Σ ${total} fen`;
    });
  }
  // The part of the XLSX read spent rewriting the sheet as pure ASCII for exceljs (xlsx-armor.ts).
  await measure('xlsx sheet ascii-armour only', async () => {
    const entries = (await zipEntries({ path: xlsxPath })) ?? [];
    const sheet = entries.find((entry) => entry.name.startsWith('xl/worksheets/'));
    if (!sheet) throw new Error('no sheet in the workbook');
    const armoured = await asciiArmoredEntry({ path: xlsxPath }, sheet);
    return `${Math.round((armoured?.length ?? 0) / 2 ** 20)} MiB deflated`;
  });
} finally {
  clearInterval(sampler);
  await rm(dir, { recursive: true, force: true });
}
