import { randomUUID } from 'node:crypto';
import { audit } from '@fundtrace/events';
import { parseYuan } from '@fundtrace/money';
import { Command, Option } from 'commander';
import { UsageError } from '../context';
import { type AuditTarget, auditCall } from './audit-client';

interface FindingRow {
  findingId: string;
  ruleId: string;
  ruleVersion: number;
  severity: string;
  status: string;
  raisedOn: string;
  summary: string;
  recoveredFen: string;
}

/** `fundtrace findings …`: list, show and move findings (预警) through review → trace → rectify → close. */
export function findingsCommand(): Command {
  const findings = new Command('findings').description(
    'warnings (预警): list, show, review, trace, rectify, close, reopen',
  );
  const target = (cmd: Command) =>
    cmd.option('--url <url>', 'audit-api base URL').option('--token <token>', 'bearer token of an inspector');

  target(
    findings
      .command('list')
      .argument('<partition>')
      .option('--status <status>', 'open | reviewed | traced | rectified | closed')
      .option('--rule <ruleId>')
      .option('--severity <severity>', 'low | medium | high')
      .option('--subject <id>', 'findings about this household, payment, project …')
      .option('--json', 'print JSON', false),
  ).action(
    async (
      partition: string,
      o: AuditTarget & { status?: string; rule?: string; severity?: string; subject?: string; json: boolean },
    ) => {
      const query = new URLSearchParams({ limit: '500' });
      if (o.status) query.set('status', o.status);
      if (o.rule) query.set('ruleId', o.rule);
      if (o.severity) query.set('severity', o.severity);
      if (o.subject) query.set('subjectId', o.subject);
      const body = await auditCall<{ findings: FindingRow[] }>(
        o,
        `/v1/partitions/${encodeURIComponent(partition)}/findings?${query}`,
      );
      if (o.json) {
        process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
        return;
      }
      for (const f of body.findings) {
        process.stdout.write(
          `${f.findingId}  ${f.status.padEnd(9)} ${f.severity.padEnd(6)} ${f.raisedOn}  ${f.summary}\n`,
        );
      }
      process.stdout.write(`${body.findings.length} findings\n`);
    },
  );

  target(findings.command('show').argument('<partition>').argument('<findingId>')).action(
    async (partition: string, findingId: string, o: AuditTarget) => {
      const body = await auditCall<unknown>(
        o,
        `/v1/partitions/${encodeURIComponent(partition)}/findings/${encodeURIComponent(findingId)}`,
      );
      process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    },
  );

  const step = (
    name: string,
    description: string,
    extra: (cmd: Command) => Command,
    body: (o: Record<string, string>) => object,
  ) =>
    target(
      extra(
        findings
          .command(name)
          .description(description)
          .argument('<partition>')
          .argument('<findingId>')
          .requiredOption('--note <text>', "the inspector's note for this step")
          .option('--command-id <id>', 'idempotency key (default: a new uuid; reuse it to retry safely)'),
      ),
    ).action(async (partition: string, findingId: string, o: AuditTarget & Record<string, string>) => {
      const result = await auditCall<{ seq: number; duplicate: boolean }>(
        o,
        `/v1/partitions/${encodeURIComponent(partition)}/findings/${encodeURIComponent(findingId)}/${name}`,
        { commandId: o.commandId ?? randomUUID(), note: o.note, ...body(o) },
      );
      process.stdout.write(
        `${name}: ${findingId} at AUDIT_${partition} sequence ${result.seq}${result.duplicate ? ' (already recorded)' : ''}\n`,
      );
    });

  step(
    'review',
    '复核: confirmed, dismissed or needs_trace',
    // The choices are the event's: --help lists them and a typo is refused before any request.
    (c) =>
      c.addOption(
        new Option('--outcome <outcome>', '复核 result').choices(audit.reviewOutcomes).makeOptionMandatory(),
      ),
    (o) => ({ outcome: o.outcome }),
  );
  step(
    'trace',
    '溯源: record the trace to the source',
    (c) => c,
    () => ({}),
  );
  step(
    'rectify',
    '整改: record the rectification and the money recovered',
    (c) =>
      c
        .option('--recovered <yuan>', 'money recovered (追回), in 元', '0')
        .option('--document <文号>', 'rectification notice number'),
    (o) => {
      const parsed = parseYuan(o.recovered ?? '0', { allowZero: true });
      if (!parsed.ok) throw new UsageError(`--recovered: ${parsed.message}`);
      return { recoveredFen: parsed.fen.toString(), ...(o.document ? { documentNumber: o.document } : {}) };
    },
  );
  step(
    'close',
    '销号: rectified, dismissed or referred (移送)',
    (c) =>
      c.addOption(
        new Option('--resolution <resolution>', '销号 as')
          .choices(audit.closeResolutions)
          .makeOptionMandatory(),
      ),
    (o) => ({ resolution: o.resolution }),
  );
  step(
    'reopen',
    'reopen a closed finding',
    (c) => c,
    () => ({}),
  );
  return findings;
}
