import type { Database } from '@fundtrace/db';
import type { Logger } from '@fundtrace/eventlog';
import type { Actor } from '@fundtrace/events';
import {
  latestRules,
  loadRuleInput,
  type RaisedFinding,
  type Rule,
  type RuleReference,
  runRules,
} from '@fundtrace/rules';
import type { Kysely } from 'kysely';
import type { AuditWriter } from '../findings/writer';

/** Who appends rule findings: the rule engine, on behalf of the supervising body. */
export const rulesActor: Actor = { userId: 'rules', role: 'system', org: 'fundtrace 预警规则' };

export interface RunRequest {
  readonly partition: string;
  /** Business date deadlines are judged against. */
  readonly asOf: string;
  /** Rules to run (default: the latest version of each). */
  readonly rules?: readonly Rule<never>[];
  readonly params?: Readonly<Record<string, unknown>>;
  /** Compute and report, append nothing. */
  readonly dryRun?: boolean;
  readonly correlationId: string;
}

export interface RunReport {
  readonly partition: string;
  readonly asOf: string;
  readonly rules: readonly { readonly id: string; readonly version: number }[];
  readonly findings: readonly RaisedFinding[];
  /** Appended by this run. */
  readonly raised: readonly { readonly findingId: string; readonly seq: number }[];
  /** Found again: the stream already held them (same rule version, same data). */
  readonly known: readonly string[];
}

/**
 * The rule runner: reads a partition's books, runs the rules (pure), and has the AUDIT writer raise
 * the findings the stream does not hold yet. Runs are serialised per partition by the writer.
 */
export class RuleRunner {
  constructor(
    private readonly options: {
      readonly db: Kysely<Database>;
      readonly writers: ReadonlyMap<string, AuditWriter>;
      /** Programmes and purposes (用途) the rules judge by and name in summaries. */
      readonly reference: RuleReference;
      readonly params: Readonly<Record<string, unknown>>;
      readonly logger: Logger;
    },
  ) {}

  serves(partition: string): boolean {
    return this.options.writers.has(partition);
  }

  async run(request: RunRequest): Promise<RunReport> {
    const writer = this.options.writers.get(request.partition);
    if (writer === undefined) throw new Error(`audit-api does not write AUDIT_${request.partition}`);
    const rules = request.rules ?? latestRules();
    const input = await loadRuleInput(this.options.db, {
      partition: request.partition,
      asOf: request.asOf,
      ...this.options.reference,
    });
    const findings = runRules(input, rules, { ...this.options.params, ...(request.params ?? {}) });
    const base = {
      partition: request.partition,
      asOf: request.asOf,
      rules: rules.map((r) => ({ id: r.id, version: r.version })),
      findings,
    };
    if (request.dryRun) {
      const known = await writer.read((state) =>
        findings.filter((f) => state.findings.has(f.findingId)).map((f) => f.findingId),
      );
      return { ...base, raised: [], known };
    }
    const result = await writer.raise(findings, rulesActor, request.correlationId);
    this.options.logger.info(
      {
        partition: request.partition,
        asOf: request.asOf,
        found: findings.length,
        raised: result.raised.length,
      },
      'rules ran',
    );
    return { ...base, raised: result.raised, known: result.known };
  }
}

/** Runs every served partition's rules every `intervalMs`; a failed run is logged and tried next time. */
export function scheduleRules(options: {
  readonly runner: RuleRunner;
  readonly partitions: readonly string[];
  readonly intervalMs: number;
  readonly today: () => string;
  readonly logger: Logger;
}): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let round = 0;
  const timer =
    options.intervalMs === 0
      ? undefined
      : setInterval(() => {
          round += 1;
          running = running.then(async () => {
            for (const partition of options.partitions) {
              try {
                await options.runner.run({
                  partition,
                  asOf: options.today(),
                  correlationId: `rules-schedule-${options.today()}-${round}`,
                });
              } catch (error) {
                options.logger.warn(
                  { partition, err: error instanceof Error ? error.message : String(error) },
                  'scheduled rule run failed',
                );
              }
            }
          });
        }, options.intervalMs);
  return {
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      await running;
    },
  };
}
