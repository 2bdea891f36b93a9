import { expect, it } from 'vitest';
import { useProduct } from './reliability/support/services';

/**
 * ledger-api asks the log-keeper to sign a checkpoint as soon as a notice is published, so the
 * notice board prints the tree head the notice was read from without waiting for the keeper's
 * schedule. Here the whole product runs as processes under a stream namespace, as tests and
 * benchmarks run it. The request used to name the namespaced stream, which the keeper's API
 * refuses (403, logged by ledger-api as "log-keeper did not sign a checkpoint" for every notice).
 */
const product = useProduct();

interface LogLine {
  reqId?: string;
  req?: { method: string; url: string };
  res?: { statusCode: number };
}

it('the log-keeper signs on the request ledger-api makes when a notice is published', () => {
  const logs = product.logs();
  expect(logs['ledger-api']).not.toContain('log-keeper did not sign a checkpoint');

  const lines = logs['log-keeper']
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
  const requests = new Set(
    lines
      .filter((l) => l.req?.method === 'POST' && l.req.url === `/v1/checkpoints/LEDGER_${product.county}`)
      .map((l) => l.reqId),
  );
  // loadCounty publishes three notices (paid, open, roster): each asked for a checkpoint.
  expect(requests.size).toBeGreaterThanOrEqual(3);
  const answers = lines
    .filter((l) => l.res !== undefined && requests.has(l.reqId))
    .map((l) => l.res!.statusCode);
  expect(answers).toHaveLength(requests.size);
  // 201: a checkpoint signed for the request; 200: the latest one already covered it.
  expect(answers.filter((status) => status !== 200 && status !== 201)).toEqual([]);
});
