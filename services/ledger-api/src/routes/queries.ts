import { ledger } from '@fundtrace/events';
import { type App, errorResponseSchema, requireRole } from '@fundtrace/service-kit';
import { z } from 'zod';
import {
  accountOf,
  accountView,
  noticeOf,
  noticeView,
  paymentLookupView,
  paymentOf,
  paymentsOf,
  paymentView,
  projectOf,
  projectView,
  rosterOf,
  rosterView,
  summaryOf,
  summaryView,
} from '../queries';
import { ledgerRejections, type Writers, writerFor } from './shared';

const id = z.string().min(1).max(96);
const errors = { 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema };

/** What a query names, in the words of a not_found message (decision 0131). */
const queriedThings = {
  account: '账户',
  payment: '补贴发放',
  roster: '发放花名册',
  notice: '公示',
  project: '项目',
} as const;

/**
 * Queries answered from the writer's state (role finance, scoped to the
 * partition). They see every command acknowledged by this instance; the
 * projector's tables serve history, search and reports.
 */
export function registerQueryRoutes(app: App, writers: Writers): void {
  const guard = requireRole(['finance'], {
    partition: (r) => (r.params as { partition?: string }).partition,
  });
  const base = '/v1/partitions/:partition';
  const notFound = (what: keyof typeof queriedThings, key: string) =>
    ledgerRejections.reject('not_found', `本级账套中没有${queriedThings[what]} ${key}；请核对编号。`, {
      [what]: key,
    });

  app.get(
    `${base}/summary`,
    {
      onRequest: guard,
      schema: {
        summary: 'Totals of the books: balances, reserved, paid out, issued, received',
        tags: ['queries'],
        security: [{ bearerAuth: [] }],
        params: z.object({ partition: z.string() }),
        response: { 200: summaryView, ...errors },
      },
    },
    async (request) => {
      const writer = writerFor(writers, request.params.partition);
      return writer.read((s) => summaryOf(s, writer.registry.seq));
    },
  );

  app.get(
    `${base}/accounts/:accountId`,
    {
      onRequest: guard,
      schema: {
        summary: 'An account’s balance and its tranches (资金批次), oldest first',
        tags: ['queries'],
        security: [{ bearerAuth: [] }],
        params: z.object({ partition: z.string(), accountId: id }),
        querystring: z.object({
          offset: z.coerce.number().int().min(0).default(0),
          all: z
            .enum(['true', 'false'])
            .optional()
            .transform((v) => v === 'true')
            .describe('include spent tranches'),
        }),
        response: { 200: accountView, ...errors },
      },
    },
    async (request) => {
      const { partition, accountId } = request.params;
      const found = await writerFor(writers, partition).read((s) =>
        accountOf(s, accountId, request.query.offset, request.query.all),
      );
      if (!found) throw notFound('account', accountId);
      return found;
    },
  );

  const single = <T>(
    path: string,
    what: keyof typeof queriedThings,
    summary: string,
    view: z.ZodType,
    find: (
      s: Parameters<Parameters<ReturnType<typeof writerFor>['read']>[0]>[0],
      key: string,
    ) => T | undefined,
  ) =>
    app.get(
      `${base}/${path}/:key`,
      {
        onRequest: guard,
        schema: {
          summary,
          tags: ['queries'],
          security: [{ bearerAuth: [] }],
          params: z.object({ partition: z.string(), key: id }),
          response: { 200: view, ...errors },
        },
      },
      async (request) => {
        const { partition, key } = request.params;
        const found = await writerFor(writers, partition).read((s) => find(s, key));
        if (found === undefined) throw notFound(what, key);
        return found;
      },
    );

  // A read sent as POST, as registry-api's search by ID number: 5,000 ids do not fit in a URL.
  app.post(
    `${base}/payments/lookup`,
    {
      onRequest: guard,
      schema: {
        summary: `Many payments in one read (up to ${ledger.paymentLookupIdsMax} ids): each found one as GET …/payments/{id} answers it, and the ids not found; appends nothing`,
        tags: ['queries'],
        security: [{ bearerAuth: [] }],
        params: z.object({ partition: z.string() }),
        body: z.object({ paymentIds: z.array(id).min(1).max(ledger.paymentLookupIdsMax) }),
        response: { 200: paymentLookupView, ...errors },
      },
    },
    async (request) =>
      writerFor(writers, request.params.partition).read((s) => paymentsOf(s, request.body.paymentIds)),
  );

  single(
    'payments',
    'payment',
    'A payment’s status, the tranches it consumed, and the bank’s result as recorded (银行流水号 and date of its settlement, or date of its return)',
    paymentView,
    paymentOf,
  );
  single('rosters', 'roster', 'A roster’s progress: instructed, settled, returned', rosterView, rosterOf);
  single('notices', 'notice', 'A notice, its period and objections', noticeView, noticeOf);
  single('projects', 'project', 'A project’s budget, earmarked and disbursed', projectView, projectOf);
}
