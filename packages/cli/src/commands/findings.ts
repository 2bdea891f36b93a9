import { randomUUID } from 'node:crypto';
import { audit } from '@fundtrace/events';
import { parseYuan } from '@fundtrace/money';
import { Command, Option } from 'commander';
import { UsageError } from '../context';
import {
  closeResolutionLabels,
  findingStatusName,
  findingStepLabels,
  reviewOutcomeLabels,
  severityName,
  yuanProblem,
} from '../words';
import { type AuditTarget, auditCall, yuanText } from './audit-client';

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

interface FindingDetail extends FindingRow {
  reviewOutcome: string | null;
  resolution: string | null;
  closedOn: string | null;
  subjects: { context: string; partition: string; entity: string; id: string }[];
  evidence: { stream: string; seq: number; type: string }[];
  history: { seq: number; type: string; recordedAt: string; actor: string }[];
}

/** A finding in `findings list`: id, where it stands, severity, the day raised, what it says. */
export function findingLine(
  f: Pick<FindingRow, 'findingId' | 'status' | 'severity' | 'raisedOn' | 'summary'>,
) {
  return `${f.findingId}  ${findingStatusName(f.status)}  ${severityName(f.severity)}  ${f.raisedOn}  ${f.summary}`;
}

/** What a finding is about, by the glossary's word for the entity; an entity it does not know as it is. */
const entityLabels: Readonly<Record<string, string>> = {
  household: '户',
  payment: '补贴发放',
  account: '账户',
  tranche: '资金批次',
  project: '项目',
  allocation: '资金下达',
  disbursement: '拨付',
  notice: '公示',
  objection: '异议',
};

/** The steps of a finding's history, as the inspector names them. */
const historyLabels: Readonly<Record<string, string>> = {
  FindingRaised: '预警',
  FindingReviewed: '复核',
  FindingTraced: '溯源',
  FindingRectified: '整改',
  FindingClosed: '销号',
  FindingReopened: '重新打开',
};

const label = (labels: Readonly<Record<string, string>>, code: string) => labels[code] ?? code;

/** `findings show`: one finding for the inspector, every line in Chinese; `--json` as audit-api answers. */
export function findingLines(f: FindingDetail): string[] {
  const lines = [
    `预警 ${f.findingId}`,
    `  规则：${f.ruleId}@${f.ruleVersion}`,
    `  严重程度：${severityName(f.severity)}`,
    `  状态：${findingStatusName(f.status)}`,
    `  发现日期：${f.raisedOn}`,
    `  摘要：${f.summary}`,
  ];
  if (f.reviewOutcome !== null) lines.push(`  复核结论：${label(reviewOutcomeLabels, f.reviewOutcome)}`);
  if (f.resolution !== null) lines.push(`  销号方式：${label(closeResolutionLabels, f.resolution)}`);
  if (f.recoveredFen !== '0') lines.push(`  追回金额：${yuanText(f.recoveredFen)} 元`);
  if (f.closedOn !== null) lines.push(`  销号日期：${f.closedOn}`);
  for (const s of f.subjects)
    lines.push(`  涉及：${label(entityLabels, s.entity)} ${s.id}（${s.partition}）`);
  for (const e of f.evidence) lines.push(`  证据：${e.stream} 第 ${e.seq} 条（${e.type}）`);
  lines.push(`  处理记录 ${f.history.length} 条：`);
  for (const h of f.history)
    lines.push(
      `    ${h.recordedAt}  ${label(historyLabels, h.type)}  ${h.actor}（${h.type}，第 ${h.seq} 条）`,
    );
  return lines;
}

/** A step recorded: which, on which finding, where in the audit log; a repeat records nothing. */
export function stepRecorded(
  step: string,
  findingId: string,
  partition: string,
  result: { seq: number; duplicate: boolean },
): string {
  const done = result.duplicate ? '此前已记录，本次未重复记录' : '已记录';
  return `${label(findingStepLabels, step)}${done}：预警 ${findingId}，AUDIT_${partition} 第 ${result.seq} 条`;
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
      for (const f of body.findings) process.stdout.write(`${findingLine(f)}\n`);
      process.stdout.write(`共 ${body.findings.length} 条预警\n`);
    },
  );

  target(
    findings
      .command('show')
      .argument('<partition>')
      .argument('<findingId>')
      .option('--json', 'print JSON (as audit-api answers)', false),
  ).action(async (partition: string, findingId: string, o: AuditTarget & { json: boolean }) => {
    const body = await auditCall<FindingDetail>(
      o,
      `/v1/partitions/${encodeURIComponent(partition)}/findings/${encodeURIComponent(findingId)}`,
    );
    if (o.json) process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    else for (const line of findingLines(body)) process.stdout.write(`${line}\n`);
  });

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
      process.stdout.write(`${stepRecorded(name, findingId, partition, result)}\n`);
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
      if (!parsed.ok) throw new UsageError(`--recovered：${yuanProblem(parsed.code, o.recovered ?? '0')}`);
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
