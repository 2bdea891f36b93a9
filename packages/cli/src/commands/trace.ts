import { existsSync, readFileSync, statSync } from 'node:fs';
import { type InclusionBundle, verifyBundle } from '@fundtrace/merkle';
import { Command } from 'commander';
import { UsageError } from '../context';
import { paymentStatusName, purposeName } from '../words';
import { type AuditTarget, auditCall, auditDownload, yuanText } from './audit-client';
import { readVerifierKey } from './verify';

/** The trace evidence files audit-api serves; checked here event by event. */
export const traceEvidenceFormat = 'fundtrace-trace-evidence/v1';
/** A trace evidence file of 5,000 events with their bundles stays under this (audit-api's own bound). */
export const traceEvidenceBytesMax = 64 * 1024 * 1024;

interface TraceBody {
  partition: string;
  householdId: string;
  paidFen: string;
  payments: {
    paymentId: string;
    programmeCode: string;
    period: string;
    amountFen: string;
    status: string;
    instructedOn: string;
    settledOn: string | null;
    returnedOn: string | null;
    roots: {
      tranche: { partition: string; documentNumber: string; fundSource: string };
      tracedFen: string;
    }[];
    hops: {
      depth: number;
      parent: { partition: string; trancheId: string; documentNumber: string; purpose: string };
      tracedFen: string;
    }[];
  }[];
}

type PaymentTrace = TraceBody['payments'][number];

/**
 * A payment's headline in a household trace: the date beside the status is the day of that status
 * (settled → the bank's settlement day, returned → the return), not always the instruction's.
 */
export function paymentLine(
  p: Pick<
    PaymentTrace,
    | 'paymentId'
    | 'programmeCode'
    | 'period'
    | 'amountFen'
    | 'status'
    | 'instructedOn'
    | 'settledOn'
    | 'returnedOn'
  >,
): string {
  const on = p.status === 'settled' ? p.settledOn : p.status === 'returned' ? p.returnedOn : p.instructedOn;
  const when = on ?? p.instructedOn;
  const instructed = when === p.instructedOn ? '' : `（发起于 ${p.instructedOn}）`;
  return `${p.paymentId} ${p.programmeCode} ${p.period} ${yuanText(p.amountFen)} 元 ${paymentStatusName(p.status)} ${when}${instructed}`;
}

/**
 * A household trace's first line. audit-api's paidFen counts instructed payments with settled ones;
 * "1,710.00 元 paid" over two payments still awaiting the bank told an inspector they had arrived:
 * what is 已到账 and what is still 发放中 are said apart (the notice board's words for both).
 */
export function householdHeadline(
  partition: string,
  body: Pick<TraceBody, 'householdId' | 'paidFen'> & {
    payments: readonly Pick<TraceBody['payments'][number], 'status' | 'amountFen'>[];
  },
): string {
  const sum = (status: string) =>
    body.payments.filter((p) => p.status === status).reduce((a, p) => a + BigInt(p.amountFen), 0n);
  const awaiting = sum('instructed');
  const head = `户 ${body.householdId}（${partition}）：补贴发放 ${body.payments.length} 笔`;
  if (awaiting === 0n) return `${head}，${paymentStatusName('settled')} ${yuanText(body.paidFen)} 元`;
  return `${head}，共 ${yuanText(body.paidFen)} 元，其中${paymentStatusName('settled')} ${yuanText(sum('settled').toString())} 元、${paymentStatusName('instructed')} ${yuanText(awaiting.toString())} 元`;
}

/**
 * An allocation trace's figures by their Chinese terms (the glossary's; returned and reversed as a
 * payment's status says them), in 元.
 */
export const allocationFigures = [
  ['issuedFen', '下达'],
  ['receivedFen', '到账'],
  ['inTransitFen', '在途'],
  ['paidFen', '发放到户'],
  ['disbursedFen', '拨付'],
  ['unspentFen', '未支出'],
  ['onwardInTransitFen', '下级在途'],
  ['returnedFen', paymentStatusName('returned')],
  ['reversedFen', paymentStatusName('reversed')],
] as const;

/** One step up a payment's lineage: the parent tranche's level, 文号, purpose by name, and the share. */
export function hopLine(h: Pick<PaymentTrace['hops'][number], 'parent' | 'tracedFen'>): string {
  const { partition, documentNumber, purpose, trancheId } = h.parent;
  return `← ${partition} ${documentNumber}（用途：${purposeName(purpose)}，资金批次 ${trancheId}）${yuanText(h.tracedFen)} 元`;
}

/** Padded to a terminal's columns: a Chinese character takes two. */
function padLabel(label: string, columns: number): string {
  const width = [...label].reduce((w, c) => w + (c.charCodeAt(0) > 0x2e80 ? 2 : 1), 0);
  return label + ' '.repeat(Math.max(0, columns - width));
}

export function allocationLines(body: Record<string, unknown>): string[] {
  return allocationFigures.flatMap(([field, label]) => {
    const v = body[field];
    return typeof v === 'string' ? [`${padLabel(label, 12)} ${yuanText(v).padStart(18)} 元`] : [];
  });
}

interface EvidenceFile {
  format: string;
  events: { stream: string; seq: number; why: string; bundle: InclusionBundle }[];
  pending: { stream: string; seq: number; why: string }[];
}

/**
 * Checks a trace evidence file offline: every cited event's inclusion bundle verifies with the
 * key, sits at the sequence the file claims, and comes from the stream it names. Returns the
 * failures (empty: all verified).
 */
export function verifyTraceEvidence(file: EvidenceFile, key: string): string[] {
  if (file.format !== traceEvidenceFormat || !Array.isArray(file.events)) {
    return [`not a ${traceEvidenceFormat} file`];
  }
  const failures: string[] = [];
  for (const e of file.events) {
    const result = verifyBundle(e.bundle, key);
    if (!result.ok) {
      failures.push(`${e.stream}#${e.seq}: ${result.reason}: ${result.message}`);
      continue;
    }
    if (result.kind !== 'inclusion') {
      failures.push(`${e.stream}#${e.seq}: not an inclusion bundle`);
      continue;
    }
    if (result.leafIndex !== e.seq - 1) {
      failures.push(`${e.stream}#${e.seq}: the bundle proves another position (leaf ${result.leafIndex})`);
      continue;
    }
    if (!result.origin.endsWith(`/${e.stream}`)) {
      failures.push(`${e.stream}#${e.seq}: checkpoint of another log (${result.origin})`);
    }
  }
  for (const p of file.pending ?? [])
    failures.push(`${p.stream}#${p.seq}: not yet in a signed checkpoint (${p.why})`);
  return failures;
}

/** `fundtrace trace …`: follow money up from a household or down from an allocation, and check evidence. */
export function traceCommand(): Command {
  const trace = new Command('trace').description(
    'trace money: household up to its 文号, allocation down to households',
  );
  const target = (cmd: Command) =>
    cmd.option('--url <url>', 'audit-api base URL').option('--token <token>', 'bearer token of an inspector');

  target(
    trace
      .command('household')
      .description("a household's payments, each up to its root allocations")
      .argument('<partition>', 'county code')
      .argument('<householdId>')
      .option('--evidence <file>', 'also download the evidence bundle (proofs for every cited event)')
      .option('--svg <file>', 'also download the flow diagram')
      .option('--json', 'print the trace as JSON', false),
  ).action(
    async (
      partition: string,
      householdId: string,
      o: AuditTarget & { evidence?: string; svg?: string; json: boolean },
    ) => {
      const base = `/v1/partitions/${encodeURIComponent(partition)}/households/${encodeURIComponent(householdId)}`;
      const body = await auditCall<TraceBody>(o, `${base}/trace`);
      if (o.json) process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
      else {
        process.stdout.write(`${householdHeadline(partition, body)}\n`);
        for (const p of body.payments) {
          process.stdout.write(`  ${paymentLine(p)}\n`);
          for (const h of [...p.hops].sort((a, b) => b.depth - a.depth)) {
            process.stdout.write(`    ${hopLine(h)}\n`);
          }
        }
      }
      if (o.evidence) {
        const bytes = await auditDownload(o, `${base}/trace/evidence`, o.evidence);
        process.stderr.write(
          `证据已写入 ${o.evidence}（${bytes} 字节）；离线核验：fundtrace trace verify ${o.evidence} --key <key>\n`,
        );
      }
      if (o.svg) await auditDownload(o, `${base}/trace.svg`, o.svg);
    },
  );

  target(
    trace
      .command('allocation')
      .description('an allocation (资金下达) down to households, units, unspent and in transit')
      .argument('<partition>', 'code of the issuing partition')
      .argument('<allocationId>')
      .option('--svg <file>', 'also download the flow diagram')
      .option('--json', 'print the trace as JSON', false),
  ).action(
    async (partition: string, allocationId: string, o: AuditTarget & { svg?: string; json: boolean }) => {
      const base = `/v1/partitions/${encodeURIComponent(partition)}/allocations/${encodeURIComponent(allocationId)}`;
      const body = await auditCall<
        Record<string, unknown> & { households: { householdId: string; paidFen: string }[] }
      >(o, `${base}/trace`);
      if (o.json) process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
      else {
        for (const line of allocationLines(body)) process.stdout.write(`${line}\n`);
        process.stdout.write(`发放到 ${body.households.length} 户\n`);
      }
      if (o.svg) await auditDownload(o, `${base}/trace.svg`, o.svg);
    },
  );

  trace
    .command('verify')
    .description('check a trace evidence file offline: every cited event is in the signed log')
    .argument('<file>', 'evidence file from `trace household --evidence`')
    .requiredOption('--key <key>', 'verifier key "<name>+<key id>+<key>", or a file containing it')
    .action((path: string, o: { key: string }) => {
      if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`no such file: ${path}`);
      if (statSync(path).size > traceEvidenceBytesMax)
        throw new UsageError(`${path} is larger than ${traceEvidenceBytesMax} bytes`);
      const key = readVerifierKey(o.key);
      let file: EvidenceFile;
      try {
        file = JSON.parse(readFileSync(path, 'utf8')) as EvidenceFile;
      } catch (error) {
        process.stderr.write(`not verified: not JSON: ${(error as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      const failures = verifyTraceEvidence(file, key);
      if (failures.length === 0) {
        process.stdout.write(`verified: all ${file.events.length} cited events are in the signed logs\n`);
        return;
      }
      for (const f of failures) process.stderr.write(`not verified: ${f}\n`);
      process.exitCode = 1;
    });
  return trace;
}
