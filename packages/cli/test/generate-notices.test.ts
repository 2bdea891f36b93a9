import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Projector, startProjector } from '@fundtrace/books';
import { type ServiceProcess, useTestInfra } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noticeLineEvents } from '../../../services/ledger-api/src/ledger/notice-lines';
// The bench's loader and the writer's own list events: the generator's output is loaded and
// counted exactly as `pnpm bench` and ledger-api do (no copy of either).
import { bulkLoad } from '../../bench/src/bulk-load';
import { tokensFor } from '../../bench/src/stack';
import { loadReference, loadRuleInput, noticeWithoutList, runRules } from '../../rules/src/index';
import {
  type CommandLine,
  emptySummary,
  type GenerateSummary,
  generateCommands,
  noticeEvents,
  writeDataSet,
} from '../src/commands/generate';
import { startGeneratedRegistry } from './generated-registry';

// `fundtrace generate` publishes each roster's notice with its list (公示名单, decision 0071), as
// a county does before paying: every generated payment, re-payments after a bank return included,
// is a listed line of its notice, so loading the data set raises no `not_on_notice` refusal and
// the projected books raise no `notice_without_list` finding (decision 0073).

const programmesFile = join(import.meta.dirname, '../../../services/ledger-api/reference/programmes.v1.json');

function collect(options: Parameters<typeof generateCommands>[0]): CommandLine[] {
  return [...generateCommands(options, emptySummary(options))];
}

type Line = { line: number; householdId: string; quantity: number; amountFen: string };

describe('fundtrace generate: notices with their lists', () => {
  const lines = collect({ scale: 'county', seed: 'n1', households: 300, years: 2 });
  const notices = new Map(
    lines
      .filter((l) => l.path === 'notices')
      .map((l) => [`${l.partition}/${String(l.body.noticeId)}`, l.body as { lines?: Line[] }]),
  );

  it('publishes every programme notice with its list, numbered from 1, each household once', () => {
    expect(notices.size).toBeGreaterThan(0);
    for (const [id, notice] of notices) {
      expect(notice.lines?.length, id).toBeGreaterThan(0);
      expect(notice.lines!.map((l) => l.line)).toEqual(notice.lines!.map((_, i) => i + 1));
      const households = notice.lines!.map((l) => l.householdId);
      expect(new Set(households).size).toBe(households.length);
    }
  });

  it('pays only listed lines at their quantity and amount: roster rows and re-payments alike', () => {
    let checked = 0;
    let repaid = 0;
    const listed = (partition: string, noticeId: unknown, p: Omit<Line, 'line'>) => {
      const list = notices.get(`${partition}/${String(noticeId)}`)?.lines ?? [];
      const l = list.find((x) => x.householdId === p.householdId);
      expect(l, `${p.householdId} on ${String(noticeId)}`).toBeDefined();
      expect({ quantity: l!.quantity, amountFen: l!.amountFen }).toEqual({
        quantity: p.quantity,
        amountFen: p.amountFen,
      });
      checked++;
    };
    for (const l of lines) {
      if (l.path === 'rosters') {
        for (const row of l.body.rows as Line[]) listed(l.partition, l.body.noticeId, row);
        // The roster is exactly its notice's list, in the same order.
        const list = notices.get(`${l.partition}/${String(l.body.noticeId)}`)!.lines!;
        expect((l.body.rows as unknown[]).length).toBe(list.length);
      } else if (l.path === 'payments') {
        listed(l.partition, l.body.noticeId, l.body as unknown as Line);
        repaid++;
      }
    }
    expect(checked).toBeGreaterThan(1_000);
    // The mix has re-payments (bank returns), and they name the original notice.
    expect(repaid).toBeGreaterThan(0);
  });

  it('counts a notice as the writer appends it: NoticePublished and parts of at most 1,000 lines', () => {
    const line = (i: number) => ({
      line: i + 1,
      householdId: `H${i}`,
      memberNos: [],
      quantity: 1,
      amountFen: 1n,
    });
    for (const n of [1, 999, 1_000, 1_001, 2_000, 2_001, 25_000]) {
      const parts = noticeLineEvents(
        'N',
        Array.from({ length: n }, (_, i) => line(i)),
      );
      expect(noticeEvents(n), `${n} lines`).toBe(1 + parts.length);
    }
  });
});

describe('a generated county loaded through the writers and projected', () => {
  const infra = useTestInfra();
  const jwtSecret = randomBytes(32).toString('hex');
  let registry: ServiceProcess | undefined;
  let projector: Projector | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'generate-notices-'));
    registry = await startGeneratedRegistry({
      ns: infra.ns,
      databaseUrl: infra.databaseUrl,
      jwtSecret,
      logDir: dir,
    });
  }, 200_000);

  afterAll(async () => {
    await projector?.stop();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    'is booked without a refusal and raises no notice_without_list finding',
    { timeout: 600_000 },
    async () => {
      await writeDataSet(dir, { scale: 'county', seed: 'n2', households: 150, years: 1 });
      const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as GenerateSummary;
      // Any refusal (`not_on_notice`, `notice_lines_invalid`, …) throws LoadRefusedError here.
      const loaded = await bulkLoad(join(dir, 'commands.ndjson'), {
        js: infra.js,
        jsm: infra.jsm,
        ns: infra.ns,
        endpoints: { registryUrl: registry!.url, ledgerUrl: '', tokens: await tokensFor(jwtSecret) },
      });
      expect(loaded.commands).toBe(summary.commands);

      projector = startProjector({ nc: infra.nc, db: infra.db, schema: 'public', ns: infra.ns });
      await projector.discover();
      for (let i = 0; ; i++) {
        const lag = await projector.lag();
        if (lag.length > 0 && lag.every((l) => l.lag === 0)) break;
        if (i > 1_200) throw new Error(`projector still behind: ${JSON.stringify(lag)}`);
        await new Promise((r) => setTimeout(r, 250));
      }

      // Every payment of the county's books is a line of its notice, at its amount.
      const counts = await infra.db
        .selectFrom('payments as p')
        .leftJoin('notice_lines as l', (j) =>
          j
            .onRef('l.partition', '=', 'p.partition')
            .onRef('l.notice_id', '=', 'p.notice_id')
            .onRef('l.household_id', '=', 'p.household_id')
            .onRef('l.amount_fen', '=', 'p.amount_fen'),
        )
        .select((e) => [e.fn.countAll<string>().as('payments'), e.fn.count<string>('l.line_no').as('listed')])
        .where('p.partition', '=', '411325')
        .executeTakeFirstOrThrow();
      expect(Number(counts.payments)).toBe(summary.payments);
      expect(counts.listed).toBe(counts.payments);

      // The rule judges the books: it has payments under notices to judge, and finds none unlisted.
      const reference = loadReference(programmesFile);
      const { programmes } = reference;
      const input = await loadRuleInput(infra.db, { partition: '411325', asOf: '2025-01-31', ...reference });
      const judged = input.payments.filter(
        (p) => p.noticeId !== null && programmes.get(p.programmeCode)?.needsNotice === true,
      );
      expect(judged.length).toBeGreaterThan(100);
      expect(runRules(input, [noticeWithoutList as never])).toEqual([]);
    },
  );
});
