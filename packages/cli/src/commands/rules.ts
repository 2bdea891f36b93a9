import { Command } from 'commander';
import { type AuditTarget, auditCall } from './audit-client';

/**
 * The last line of `rules run`: how many warnings (预警) the rules found, how many are new and how
 * many were raised by an earlier run; a dry run records none of them.
 */
export function runSummary(found: number, raised: number, known: number, dryRun: boolean): string {
  return dryRun
    ? `试运行：共发现 ${found} 条预警（${known} 条此前已记录），未记录任何内容`
    : `共发现 ${found} 条预警：本次新记录 ${raised} 条，此前已记录 ${known} 条`;
}

/** `fundtrace rules …`: list rule versions, run them over a partition's history now. */
export function rulesCommand(): Command {
  const rules = new Command('rules').description(
    'warning rules (预警规则): list versions, run over the books',
  );
  const target = (cmd: Command) =>
    cmd.option('--url <url>', 'audit-api base URL').option('--token <token>', 'bearer token of an inspector');

  target(rules.command('list').description('every rule version and its defaults')).action(
    async (o: AuditTarget) => {
      const body = await auditCall<{
        rules: { id: string; version: number; latest: boolean; description: string }[];
      }>(o, '/v1/rules');
      for (const r of body.rules)
        process.stdout.write(`${r.id}@${r.version}${r.latest ? '（最新）' : ''}  ${r.description}\n`);
    },
  );

  target(
    rules
      .command('run')
      .description(
        'run rules over a partition as of a date; raises only findings not yet raised (a re-run adds nothing)',
      )
      .argument('<partition>')
      .option('--as-of <date>', 'business date deadlines are judged against (default: today)')
      .option('--rule <id[@version]...>', 'rules to run (default: the latest of each)')
      .option('--dry-run', 'report the findings, append nothing', false),
  ).action(
    async (partition: string, o: AuditTarget & { asOf?: string; rule?: string[]; dryRun: boolean }) => {
      const body = await auditCall<{
        raised: unknown[];
        known: unknown[];
        findings: { findingId: string; summary: string }[];
      }>(o, '/v1/rules/run', {
        partition,
        dryRun: o.dryRun,
        ...(o.asOf ? { asOf: o.asOf } : {}),
        ...(o.rule
          ? {
              rules: o.rule.map((text) => {
                const [id, version] = text.split('@');
                return { id, ...(version ? { version: Number(version) } : {}) };
              }),
            }
          : {}),
      });
      for (const f of body.findings) process.stdout.write(`${f.findingId}  ${f.summary}\n`);
      process.stdout.write(
        `${runSummary(body.findings.length, body.raised.length, body.known.length, o.dryRun)}\n`,
      );
    },
  );
  return rules;
}
