import { clientIdSchema, rfc3339Schema } from '@fundtrace/events';
import { type App, currentUser, errorResponseSchema, requireRole } from '@fundtrace/service-kit';
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  bankResultRowSchema,
  type CommandType,
  commandSchemas,
  type LedgerCommand,
} from '../ledger/commands';
import { bankResultRowsMax, rosterRowsMax } from '../ledger/limits';
import { rejectionMessage } from '../ledger/rejection-messages';
import { fastRosterRow, rosterRowSchema } from '../ledger/roster-rows';
import type { CommandResult, LedgerWriter } from '../writer/writer';
import { ledgerRejections, partitionBusy, type Writers, writerFor } from './shared';

/**
 * One POST route per command under /v1/partitions/:partition. Every body carries
 * a client-generated `commandId` (the idempotency key); a repeat with the same
 * content answers 200 with the original result, a first execution 201.
 */

/**
 * Largest roster request body. A 100,000-row roster (rosterRowsMax) in JSON is
 * about 15 MB; twice that refuses a runaway upload before it is parsed.
 */
export const rosterBodyBytesMax = 32 * 1024 * 1024;

const commandFields = {
  commandId: clientIdSchema.describe('Client-generated id; repeat it to retry safely (idempotency key).'),
  correlationId: clientIdSchema
    .optional()
    .describe('Ties the events of one business flow together (an import).'),
  occurredAt: rfc3339Schema.optional().describe('Business time, may be back-dated (补发); default: now.'),
};

const partitionParams = z.object({ partition: z.string().regex(/^[0-9]{6}$/) });
const dryRunQuery = z.object({
  dryRun: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .describe('true: decide and report (errors included), append nothing.'),
});

export const commandResultSchema = z.object({
  commandId: z.string(),
  duplicate: z.boolean(),
  dryRun: z.boolean(),
  eventCount: z.number(),
  firstSeq: z.number().nullable(),
  lastSeq: z.number().nullable(),
});

const commandRoutes: ReadonlyArray<{ type: CommandType; url: string; summary: string; tag: string }> = [
  {
    type: 'OpenAccount',
    url: 'accounts',
    summary: 'Open an account: pool (专户), project or implementing unit',
    tag: 'accounts',
  },
  {
    type: 'IssueAllocation',
    url: 'allocations',
    summary: 'Issue an allocation to a lower level (资金下达)',
    tag: 'allocations',
  },
  {
    type: 'ReceiveAllocation',
    url: 'receipts',
    summary: 'Receive an allocation (到账), from a higher level or from outside',
    tag: 'allocations',
  },
  {
    type: 'IntegrateFunds',
    url: 'integrations',
    summary: 'Integrate named tranches under a plan line (统筹整合)',
    tag: 'allocations',
  },
  {
    type: 'ApprovePlan',
    url: 'plans',
    summary: 'Approve a plan (规划/实施方案); total must equal its lines',
    tag: 'plans',
  },
  { type: 'AdjustPlan', url: 'plan-adjustments', summary: 'Adjust a plan’s lines and total', tag: 'plans' },
  {
    type: 'ApproveProject',
    url: 'projects',
    summary: 'Approve a project against a plan line (项目库)',
    tag: 'projects',
  },
  {
    type: 'AdjustProject',
    url: 'project-adjustments',
    summary: 'Adjust a project’s budget or implementing unit',
    tag: 'projects',
  },
  {
    type: 'RecordAcceptance',
    url: 'acceptances',
    summary: 'Record a project’s acceptance (验收)',
    tag: 'projects',
  },
  {
    type: 'EarmarkFunds',
    url: 'earmarks',
    summary: 'Earmark money from a pool to a project (资金安排)',
    tag: 'projects',
  },
  {
    type: 'DisburseFunds',
    url: 'disbursements',
    summary: 'Disburse to the implementing unit (拨付; 报账制 needs acceptance)',
    tag: 'projects',
  },
  {
    type: 'InstructPayment',
    url: 'payments',
    summary: 'Instruct one household payment (funds reserved)',
    tag: 'payments',
  },
  {
    type: 'SettlePayment',
    url: 'payment-settlements',
    summary: 'Record the bank’s settlement of a payment',
    tag: 'payments',
  },
  {
    type: 'ReturnPayment',
    url: 'payment-returns',
    summary: 'Record a payment the bank returned (money back to its tranches)',
    tag: 'payments',
  },
  {
    type: 'ReverseMovement',
    url: 'reversals',
    summary: 'Reverse a booked movement (冲正) with a reason',
    tag: 'corrections',
  },
  {
    type: 'CloseFiscalYear',
    url: 'year-closings',
    summary: 'Close a fiscal year, carrying remainders over (结转)',
    tag: 'corrections',
  },
  {
    type: 'PublishNotice',
    url: 'notices',
    summary:
      'Publish a notice (公示) with its period and, for a roster or programme, its list of proposed beneficiaries',
    tag: 'notices',
  },
  {
    type: 'FileObjection',
    url: 'objections',
    summary: 'File an objection (异议) to a notice (the notice board sends these)',
    tag: 'notices',
  },
  {
    type: 'ResolveObjection',
    url: 'objection-resolutions',
    summary: 'Resolve an objection: upheld or dismissed',
    tag: 'notices',
  },
  {
    type: 'CloseNotice',
    url: 'notice-closings',
    summary: 'Close a notice after its period with no open objection',
    tag: 'notices',
  },
];

/**
 * A dry run appends nothing: while NATS is away it is decided on the writer's state in memory
 * (the writer knows NATS is away), so service-kit's natsPlugin lets it through; a command that
 * would append is refused with 503 nats_unavailable.
 */
const dryRunNeedsNoNats = {
  natsOptional: (request: FastifyRequest) => (request.query as { dryRun?: boolean }).dryRun === true,
};

interface Envelope {
  commandId: string;
  correlationId?: string | undefined;
  occurredAt?: string | undefined;
}

async function run(
  writers: Writers,
  request: FastifyRequest,
  reply: FastifyReply,
  partition: string,
  envelope: Envelope,
  command: LedgerCommand,
  dryRun: boolean,
  /** More fields for the answer, read after the command ran (a roster's payment count). */
  more: (result: CommandResult, writer: LedgerWriter) => Promise<object> = async () => ({}),
) {
  const writer = writerFor(writers, partition);
  const user = currentUser(request);
  try {
    const outcome = await writer.execute({
      commandId: envelope.commandId,
      correlationId: envelope.correlationId,
      occurredAt: envelope.occurredAt ?? null,
      actor: { userId: user.sub, role: user.role, org: user.org },
      command,
      dryRun,
    });
    if (!outcome.ok) throw ledgerRejections.reject(outcome.code, outcome.message, outcome.details);
    const body = { ...outcome.result, ...(await more(outcome.result, writer)) };
    // 201 only when this request appended: a repeat, a dry run, or a bank file whose every result
    // was recorded before appends nothing.
    const appended = !outcome.result.duplicate && !outcome.result.dryRun && outcome.result.eventCount > 0;
    return reply.status(appended ? 201 : 200).send(body);
  } catch (error) {
    const busy = partitionBusy(error, reply);
    if (busy) return busy;
    throw error;
  }
}

const errorResponses = {
  400: errorResponseSchema,
  401: errorResponseSchema,
  403: errorResponseSchema,
  404: errorResponseSchema,
  409: errorResponseSchema,
  422: errorResponseSchema,
  503: errorResponseSchema,
};
const responses = { 200: commandResultSchema, 201: commandResultSchema, ...errorResponses };

/**
 * A roster's answer also says how many payments it booked: every row, or the
 * request was refused. A client that meant to send more rows than that (a body
 * serialised before its last rows were added) sees it in the answer.
 */
export const rosterResultSchema = commandResultSchema.extend({
  rowCount: z.number().describe('Rows in the request.'),
  paymentCount: z
    .number()
    .describe('PaymentInstructed events of this roster in the books (for a dry run: that would be booked).'),
});
const rosterResponses = { 200: rosterResultSchema, 201: rosterResultSchema, ...errorResponses };
export function registerCommandRoutes(app: App, writers: Writers): void {
  const guard = requireRole(['finance'], {
    partition: (r) => (r.params as { partition?: string }).partition,
  });
  for (const route of commandRoutes) {
    const body = (commandSchemas[route.type] as z.ZodObject).extend(commandFields);
    app.post(
      `/v1/partitions/:partition/${route.url}`,
      {
        onRequest: guard,
        config: dryRunNeedsNoNats,
        // A notice carries its list (公示名单): as many lines as a roster has rows.
        ...(route.type === 'PublishNotice' ? { bodyLimit: rosterBodyBytesMax } : {}),
        schema: {
          summary: route.summary,
          description: `Command \`${route.type}\`.`,
          tags: [route.tag],
          security: [{ bearerAuth: [] }],
          params: partitionParams,
          querystring: dryRunQuery,
          body,
          response: responses,
        },
      },
      async (request, reply) => {
        const { commandId, correlationId, occurredAt, ...data } = request.body as Envelope &
          Record<string, unknown>;
        const command = { type: route.type, data } as LedgerCommand;
        return run(
          writers,
          request,
          reply,
          request.params.partition,
          { commandId, correlationId, occurredAt },
          command,
          request.query.dryRun,
        );
      },
    );
  }
  registerRosterRoute(app, writers, guard);
  registerBankResultsRoute(app, writers, guard);
}

const rosterSchema = commandSchemas.SubmitRoster;
const rosterHeadSchema = rosterSchema.omit({ rows: true }).extend(commandFields);

/** One malformed row (a roster's, a bank file's), reported by its spreadsheet row number when it has one. */
export interface RowProblem {
  row: number | null;
  index: number;
  code: 'invalid_row';
  message: string;
}

type Parsed<H, R> =
  | { ok: true; envelope: Envelope; head: H; rows: R[] }
  | { ok: false; problems: RowProblem[]; headIssues: string[] };

/**
 * Validates a body of many rows as a whole, row by row, so every bad row is reported with its row
 * number (zod alone would report array indexes and stop at none): the head by `headSchema`, each
 * row by `fast` when it vouches for it, else by `rowSchema`.
 */
function parseRows<H extends Envelope, R>(
  body: unknown,
  o: {
    headSchema: z.ZodType<H>;
    rowSchema: z.ZodType<R>;
    rowsMax: number;
    /** What a body is, in "发放花名册至少需要一行". */
    noun: string;
    fast?: (value: unknown) => R | undefined;
  },
): Parsed<Omit<H, keyof Envelope>, R> {
  const raw = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const { rows: rawRows, ...headRaw } = raw;
  const head = o.headSchema.safeParse(headRaw);
  const headIssues = head.success
    ? []
    : head.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  const problems: RowProblem[] = [];
  const rows: R[] = [];
  if (!Array.isArray(rawRows) || rawRows.length === 0) {
    headIssues.push(`rows：${o.noun}至少需要一行`);
  } else if (rawRows.length > o.rowsMax) {
    headIssues.push(`rows：${o.noun}共 ${rawRows.length} 行，超过上限 ${o.rowsMax} 行；请拆分成几个文件`);
  } else {
    rawRows.forEach((value, index) => {
      const fast = o.fast?.(value);
      if (fast !== undefined) {
        rows.push(fast);
        return;
      }
      const parsed = o.rowSchema.safeParse(value);
      if (parsed.success) {
        rows.push(parsed.data);
        return;
      }
      const rowNumber = (value as { row?: unknown } | null)?.row;
      const row = Number.isSafeInteger(rowNumber) ? (rowNumber as number) : null;
      // The field's name and the schema's words stay as the API's own (they name the JSON field).
      const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      problems.push({
        row,
        index,
        code: 'invalid_row',
        message: `${row === null ? `第 ${index + 1} 个元素` : `第 ${row} 行`}格式有误（${issues}）；请按接口说明改正该行。`,
      });
    });
  }
  if (!head.success || problems.length > 0 || headIssues.length > 0)
    return { ok: false, problems, headIssues };
  const { commandId, correlationId, occurredAt, ...rest } = head.data;
  return { ok: true, envelope: { commandId, correlationId, occurredAt }, head: rest, rows };
}

/**
 * Validates a roster body as a whole, row by row (parseRows); the common well-formed row without
 * zod's generic object parse (fastRosterRow).
 */
export function parseRoster(
  body: unknown,
):
  | { ok: true; envelope: Envelope; data: z.output<typeof rosterSchema> }
  | { ok: false; problems: RowProblem[]; headIssues: string[] } {
  const parsed = parseRows(body, {
    headSchema: rosterHeadSchema,
    rowSchema: rosterRowSchema,
    rowsMax: rosterRowsMax,
    noun: '发放花名册',
    fast: fastRosterRow,
  });
  if (!parsed.ok) return parsed;
  return { ok: true, envelope: parsed.envelope, data: { ...parsed.head, rows: parsed.rows } };
}

/** A body of rows refused before it is decided: every malformed row, with the head's problems. */
function malformed(
  code: 'roster_rows_invalid' | 'bank_results_invalid',
  parsed: { problems: RowProblem[]; headIssues: string[] },
) {
  return ledgerRejections.reject(
    code,
    rejectionMessage(code, {
      case: 'malformed',
      badRows: parsed.problems.length,
      headIssues: parsed.headIssues,
    }),
    { errorCount: parsed.problems.length, errors: parsed.problems, headIssues: parsed.headIssues },
  );
}

/** The body is validated in the handler, row by row, to report row numbers (see parseRows). */
const bodyInHandler: NonNullable<RouteShorthandOptions['validatorCompiler']> = (req) =>
  req.httpPart === 'body'
    ? (value: unknown) => ({ value })
    : validatorCompiler(req as unknown as Parameters<typeof validatorCompiler>[0]);

function registerRosterRoute(app: App, writers: Writers, guard: ReturnType<typeof requireRole>): void {
  app.post(
    '/v1/partitions/:partition/rosters',
    {
      onRequest: guard,
      config: dryRunNeedsNoNats,
      bodyLimit: rosterBodyBytesMax,
      validatorCompiler: bodyInHandler,
      schema: {
        summary: `Submit a payment roster (发放花名册) of up to ${rosterRowsMax} rows, validated as a whole`,
        description:
          'Every row is checked before anything is appended; one bad row refuses the roster and the answer lists every bad row with its row number and reason (`roster_rows_invalid`).',
        tags: ['payments'],
        security: [{ bearerAuth: [] }],
        params: partitionParams,
        querystring: dryRunQuery,
        body: rosterSchema.extend(commandFields),
        response: rosterResponses,
      },
    },
    async (request, reply) => {
      const parsed = parseRoster(request.body);
      if (!parsed.ok) throw malformed('roster_rows_invalid', parsed);
      const command: LedgerCommand = { type: 'SubmitRoster', data: parsed.data };
      const { rosterId, rows } = parsed.data;
      return run(
        writers,
        request,
        reply,
        request.params.partition,
        parsed.envelope,
        command,
        request.query.dryRun,
        async (result, writer) => ({
          rowCount: rows.length,
          // A roster's events are its RosterSubmitted and one PaymentInstructed per row.
          paymentCount: result.dryRun
            ? result.eventCount - 1
            : await writer.read((state) => state.rosters.get(rosterId)?.instructed ?? 0),
        }),
      );
    },
  );
}

/**
 * A bank result file's answer also counts its rows: those that say settled (成功) and returned
 * (失败), and those whose payment already had that result (no event made). A repeat of the same
 * command id answers with the original events and the same counts.
 */
export const bankResultsResultSchema = commandResultSchema.extend({
  rowCount: z.number().describe('Rows in the request.'),
  settledRows: z.number().describe('Rows whose result is a settlement (成功).'),
  returnedRows: z.number().describe('Rows whose result is a return (失败).'),
  alreadyRecorded: z
    .number()
    .describe('Rows whose payment already had that result (recorded before): no event for them.'),
});
const bankResultsResponses = {
  200: bankResultsResultSchema,
  201: bankResultsResultSchema,
  ...errorResponses,
};
const bankResultsHeadSchema = commandSchemas.RecordBankResults.omit({ rows: true }).extend(commandFields);

function registerBankResultsRoute(app: App, writers: Writers, guard: ReturnType<typeof requireRole>): void {
  app.post(
    '/v1/partitions/:partition/bank-results',
    {
      onRequest: guard,
      config: dryRunNeedsNoNats,
      bodyLimit: rosterBodyBytesMax,
      validatorCompiler: bodyInHandler,
      schema: {
        summary: `Record the bank's result file (回盘) of up to ${bankResultRowsMax} rows as one command: each payment settled or returned`,
        description:
          "Every row is checked before anything is appended, with the codes of the single settle and return commands (`payment_not_found`, `payment_not_in_flight`, `date_in_future`, `bank_result_conflict`) and the file's own (`bank_row_mismatch`, `bank_row_payment_twice`, `row_number_duplicate`); one refused row refuses the file and the answer lists every refused row with its row number and reason (`bank_results_invalid`). Accepted, every row's event is appended as one command (`Nats-Msg-Id` `<commandId>:<index>`), so a retry with the same command id appends nothing more. A row whose payment already has the result it gives, as recorded (the same 银行流水号 and date; a return: the same date), is counted as recorded and makes no event; one giving another 银行流水号 or date is `bank_result_conflict` (decision 0134).",
        tags: ['payments'],
        security: [{ bearerAuth: [] }],
        params: partitionParams,
        querystring: dryRunQuery,
        body: commandSchemas.RecordBankResults.extend(commandFields),
        response: bankResultsResponses,
      },
    },
    async (request, reply) => {
      const parsed = parseRows(request.body, {
        headSchema: bankResultsHeadSchema,
        rowSchema: bankResultRowSchema,
        rowsMax: bankResultRowsMax,
        noun: '银行回盘',
      });
      if (!parsed.ok) throw malformed('bank_results_invalid', parsed);
      const { rows } = parsed;
      const command: LedgerCommand = { type: 'RecordBankResults', data: { rows } };
      const settledRows = rows.filter((r) => r.result === 'settled').length;
      return run(
        writers,
        request,
        reply,
        request.params.partition,
        parsed.envelope,
        command,
        request.query.dryRun,
        async (result) => ({
          rowCount: rows.length,
          settledRows,
          returnedRows: rows.length - settledRows,
          // One event per row not recorded before (the same for a repeat: the same rows).
          alreadyRecorded: rows.length - result.eventCount,
        }),
      );
    },
  );
}
