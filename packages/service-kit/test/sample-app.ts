import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { type App, createApp, createLogger, defineRejections, requireRole } from '../src/index';

/** A 32-byte test secret (HS256 needs ≥ 32 bytes). */
export const secret = 'test-secret-0123456789abcdefghijklmnop';

/** Money as the wire carries it (a string of digits) and the code sees it (bigint fen). */
export const fen = z.codec(z.string().regex(/^\d{1,19}$/, 'must be a string of digits'), z.bigint(), {
  decode: (digits) => BigInt(digits),
  encode: (amount) => amount.toString(),
});

export const sampleRejections = defineRejections({ insufficient_funds: 409, purpose_not_allowed: 422 });

/** Collects every log line the app writes, parsed. */
export function logCapture() {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return {
    stream,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/**
 * A small service with one guarded command route, the way real services use the kit: a partition
 * in the path, a zod body with money, a declared rejection table, and a response contract.
 */
export async function sampleApp(options: { bodyLimitBytes?: number } = {}) {
  const logs = logCapture();
  const app: App = await createApp({
    name: 'sample',
    version: '1.2.3',
    description: 'A sample service for the kit tests.',
    logger: createLogger({ name: 'sample', level: 'info', destination: logs.stream }),
    auth: { secret },
    ...options,
  });

  const seen: { amountFen?: bigint } = {};
  app.post(
    '/partitions/:partition/payments',
    {
      onRequest: requireRole(['finance'], {
        partition: (request) => (request.params as { partition: string }).partition,
      }),
      schema: {
        summary: 'Pay a household',
        params: z.object({ partition: z.string().regex(/^\d{6}$/) }),
        querystring: z.object({ dryRun: z.enum(['true', 'false']).default('false') }),
        body: z.object({
          householdId: z.string().min(1).max(64),
          amountFen: fen,
          purpose: z.enum(['housing', 'minimum_living']),
        }),
        response: { 201: z.object({ paymentId: z.string(), amountFen: fen }), 409: sampleRejections.schema },
      },
    },
    async (request, reply) => {
      seen.amountFen = request.body.amountFen;
      if (request.body.amountFen > 1_000_000n) {
        throw sampleRejections.reject('insufficient_funds', 'The account holds less than the amount', {
          availableFen: '1000000',
        });
      }
      // internalNote is not in the response schema: the serializer must strip it.
      return reply.status(201).send({
        paymentId: 'p-1',
        amountFen: request.body.amountFen,
        internalNote: 'x',
      } as {
        paymentId: string;
        amountFen: bigint;
      });
    },
  );
  app.get('/boom', async () => {
    throw new Error('database password is hunter2 at 10.0.0.5');
  });
  app.get(
    '/broken-contract',
    { schema: { response: { 200: z.object({ total: z.number() }) } } },
    async () => {
      return { total: 'not a number' } as unknown as { total: number };
    },
  );
  app.get('/public', async () => ({ hello: 'world' }));
  app.post(
    '/batch',
    { schema: { body: z.object({ rows: z.array(z.object({ amountFen: fen })).max(5_000) }) } },
    async () => ({ ok: true }),
  );
  app.get('/schemaless-money', async () => ({ balanceFen: 2n ** 62n }));
  app.get('/refuse-with-bigint', async () => {
    throw sampleRejections.reject('insufficient_funds', 'short', { availableFen: 12n, neededFen: 2n ** 62n });
  });
  return { app, logs, seen };
}
