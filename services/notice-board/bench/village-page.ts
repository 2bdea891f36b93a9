// Types: packages/bench/src/autocannon.d.ts declares the part of autocannon's API used here.
import autocannon from 'autocannon';

/**
 * Load benchmark: one village page of a running notice board, served from its page cache.
 * Usage (the board and its books must be up):
 *   pnpm --filter @fundtrace/notice-board bench -- [--url http://127.0.0.1:4106] [--county 411325]
 *     [--path /r/<village>] [--seconds 10] [--connections 50] [--json]
 * Without --path the first village of the county's first township is found through the JSON API.
 * Target (issue 7): ≥ 2,000 requests/s on the development machine.
 */

/** Long enough for the rate to settle; short enough to run beside other work on a shared machine. */
export const benchSecondsDefault = 10;
/** Concurrent readers: a village board's morning rush behind one proxy. */
export const benchConnectionsDefault = 50;
/** Target of issue 7. */
export const villagePageTargetPerSecond = 2_000;

export interface VillageBenchResult {
  readonly url: string;
  readonly seconds: number;
  readonly connections: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly bytesPerRequest: number;
  /** Pages built from the books during the run (each costs queries); 0 when served from cache. */
  readonly buildsDuringRun: number | null;
  /** Times the books moved during the run (each drops the cache). */
  readonly versionChangesDuringRun: number | null;
  readonly meetsTarget: boolean;
}

/** A counter of the board's /metrics, or null when the board does not expose it. */
async function counter(baseUrl: string, name: string): Promise<number | null> {
  const response = await fetch(`${baseUrl}/metrics`).catch(() => null);
  if (response === null || !response.ok) return null;
  const line = (await response.text())
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const delta = (before: number | null, after: number | null) =>
  before === null || after === null ? null : after - before;

async function getJson(url: string): Promise<{ progress: { place: { code: string } }[] }> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} → ${response.status}`);
  return (await response.json()) as { progress: { place: { code: string } }[] };
}

/** The first village of the county's first township, as a reader would click to it. */
export async function findVillagePath(baseUrl: string, county: string): Promise<string> {
  const countyPage = await getJson(`${baseUrl}/api/r/${county}`);
  const township = countyPage.progress[0]?.place.code;
  if (township === undefined) throw new Error(`county ${county} has no township with books`);
  const townshipPage = await getJson(`${baseUrl}/api/r/${township}`);
  const village = townshipPage.progress[0]?.place.code;
  if (village === undefined) throw new Error(`township ${township} has no village with books`);
  return `/r/${village}`;
}

export async function benchVillagePage(options: {
  readonly baseUrl: string;
  readonly county?: string;
  readonly path?: string;
  readonly seconds?: number;
  readonly connections?: number;
}): Promise<VillageBenchResult> {
  const path = options.path ?? (await findVillagePath(options.baseUrl, options.county ?? '411325'));
  const url = `${options.baseUrl}${path}`;
  // Warm the cache: the benchmark measures pages served from memory, not the first build.
  const warm = await fetch(url);
  if (!warm.ok) throw new Error(`GET ${url} → ${warm.status}`);
  const bytes = (await warm.arrayBuffer()).byteLength;
  const seconds = options.seconds ?? benchSecondsDefault;
  const connections = options.connections ?? benchConnectionsDefault;
  const buildsBefore = await counter(options.baseUrl, 'notice_board_page_builds_total');
  const changesBefore = await counter(options.baseUrl, 'notice_board_version_changes_total');
  const result = await autocannon({ url, connections, duration: seconds });
  const buildsAfter = await counter(options.baseUrl, 'notice_board_page_builds_total');
  const changesAfter = await counter(options.baseUrl, 'notice_board_version_changes_total');
  const requestsPerSecond = Math.round(result.requests.average);
  return {
    url,
    seconds,
    connections,
    requestsPerSecond,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    non2xx: result.non2xx,
    errors: result.errors,
    bytesPerRequest: bytes,
    buildsDuringRun: delta(buildsBefore, buildsAfter),
    versionChangesDuringRun: delta(changesBefore, changesAfter),
    meetsTarget:
      requestsPerSecond >= villagePageTargetPerSecond && result.non2xx === 0 && result.errors === 0,
  };
}

function arg(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

export function formatResult(r: VillageBenchResult): string {
  return [
    `village page ${r.url}`,
    `  ${r.requestsPerSecond} requests/s over ${r.seconds} s, ${r.connections} connections (target ≥ ${villagePageTargetPerSecond}: ${r.meetsTarget ? 'met' : 'NOT met'})`,
    `  latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`,
    `  ${r.non2xx} non-2xx, ${r.errors} errors, ${r.bytesPerRequest} bytes a page`,
    `  page builds during the run: ${r.buildsDuringRun ?? 'n/a'}, books moved: ${r.versionChangesDuringRun ?? 'n/a'} times`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchVillagePage({
    baseUrl: arg('url') ?? 'http://127.0.0.1:4106',
    county: arg('county') ?? '411325',
    ...(arg('path') === undefined ? {} : { path: arg('path')! }),
    seconds: Number(arg('seconds') ?? benchSecondsDefault),
    connections: Number(arg('connections') ?? benchConnectionsDefault),
  });
  console.log(process.argv.includes('--json') ? JSON.stringify(result) : formatResult(result));
  if (!result.meetsTarget) process.exitCode = 1;
}
