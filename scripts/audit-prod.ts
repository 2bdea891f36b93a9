// Dependency audit of what we deploy (CI, .ci/run): every third-party package the services and
// their workspace packages use in production (`pnpm list --prod`, test tooling excluded), with the
// exact installed versions, sent in ONE request to the registry's bulk advisory endpoint — the
// endpoint `pnpm audit` and `npm audit` use. Exit 1 when any advisory is high or critical; exit 0
// otherwise. When the endpoint does not answer (this workplace's registry answers 405), it says
// in capitals that the audit DID NOT RUN and exits 0: an outage of the advisory service must not
// block every build, and must never look like a clean audit either (decision 0090).
//
//   pnpm exec tsx scripts/audit-prod.ts [--registry <url>] [--json]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
/** Workspace packages that are never deployed: their dependencies are test and benchmark tooling. */
const notDeployed = new Set([
  'fundtrace',
  '@fundtrace/e2e',
  '@fundtrace/testkit',
  '@fundtrace/bench',
  '@fundtrace/devstack',
]);
const failingSeverities = new Set(['high', 'critical']);
/** The endpoint answers in a second; a hung connection must not hold CI. */
const requestTimeoutMs = 30_000;

interface ListedPackage {
  name?: string;
  version?: string;
  dependencies?: Record<string, ListedPackage>;
  optionalDependencies?: Record<string, ListedPackage>;
}

interface Advisory {
  id?: number;
  title?: string;
  severity?: string;
  url?: string;
  vulnerable_versions?: string;
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** name → installed versions of every third-party production package of the deployed workspace packages. */
export function productionPackages(listing: ListedPackage[]): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const walk = (deps: Record<string, ListedPackage> | undefined) => {
    for (const [name, info] of Object.entries(deps ?? {})) {
      const version = info.version ?? '';
      // Workspace packages are listed as importers of their own; their deps are walked there.
      if (version.startsWith('link:') || version.startsWith('file:') || version === '') continue;
      const versions = found.get(name) ?? new Set<string>();
      if (versions.has(version)) continue;
      versions.add(version);
      found.set(name, versions);
      walk(info.dependencies);
      walk(info.optionalDependencies);
    }
  };
  for (const importer of listing) {
    if (notDeployed.has(importer.name ?? '')) continue;
    walk(importer.dependencies);
    walk(importer.optionalDependencies);
  }
  return found;
}

async function main(): Promise<number> {
  const registry = (argument('--registry') ?? run('pnpm', ['config', 'get', 'registry']).trim()).replace(
    /\/$/,
    '',
  );
  const listing = JSON.parse(
    run('pnpm', ['list', '--prod', '--recursive', '--json', '--depth', '1000']),
  ) as ListedPackage[];
  const packages = productionPackages(listing);
  const versions = [...packages.values()].reduce((n, v) => n + v.size, 0);
  const body = Object.fromEntries([...packages].map(([name, v]) => [name, [...v].sort()]));
  const endpoint = `${registry}/-/npm/v1/security/advisories/bulk`;
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
  } catch (error) {
    return didNotRun(
      `${endpoint} could not be reached (${(error as Error).message})`,
      packages.size,
      versions,
    );
  }
  if (response.status !== 200) {
    return didNotRun(
      `${endpoint} answered ${response.status} ${response.statusText}`,
      packages.size,
      versions,
    );
  }
  let advisories: Record<string, Advisory[]>;
  try {
    advisories = (await response.json()) as Record<string, Advisory[]>;
  } catch (error) {
    return didNotRun(
      `${endpoint} answered something that is not JSON (${(error as Error).message})`,
      packages.size,
      versions,
    );
  }
  const found = Object.entries(advisories).flatMap(([name, list]) =>
    (Array.isArray(list) ? list : []).map((advisory) => ({ name, ...advisory })),
  );
  const failing = found.filter((a) => failingSeverities.has(String(a.severity)));
  if (process.argv.includes('--json')) {
    process.stdout.write(
      `${JSON.stringify({ ran: true, packages: packages.size, versions, advisories: found }, null, 2)}\n`,
    );
  }
  for (const a of found) {
    const installed = [...(packages.get(a.name) ?? [])].join(', ');
    console.log(
      `${String(a.severity).padEnd(9)} ${a.name}@${installed} (vulnerable ${a.vulnerable_versions ?? '?'}): ${a.title ?? ''} ${a.url ?? ''}`,
    );
  }
  console.log(
    `dependency audit: ${packages.size} production packages (${versions} versions) checked against ${endpoint}: ${found.length} advisories, ${failing.length} high or critical`,
  );
  return failing.length > 0 ? 1 : 0;
}

function didNotRun(reason: string, packages: number, versions: number): number {
  console.log(`DEPENDENCY AUDIT DID NOT RUN: ${reason}.`);
  console.log(
    `  ${packages} production packages (${versions} versions) were NOT checked for known vulnerabilities; run \`pnpm exec tsx scripts/audit-prod.ts\` where the registry's advisory service answers.`,
  );
  if (process.argv.includes('--json'))
    process.stdout.write(`${JSON.stringify({ ran: false, reason, packages, versions })}\n`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(await main());
