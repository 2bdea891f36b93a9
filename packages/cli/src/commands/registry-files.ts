import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import {
  type ColumnKey,
  generateHouseholds,
  type HouseholdInput,
  householdColumns,
  householdToRows,
} from '@fundtrace/pii';
import { type ColumnSpec, type OutputColumn, writeCsv, writeTemplate, writeXlsx } from '@fundtrace/tabular';

/**
 * The household roster file format for @fundtrace/tabular: one row per person, columns as
 * @fundtrace/pii defines them (Chinese header first, the English key accepted too).
 */

const dateColumns: ReadonlySet<ColumnKey> = new Set(['birthDate', 'registeredOn', 'liftedOn']);

/** Each column's line in the template's 填写说明, also what a clerk may write in a column she got wrong. */
export const columnDescriptions: Readonly<Record<ColumnKey, string>> = {
  householdId: '户编号：同一户的每一行相同',
  villageCode: '12位村级统计用区划代码，须属于本县',
  name: '成员姓名',
  idNumber: '18位居民身份证号码（校验码为X时可填x）',
  relation: '户主、配偶、之子、之女、之儿媳、之女婿、之孙子、之孙女、之父、之母、兄弟姐妹、其他',
  birthDate: '可不填；填写时须与身份证号中的出生日期一致',
  disabilityCategory: '视力、听力、言语、肢体、智力、精神、多重；无残疾不填',
  disabilityGrade: '1–4（一级 … 四级）；与残疾类别同时填写',
  health: '健康、长期慢性病、患有大病、残疾',
  causeOfPoverty:
    '因病、因残、因学、因灾、缺土地、缺水、缺技术、缺劳力、缺资金、交通条件落后、自身发展动力不足、其他',
  registeredOn: '建档立卡日期',
  status: '未脱贫 或 已脱贫',
  liftedOn: '已脱贫户的脱贫日期',
  phone: '手机或带区号的固定电话',
  bank: '开户银行代码或名称（如 ABC / 中国农业银行、RCC / 农村信用合作社）',
  medium: '银行卡 或 存折',
  accountNumber: '一卡通账号，只填在持卡人所在行；银行卡做Luhn校验',
};

export const householdColumnSpecs: readonly ColumnSpec<ColumnKey>[] = householdColumns.map((column) => ({
  field: column.key,
  headers: [column.header, column.key],
  required: column.required,
  kind: dateColumns.has(column.key) ? 'date' : 'text',
  description: columnDescriptions[column.key],
}));

const outputColumns: readonly OutputColumn<ColumnKey>[] = householdColumns.map((column) => ({
  field: column.key,
  header: column.header,
  kind: 'text',
}));

function* rowsOf(households: readonly HouseholdInput[]): Generator<Record<ColumnKey, string>> {
  for (const household of households) {
    for (const cells of householdToRows(household)) {
      yield Object.fromEntries(householdColumns.map((c, i) => [c.key, cells[i]!])) as Record<
        ColumnKey,
        string
      >;
    }
  }
}

/** Writes households as a roster file, CSV or XLSX by the file's extension; returns the row count. */
export async function writeHouseholdsFile(
  path: string,
  households: readonly HouseholdInput[],
): Promise<number> {
  let count = 0;
  const counted = (function* () {
    for (const row of rowsOf(households)) {
      count++;
      yield row;
    }
  })();
  const stream = path.toLowerCase().endsWith('.xlsx')
    ? writeXlsx(counted, outputColumns, { sheetName: '导入数据' })
    : writeCsv(counted, outputColumns);
  await pipeline(stream, createWriteStream(path));
  return count;
}

/** The import template: header row, one example row (a generated, valid household member), 填写说明. */
export async function writeHouseholdTemplate(path: string): Promise<void> {
  const [example] = generateHouseholds({ county: '411325', villages: 1, count: 1, seed: 'template' });
  const [first] = [...rowsOf([example!])];
  await writeTemplate(householdColumnSpecs, first!, path);
}
