import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePorts } from '@fundtrace/testkit';
import { startCounty } from '../test/support/county';
import { benchVillagePage, formatResult } from './village-page';

/**
 * Self-contained run of the village-page benchmark: writes a generated county through the real
 * services (as the tests do), starts the notice board as its own process, measures, stops all.
 *   node --import tsx services/notice-board/bench/with-county.ts [--seconds 10] [--connections 50]
 */

const root = join(import.meta.dirname, '..', '..', '..');
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};
/** How long the board may take to start (tsx compiles on start on a shared machine). */
const boardStartTimeoutMs = 120_000;

const fixture = await startCounty({ households: 60, villages: 8 });
let board: ChildProcess | undefined;
try {
  const [port] = await freePorts(1);
  const baseUrl = `http://127.0.0.1:${port}`;
  board = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'services', 'notice-board', 'src', 'main.ts')],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...fixture.boardEnv,
        PORT: String(port),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const deadline = Date.now() + boardStartTimeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${baseUrl}/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error('the notice board did not start');
    await new Promise((r) => setTimeout(r, 300));
  }
  const run = {
    baseUrl,
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
  if (board && board.exitCode === null) {
    board.kill('SIGTERM');
    await new Promise((r) => board!.once('exit', r));
  }
  await fixture.stop();
}
