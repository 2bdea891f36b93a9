import type { BenchResult, PhaseTime, StepResult } from './run';

/**
 * The report: each of our figures beside its baseline as a ratio, and the targets of the other
 * issues marked met or not. Ratios are what to read on a shared, noisy machine.
 */

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  nats: string;
  postgres: string;
  os: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  ratio: number | null;
  met: boolean;
  note: string;
}

/** Where the part of BENCHMARKS.md that other engineers maintain starts; the generator keeps it as is. */
export const keptHeading = '## Separate measurements kept from other engineers';

/** Events the writer and replay targets are stated for. */
const targetEvents = 1_000_000;
/** 1 GiB: the writer's state limit. */
const writerStateBytesMax = 2 ** 30;
const writerColdStartMsMax = 60_000;
const traceP99MsMax = 5;
const noticeRequestsPerSMin = 2_000;

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);

/** The issue's budget for one whole run on the development machine. */
const runMinutesMax = 30;

function runMinutes(result: BenchResult): number {
  return (Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 60_000;
}

/**
 * What the naive pipeline was in a step, and the projection held against its decoding variant:
 * runs before decision 0132 had only a naive pipeline that decoded each event.
 */
function naiveNote(step: StepResult, projected: { perS: number }): string {
  if (step.naiveDecoding === undefined)
    return 'that naive pipeline decoded each event (runs before decision 0132), so it is slower than the raw one';
  return `${ratio(projected.perS, step.naiveDecoding.perS)} × the naive pipeline decoding each event as the projector does (${fmt(step.naiveDecoding.perS)} ev/s: decision 0132)`;
}

/** Steps smallest first, whatever order they ran in. */
function bySize(result: BenchResult): StepResult[] {
  return [...result.steps].sort((a, b) => a.fraction - b.fraction);
}

export function targetsOf(result: BenchResult): Target[] {
  const last = bySize(result).at(-1);
  if (last === undefined) return [];
  const targets: Target[] = [];
  const minutes = runMinutes(result);
  targets.push({
    name: 'whole run (pnpm bench, start to finish)',
    target: `< ${runMinutesMax} min`,
    measured: `${minutes.toFixed(1)} min for ${result.steps.map((s) => `${Math.round(s.fraction * 100)}%`).join(' + ')} of ${fmt(last.households)} households (${fmt(result.steps.reduce((n, s) => n + s.events, 0))} events loaded)`,
    ratio: ratio(minutes, runMinutesMax),
    met: minutes < runMinutesMax,
    note: '',
  });
  const roster = last.roster;
  if (roster === null || 'error' in roster)
    targets.push({
      name: 'roster append (HTTP → last ack)',
      target: '≥ 0.50 × pipelined js.publish',
      measured: roster === null ? 'not run' : `FAILED: ${roster.error.slice(0, 200)}`,
      ratio: null,
      met: false,
      note: 'the phase failed; see the step table',
    });
  else {
    const rosterRatio = ratio(roster.perS, roster.baseline.perS);
    targets.push({
      name: 'roster append (HTTP → last ack)',
      target: '≥ 0.50 × pipelined js.publish',
      measured: `${fmt(roster.perS)} ev/s vs ${fmt(roster.baseline.perS)} msg/s (${fmt(roster.rows)} rows, ${fmt(roster.events)} events)`,
      ratio: rosterRatio,
      met: rosterRatio >= 0.5,
      note: [
        rosterRatio >= 1 ? 'the stretch (≥ 1.00) is met' : 'the stretch is ≥ 1.00',
        roster.rows < 50_000 ? `roster had ${fmt(roster.rows)} rows (the target names 50,000)` : '',
      ]
        .filter((n) => n !== '')
        .join('; '),
    });
  }
  // Measured at the step's own LEDGER log, never extrapolated: the note names the size.
  const rss = last.writer.rssBytes ?? 0;
  const writerNote =
    last.writer.events < targetEvents
      ? `measured at ${fmt(last.writer.events)} events (the county's whole ledger), not at 1M; not extrapolated`
      : '';
  targets.push({
    name: 'writer state (ledger-api RSS)',
    target: '< 1 GiB at 1M events',
    measured: `${fmt(rss / 2 ** 20)} MiB at ${fmt(last.writer.events)} events (RSS right after the rebuild)`,
    ratio: ratio(rss, writerStateBytesMax),
    met: rss > 0 && rss < writerStateBytesMax,
    note: writerNote,
  });
  targets.push({
    name: 'writer cold start (rebuild to /health)',
    target: '< 60 s at 1M events',
    measured: `${fmt(last.writer.coldStartMs)} ms at ${fmt(last.writer.events)} events (process spawn to /health)`,
    ratio: ratio(last.writer.coldStartMs, writerColdStartMsMax),
    met: last.writer.coldStartMs < writerColdStartMsMax,
    note: writerNote,
  });
  const projRatio = ratio(last.projector.perS, last.naive.perS);
  targets.push({
    name: 'projection, realistic mix',
    target: '≥ 0.50 × naive pipeline, at county size',
    measured: `${fmt(last.projector.perS)} vs ${fmt(last.naive.perS)} ev/s, ${fmt(last.projector.count)} events from sequence 1`,
    ratio: projRatio,
    met: projRatio >= 0.5,
    note: `naive pipeline over the first ${fmt(last.naive.count)} events of the same log; ${naiveNote(last, last.projector)}`,
  });
  // Issue 5: "Rebuild of 1,000,000 events at the same rate or better", after "projection … no
  // less than 50% of the naive pipeline": the rebuild must hold the projection's rate (≥ 0.50 ×
  // naive) over 1M events, and not fall behind the live projector. The stricter reading (≥ 1.00 ×
  // naive, a full projection as fast as raw inserts) is reported in the note, not judged.
  const replayRatio = ratio(last.replay.perS, last.naive.perS);
  const replayVsLive = ratio(last.replay.perS, last.projector.perS);
  targets.push({
    name: 'rebuild (replay into a fresh schema)',
    target: '≥ 0.50 × naive and ≥ 1.00 × live projection, at 1M events',
    measured: `${fmt(last.replay.perS)} vs ${fmt(last.naive.perS)} ev/s over ${fmt(last.replay.count)} events (${replayVsLive} × the live projector)`,
    ratio: replayRatio,
    met: replayRatio >= 0.5 && replayVsLive >= 1 && last.replay.count >= targetEvents,
    note: [
      replayVsLive < 1 ? 'slower than the live projector' : '',
      replayRatio >= 1
        ? 'also ≥ 1.00 × naive'
        : `${replayRatio} × naive: not as fast as raw inserts (the rebuild pulls and acks as the naive pipeline does, then decodes and projects: decisions 0065, 0132)`,
      naiveNote(last, last.replay),
      last.replay.count < targetEvents
        ? `replayed ${fmt(last.replay.count)} events (the whole log), not 1M`
        : '',
    ]
      .filter((n) => n !== '')
      .join('; '),
  });
  const scale = result.traceAtScale;
  const scaleMeasured = scale !== undefined && 'p99Ms' in scale;
  targets.push({
    name: 'trace household → roots, 1M payments',
    target: 'p99 ≤ 5 ms',
    measured:
      scale === undefined
        ? 'not measured in this run'
        : 'error' in scale
          ? `FAILED: ${scale.error.slice(0, 200)}`
          : `p50 ${scale.p50Ms} ms, p99 ${scale.p99Ms} ms (${fmt(scale.queries)} households of ${scale.paymentsPerHousehold} payments, ${fmt(scale.payments)} in books)`,
    ratio: scaleMeasured ? ratio(scale.p99Ms, traceP99MsMax) : null,
    met: scaleMeasured && scale.queries > 0 && scale.p99Ms <= traceP99MsMax && scale.payments >= targetEvents,
    note: scaleMeasured
      ? [
          scale.payments < targetEvents ? `measured at ${fmt(scale.payments)} payments, not 1M` : '',
          "county-shaped books built by src/trace-scale.ts; the county step's own trace is in its table",
        ]
          .filter((n) => n !== '')
          .join('; ')
      : '',
  });
  targets.push({
    name: 'trace household → roots, the county step',
    target: 'p99 ≤ 5 ms (stated for 1M payments)',
    measured: `p50 ${last.trace.p50Ms} ms, p99 ${last.trace.p99Ms} ms (${fmt(last.trace.queries)} traces, ${last.trace.paymentsPerHousehold} payments, ${fmt(last.trace.totalPayments)} in books)`,
    ratio: ratio(last.trace.p99Ms, traceP99MsMax),
    met: last.trace.queries > 0 && last.trace.p99Ms <= traceP99MsMax,
    note: `books the projector built from the county's log (${fmt(last.trace.totalPayments)} payments); the households traced are those with the most payments`,
  });
  if (last.notice && !('error' in last.notice))
    targets.push({
      name: 'notice board village page',
      target: '≥ 2,000 req/s',
      measured: `${fmt(last.notice.requestsPerS)} req/s (p99 ${last.notice.p99Ms} ms, ${last.notice.non2xx} non-2xx)`,
      ratio: ratio(last.notice.requestsPerS, noticeRequestsPerSMin),
      met: last.notice.requestsPerS >= noticeRequestsPerSMin && last.notice.non2xx === 0,
      note: noticeStill(last.notice),
    });
  if (last.e2e && !('error' in last.e2e)) {
    const generator = result.baselines.generator;
    const ceiling =
      generator === undefined
        ? ''
        : 'error' in generator
          ? `the load generator's own ceiling was not measured (${generator.error.slice(0, 80)})`
          : `the load generator alone reached ${fmt(generator.achievedPerS)}/s of ${fmt(generator.askedPerS)}/s against a trivial server (p99 ${generator.p99Ms} ms)`;
    targets.push({
      name: 'end-to-end at a steady 1,000 commands/s',
      target: 'hold 1,000/s; p50/p99 reported',
      measured: `${fmt(last.e2e.achievedPerS)}/s of ${fmt(last.e2e.targetPerS)}/s asked; request → accepted p50 ${last.e2e.acceptP50Ms} ms, p99 ${last.e2e.acceptP99Ms} ms; accepted → visible p50 ${last.e2e.p50Ms} ms, p99 ${last.e2e.p99Ms} ms`,
      ratio: ratio(last.e2e.achievedPerS, 1_000),
      met: last.e2e.achievedPerS >= 950,
      note: [
        last.e2e.achievedPerS >= 950
          ? 'no latency bound is named; met = the rate was held'
          : `the writer accepted ${fmt(last.e2e.achievedPerS)} commands/s with 256 outstanding; latencies are at that rate (see "Where the time goes")`,
        ceiling,
        // Runs since decision 0081 (they record the poll interval) start from a caught-up projector.
        last.e2e.visiblePollMs === undefined ? '' : 'timed from a caught-up projector',
      ]
        .filter((n) => n !== '')
        .join('; '),
    });
  }
  return targets;
}

/** Whether the books stood still while the notice board was measured (its cache is keyed on their version). */
function noticeStill(n: { versionChanges?: number; builds?: number }): string {
  if (n.versionChanges === undefined) return '';
  return n.versionChanges === 0
    ? `measured with the projector caught up and the books still (0 version changes, ${fmt(n.builds ?? 0)} page builds during the run)`
    : `the books moved ${fmt(n.versionChanges)} times during the measurement (${fmt(n.builds ?? 0)} page builds): partly page builds, not cache hits`;
}

/**
 * Where this run's time went, computed from its budget (so it stays true whatever the figures):
 * the largest step's costliest phases, and how much of it were the passes over the whole log.
 */
export function whereTheTimeWent(result: BenchResult): string[] {
  const last = bySize(result).at(-1);
  if (last?.budget === undefined) return [];
  const total = last.budget.reduce((a, p) => a + p.ms, 0);
  if (total <= 0) return [];
  const share = (ms: number) => `${Math.round((ms / total) * 100)} %`;
  const top = [...last.budget].sort((a, b) => b.ms - a.ms).slice(0, 4);
  const passes = last.budget
    .filter((p) => /^(load through the writers|projector catching up|replay into)/.test(p.phase))
    .reduce((a, p) => a + p.ms, 0);
  return [
    `The ${Math.round(last.fraction * 100)} % step took ${(total / 60_000).toFixed(1)} min` +
      (last.loadAverage ? ` (load average ${last.loadAverage.start[0]} → ${last.loadAverage.end[0]})` : '') +
      `; its costliest phases: ${top.map((p) => `${p.phase} ${secs(p.ms)} (${share(p.ms)})`).join(', ')}. ` +
      `The three passes over the whole log (loading through the writers, the projector from sequence 1, the replay) were ${share(passes)} of it: ` +
      'they are the measurement, bounded by what JetStream and PostgreSQL take per event on this machine.',
    '',
  ];
}

/** The time budget: each phase's wall time and its share of the whole. */
export function budgetRows(phases: readonly PhaseTime[]): string[][] {
  const total = phases.reduce((a, p) => a + p.ms, 0);
  return [
    ...phases.map((p) => [p.phase, secs(p.ms), total > 0 ? `${Math.round((p.ms / total) * 100)} %` : '']),
    ['**total**', `**${secs(total)}**`, ''],
  ];
}

function stepRows(s: StepResult): string[][] {
  const perK = (r: { ms: number; count: number }) => (r.count > 0 ? (r.ms / r.count) * 1000 : 0);
  return [
    [
      'load through the writers (bulk)',
      `${fmt(s.load.perS)} ev/s`,
      `${perK(s.load).toFixed(1)} ms/1k ev`,
      s.loadDetail ? `registry ${secs(s.loadDetail.registryMs)}, ledger ${secs(s.loadDetail.ledgerMs)}` : '',
    ],
    [
      'naive pipeline',
      `${fmt(s.naive.perS)} ev/s`,
      `${perK(s.naive).toFixed(1)} ms/1k ev over ${fmt(s.naive.count)} ev`,
      s.naiveDecoding === undefined
        ? 'baseline (decoding each event: runs before decision 0132)'
        : 'baseline (raw)',
    ],
    ...(s.naiveDecoding === undefined
      ? []
      : [
          [
            'naive pipeline decoding each event',
            `${fmt(s.naiveDecoding.perS)} ev/s`,
            `${perK(s.naiveDecoding).toFixed(1)} ms/1k ev over ${fmt(s.naiveDecoding.count)} ev`,
            `${ratio(s.naiveDecoding.perS, s.naive.perS)} × naive (reference)`,
          ],
        ]),
    [
      'projector',
      `${fmt(s.projector.perS)} ev/s`,
      `${perK(s.projector).toFixed(1)} ms/1k ev`,
      `${ratio(s.projector.perS, s.naive.perS)} × naive`,
    ],
    [
      'replay',
      `${fmt(s.replay.perS)} ev/s`,
      `${perK(s.replay).toFixed(1)} ms/1k ev`,
      `${ratio(s.replay.perS, s.naive.perS)} × naive`,
    ],
    ...rosterRows(s),
    [
      'trace p50 / p99',
      `${s.trace.p50Ms} / ${s.trace.p99Ms} ms`,
      `${fmt(s.trace.queries)} traces of ${s.trace.paymentsPerHousehold} payments, ${fmt(s.trace.totalPayments)} in books`,
      '',
    ],
    [
      'writer cold start',
      `${fmt(s.writer.coldStartMs)} ms`,
      `${fmt(s.writer.events)} events`,
      `${fmt((s.writer.rssBytes ?? 0) / 2 ** 20)} MiB RSS`,
    ],
    ...noticeRows(s),
    ...e2eRows(s),
  ];
}

function rosterRows(s: StepResult): string[][] {
  const r = s.roster;
  if (r === null) return [];
  if ('error' in r) return [['roster append', '**FAILED**', r.error.slice(0, 160), '']];
  const rows = [
    [
      'roster append (HTTP)',
      `${fmt(r.perS)} ev/s`,
      `${fmt(r.rows)} rows → ${fmt(r.events)} events in ${fmt(r.ms)} ms`,
      `${ratio(r.perS, r.baseline.perS)} × publish`,
    ],
    ['roster baseline publish', `${fmt(r.baseline.perS)} msg/s`, `${r.avgEventBytes} B/event`, 'baseline'],
  ];
  const cli = s.rosterCli;
  if (cli && 'error' in cli) rows.push(['roster via CLI import', '**FAILED**', cli.error.slice(0, 160), '']);
  else if (cli)
    rows.push([
      'roster via CLI import',
      `${fmt(cli.perS)} ev/s`,
      `${fmt(cli.rows)} rows → ${fmt(cli.events)} events in ${fmt(cli.ms)} ms (CSV, dry run, append)`,
      `${ratio(cli.perS, r.baseline.perS)} × publish`,
    ]);
  if (r.topUp)
    rows.push([
      'registry import (HTTP)',
      `${fmt((r.topUp.events / Math.max(1, r.topUp.ms)) * 1000)} ev/s`,
      `${fmt(r.topUp.households)} households → ${fmt(r.topUp.events)} events in ${fmt(r.topUp.ms)} ms`,
      `${ratio((r.topUp.events / Math.max(1, r.topUp.ms)) * 1000, r.baseline.perS)} × publish`,
    ]);
  return rows;
}

function noticeRows(s: StepResult): string[][] {
  if (s.notice === null) return [];
  if ('error' in s.notice) return [['notice board page', 'failed', s.notice.error.slice(0, 120), '']];
  return [
    [
      'notice board page',
      `${fmt(s.notice.requestsPerS)} req/s`,
      `p99 ${s.notice.p99Ms} ms${s.notice.versionChanges === undefined ? '' : `, ${s.notice.versionChanges === 0 ? 'books still' : `books moved ${s.notice.versionChanges}×`}`}`,
      `${ratio(s.notice.requestsPerS, noticeRequestsPerSMin)} × target`,
    ],
  ];
}

function e2eRows(s: StepResult): string[][] {
  if (s.e2e === null) return [];
  if ('error' in s.e2e) return [['end-to-end p50 / p99', 'failed', s.e2e.error.slice(0, 120), '']];
  return [
    [
      'end-to-end p50 / p99',
      `${s.e2e.p50Ms} / ${s.e2e.p99Ms} ms`,
      `accepted → visible, at ${fmt(s.e2e.achievedPerS)}/s of ${fmt(s.e2e.targetPerS)}/s${s.e2e.visiblePollMs === undefined ? '' : ` (checkpoint read every ${s.e2e.visiblePollMs} ms)`}`,
      '',
    ],
    [
      'request → accepted p50 / p99',
      `${s.e2e.acceptP50Ms} / ${s.e2e.acceptP99Ms} ms`,
      `${fmt(s.e2e.commands)} commands; the writer (HTTP, decide, append), 256 outstanding${s.e2e.sendSlipMs === undefined ? '' : `; last request ${fmt(s.e2e.sendSlipMs)} ms behind schedule`}`,
      '',
    ],
  ];
}

/** The end-to-end load generator against a trivial server: what the bench itself can send. */
function generatorRows(result: BenchResult): string[][] {
  const g = result.baselines.generator;
  if (g === undefined) return [];
  if ('error' in g) return [['HTTP load generator vs a trivial server', 'failed', g.error.slice(0, 120)]];
  return [
    [
      'HTTP load generator vs a trivial server (open loop)',
      `${fmt(g.achievedPerS)} req/s of ${fmt(g.askedPerS)} asked`,
      `${fmt(g.requests)}, p50 ${g.p50Ms} / p99 ${g.p99Ms} ms, ${fmt(g.cpuUsPerRequest)} µs CPU/request`,
    ],
  ];
}

/** The trace-at-scale phase, or why it has no figure. */
function traceAtScaleLines(result: BenchResult): string[] {
  const t = result.traceAtScale;
  if (t === undefined)
    return ['Not measured in this run (`--trace-payments 0`, or a run from before the phase existed).'];
  if ('error' in t) return [`**Failed:** ${t.error}`];
  return [
    table(
      ['figure', 'value'],
      [
        ['payments in the books', fmt(t.payments)],
        ['households traced', fmt(t.queries)],
        ['payments per traced household', String(t.paymentsPerHousehold)],
        ['trace p50 / p99', `${t.p50Ms} / ${t.p99Ms} ms`],
        ['building the books (not a target)', secs(t.buildMs)],
        ...Object.entries(t.detail ?? {}).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v]),
      ],
    ),
  ];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + ' '.repeat(widths[i]! - width(c))).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Display width: CJK characters take two columns. */
function width(text: string): number {
  let w = 0;
  for (const ch of text)
    w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(
      ch,
    )
      ? 2
      : 1;
  return w;
}

export function terminalReport(result: BenchResult, machine: Machine): string {
  const out: string[] = [];
  const b = result.baselines;
  out.push('', 'Baselines (same run)');
  out.push(
    table(
      ['baseline', 'rate', 'count'],
      [
        [
          'JetStream publish, 1,000 in flight',
          `${fmt(b.publish.perS)} msg/s`,
          `${fmt(b.publish.count)} × ${b.payloadBytes} B`,
        ],
        ['JetStream durable pull + ack', `${fmt(b.consume.perS)} msg/s`, fmt(b.consume.count)],
        ['PostgreSQL INSERT, 500 rows/stmt', `${fmt(b.insert.perS)} rows/s`, fmt(b.insert.count)],
        ['PostgreSQL COPY', `${fmt(b.copy.perS)} rows/s`, fmt(b.copy.count)],
        ...generatorRows(result),
      ],
    ),
  );
  for (const s of bySize(result)) {
    out.push(
      '',
      `Step ${Math.round(s.fraction * 100)}% of the scale: ${fmt(s.households)} households, ${fmt(s.commands)} commands, ${fmt(s.events)} events`,
    );
    out.push(table(['figure', 'value', 'per unit', 'ratio'], stepRows(s)));
  }
  out.push('', 'Trace at scale', ...traceAtScaleLines(result));
  if (result.budget)
    out.push('', 'Time budget', table(['phase', 'wall time', 'share'], budgetRows(result.budget)));
  out.push('', 'Targets');
  out.push(
    table(
      ['target', 'wanted', 'measured', 'ratio', 'met'],
      targetsOf(result).map((t) => [
        t.name,
        t.target,
        t.measured,
        t.ratio === null ? '' : String(t.ratio),
        t.met ? 'met' : 'NOT MET',
      ]),
    ),
  );
  out.push(
    '',
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; load ${machine.loadAverageStart.join(' ')} → ${machine.loadAverageEnd.join(' ')}`,
  );
  return out.join('\n');
}

export function growthRows(result: BenchResult): string[][] {
  return bySize(result).map((s) => {
    const perK = (r: { ms: number; count: number }) =>
      r.count > 0 ? ((r.ms / r.count) * 1000).toFixed(1) : '–';
    return [
      `${Math.round(s.fraction * 100)}%`,
      fmt(s.households),
      fmt(s.events),
      perK(s.load),
      perK(s.naive),
      perK(s.projector),
      perK(s.replay),
      `${s.trace.p50Ms} / ${s.trace.p99Ms}`,
      fmt(s.writer.coldStartMs),
    ];
  });
}

export function markdownReport(
  result: BenchResult,
  machine: Machine,
  command: string,
  analysis: string,
): string {
  const b = result.baselines;
  const lines: string[] = [];
  lines.push('# fundtrace benchmarks', '');
  lines.push(
    `Rewritten by \`pnpm bench\` (packages/bench). Last run: ${result.startedAt} → ${result.finishedAt} (${runMinutes(result).toFixed(1)} min), command \`${command}\`.`,
    'Figures are from one run on a shared machine: read the **ratios**, which compare fundtrace with the raw limits of NATS',
    'and PostgreSQL measured in the same run, before any absolute number.',
    '',
  );
  if (result.interrupted) lines.push(`**Partial result:** ${result.interrupted}.`, '');
  lines.push(
    `Steps ran in this order: ${result.steps.map((s) => `${Math.round(s.fraction * 100)}%`).join(', ')}.`,
    '',
  );
  lines.push('## Machine', '');
  lines.push(
    table(
      ['', ''],
      [
        ['CPU', `${machine.cpu} (${machine.cores} cores)`],
        ['memory', `${machine.memoryGiB} GiB`],
        ['OS', machine.os],
        ['Node.js', machine.node],
        ['NATS server', machine.nats],
        ['PostgreSQL', machine.postgres],
        ['load average at start', machine.loadAverageStart.join(' ')],
        ['load average at end', machine.loadAverageEnd.join(' ')],
      ],
    ),
    '',
  );
  lines.push('## Targets named by the other issues', '');
  lines.push(
    table(
      ['target', 'wanted', 'measured (largest step)', 'ratio', 'met', 'note'],
      targetsOf(result).map((t) => [
        t.name,
        t.target,
        t.measured,
        t.ratio === null ? '' : String(t.ratio),
        t.met ? '**met**' : '**not met**',
        t.note,
      ]),
    ),
    '',
  );
  if (result.budget)
    lines.push(
      '## Time budget of the run',
      '',
      table(['phase', 'wall time', 'share of the run'], budgetRows(result.budget)),
      '',
      ...whereTheTimeWent(result),
    );
  lines.push('## Baselines (same run)', '');
  lines.push(
    table(
      ['baseline', 'rate', 'count'],
      [
        [
          'JetStream publish, pipelined, 1,000 in flight',
          `${fmt(b.publish.perS)} msg/s`,
          `${fmt(b.publish.count)} × ${b.payloadBytes} B`,
        ],
        [
          'JetStream durable pull consume, explicit acks',
          `${fmt(b.consume.perS)} msg/s`,
          fmt(b.consume.count),
        ],
        ['PostgreSQL multi-row INSERT (500 rows)', `${fmt(b.insert.perS)} rows/s`, fmt(b.insert.count)],
        ['PostgreSQL COPY', `${fmt(b.copy.perS)} rows/s`, fmt(b.copy.count)],
        ...generatorRows(result),
      ],
    ),
    '',
  );
  for (const s of bySize(result)) {
    lines.push(
      `## Step ${Math.round(s.fraction * 100)}%: ${fmt(s.households)} households, ${fmt(s.commands)} commands, ${fmt(s.events)} events`,
      '',
    );
    if (s.loadAverage)
      lines.push(
        `Load average ${s.loadAverage.start.join(' ')} when the step started, ${s.loadAverage.end.join(' ')} when it ended.`,
        '',
      );
    lines.push(table(['figure', 'value', 'per unit', 'ratio'], stepRows(s)), '');
    if (s.budget)
      lines.push(
        `Time budget of the ${Math.round(s.fraction * 100)} % step:`,
        '',
        table(['phase', 'wall time', 'share of the step'], budgetRows(s.budget)),
        '',
      );
  }
  lines.push('## Trace at 1,000,000 payments (src/trace-scale.ts)', '', ...traceAtScaleLines(result), '');
  lines.push(
    '## Growth (cost per 1,000 events should stay flat; trace should grow at most logarithmically)',
    '',
  );
  lines.push(
    table(
      [
        'step',
        'households',
        'events',
        'load ms/1k',
        'naive ms/1k',
        'projector ms/1k',
        'replay ms/1k',
        'trace p50/p99 ms',
        'writer cold start ms',
      ],
      growthRows(result),
    ),
    '',
  );
  if (analysis.trim() !== '') lines.push(analysis.trim(), '');
  return `${lines.join('\n')}\n`;
}
