import type { ServiceProcess } from '@fundtrace/testkit';
import { startBoard, startCounty } from '../test/support/county';
import { benchVillagePage, formatResult } from './village-page';

/**
 * Self-contained run of the village-page benchmark: writes a generated county through the real
 * services (as the tests do), starts the notice board as its own process, measures, stops all.
 *   node --import tsx services/notice-board/bench/with-county.ts [--seconds 10] [--connections 50]
 */

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};

const fixture = await startCounty({ households: 60, villages: 8 });
let board: ServiceProcess | undefined;
try {
  board = await startBoard(fixture);
  const run = {
    baseUrl: board.url,
    seconds: Number(arg('seconds') ?? 10),
    connections: Number(arg('connections') ?? 50),
  };
  const result = await benchVillagePage(run);
  // The same load on /health: the floor of the HTTP stack (fastify, helmet, metrics, logging) on
  // this machine at this moment, so the page's figure can be read against what the box allows.
  const floor = await benchVillagePage({ ...run, path: '/health' });
  if (process.argv.includes('--json')) console.log(JSON.stringify({ villagePage: result, health: floor }));
  else console.log(`${formatResult(result)}\n${formatResult(floor)}`);
} finally {
  await board?.stop();
  await fixture.stop();
}
