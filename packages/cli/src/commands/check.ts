import { checkBooks, quarantinedEvents } from '@fundtrace/books';
import { assertIdentifier, createDb, type Database, getActiveSchema } from '@fundtrace/db';
import { Command } from 'commander';
import { UsageError } from '../context';

/**
 * What each of the books' checks asserts, in Chinese for the person who runs `check` (0135); the
 * books name them in English for `--json` and the projector's logs. A check it does not know is
 * shown with the books' own words.
 */
export const checkRuleLabels: Readonly<Record<string, string>> = {
  entries_balance: '每个事件的借方分录合计等于贷方分录合计',
  no_negative_balance: '没有余额为负的账户（名义来源 @external、@received 除外）',
  balances_equal_entries: '每个账户的余额等于其分录之和',
  tranches_equal_entries: '每个资金批次的余额等于其分录之和，且在 0 与批次金额之间',
  flows_within_tranche: '从一个资金批次流出的资金（扣除退回该批次的部分）不超过批次金额',
  payments_rooted: '每笔补贴发放沿每条来源路径都能追溯到一笔源头资金下达',
  allocations_received_within_issued: '资金下达先下达后到账，到账金额不超过下达金额',
};

/** One check's line: 通过 or 不通过, its name, what it asserts, and how many violations. */
export function checkLine(result: { name: string; rule: string; violations: number }): string {
  const mark = result.violations === 0 ? '通过  ' : '不通过';
  const rule = checkRuleLabels[result.name] ?? result.rule;
  return `${mark} ${result.name}：${rule}${result.violations === 0 ? '' : `（${result.violations} 处违反）`}`;
}

/**
 * `fundtrace check`: runs the projector's invariants over the whole database (every event's
 * entries balance, no balance below zero, tranche remainders and flows within their amounts,
 * every payment traced to a root allocation). Exit code 1 when any check finds a violation.
 */
export function checkCommand(): Command {
  return new Command('check')
    .description('check the invariants of the books over the whole database')
    .option('--schema <name>', 'read-model schema to check (default: the active one)')
    .option('--json', 'print the results as JSON')
    .action(async (options: { schema?: string; json?: boolean }) => {
      const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/fundtrace';
      const admin = createDb<unknown>(url, { max: 1, applicationName: 'fundtrace-check' });
      let schema: string | null;
      try {
        schema = options.schema ?? (await getActiveSchema(admin));
      } finally {
        await admin.destroy();
      }
      if (schema === null)
        throw new UsageError('没有在用的读模型 schema：请先启动 projector，或用 --schema 指定。');
      try {
        assertIdentifier('schema', schema);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const db = createDb<Database>(url, { schema, max: 1, applicationName: 'fundtrace-check' });
      try {
        const results = await checkBooks(db);
        const quarantined = await quarantinedEvents(db);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ schema, results, quarantined }, null, 2)}\n`);
        } else {
          process.stdout.write(`检查账目（读模型 ${schema}）\n`);
          for (const result of results) {
            process.stdout.write(`${checkLine(result)}\n`);
            for (const example of result.examples) process.stdout.write(`       ${example}\n`);
          }
          // Not a violation: each is an operator's recorded decision, shown so none goes unnoticed.
          process.stdout.write(`已隔离的事件（fundtrace quarantine）：${quarantined.length} 条\n`);
          for (const q of quarantined) {
            process.stdout.write(
              `  ${q.stream} #${q.seq} ${q.claimedType ?? '（无类型）'} ${q.bytes} 字节，叶哈希 ${q.leafHash}\n` +
                `       ${q.by} 于 ${q.at} 隔离（${q.quarantine}）：${q.reason}\n` +
                `       无法解码的原因：${q.decodeError}\n`,
            );
          }
        }
        if (results.some((result) => result.violations > 0)) process.exitCode = 1;
      } finally {
        await db.destroy();
      }
    });
}
