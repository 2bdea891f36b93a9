import {
  type HouseholdRows,
  householdColumns,
  type ParsedHousehold,
  parseHouseholdRows,
  type RowError,
  type SourceRow,
} from '@fundtrace/pii';
import { decide, type RegistryEventDraft, registrationIdHashes } from '../households/decide';
import type { Problem } from '../households/rejections';
import type { IdOwner } from '../households/state';
import {
  appendRetriesMax,
  type CommandMeta,
  importBatchEventsMax,
  type RegistryWriter,
} from '../writer/registry-writer';

/**
 * Imports of household rosters (CSV/XLSX read by the CLI, rows posted here). All or nothing: every
 * row is checked — its shape, then the registry's rules against the county and the rest of the file
 * — and any bad row rejects the whole file with every problem listed; only a clean file is appended,
 * as pipelined batches under one command id, while the client polls the progress.
 */

export type ImportStatus = 'appending' | 'done' | 'failed';

export interface ImportJob {
  readonly importId: string;
  readonly partition: string;
  status: ImportStatus;
  readonly rows: number;
  readonly households: number;
  appendedHouseholds: number;
  appendedEvents: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Why a started import stopped (an outage); the same request resumes it. */
  error: string | null;
}

export type ImportOutcome =
  | {
      readonly kind: 'rejected';
      readonly errors: RowError[];
      readonly rows: number;
      readonly households: number;
    }
  | { readonly kind: 'dry_run'; readonly rows: number; readonly households: number }
  | { readonly kind: 'started'; readonly job: ImportJob }
  | { readonly kind: 'idempotency_key_reused' };

/** Finished imports remembered for progress queries; older ones answer from the command record. */
export const importJobsKeptMax = 100;

const columnOfField: Readonly<Record<string, string>> = {
  householdId: 'householdId',
  villageCode: 'villageCode',
  name: 'name',
  idNumber: 'idNumber',
  relation: 'relation',
  birthDate: 'birthDate',
  phone: 'phone',
  account: 'accountNumber',
  holderMemberNo: 'accountNumber',
  liftedOn: 'liftedOn',
  registeredOn: 'registeredOn',
};

export class ImportService {
  private readonly jobs = new Map<string, ImportJob>();

  constructor(private readonly writer: RegistryWriter) {}

  job(importId: string): ImportJob | undefined {
    const job = this.jobs.get(importId);
    if (job !== undefined) return job;
    const record = this.writer.state.commands.get(importId);
    if (record === undefined) return undefined;
    // Imported before this process started: the log is the record.
    return {
      importId,
      partition: this.writer.partition,
      status: 'done',
      rows: 0,
      households: 0,
      appendedHouseholds: 0,
      appendedEvents: record.events,
      firstSeq: record.firstSeq,
      lastSeq: record.lastSeq,
      error: null,
    };
  }

  /**
   * Validates the whole file under the county's lock and, when it is clean and not a dry run,
   * starts appending in the same lock hold (so nothing can change the county between the check
   * and the append). Resolves once validation is over; the append goes on in the background.
   */
  start(
    header: readonly string[],
    rows: readonly SourceRow[],
    meta: CommandMeta,
    dryRun: boolean,
  ): Promise<ImportOutcome> {
    return new Promise<ImportOutcome>((resolve, reject) => {
      this.writer
        .exclusive(async () => {
          const record = this.writer.state.commands.get(meta.commandId);
          if (record !== undefined && record.digest !== meta.digest) {
            resolve({ kind: 'idempotency_key_reused' });
            return;
          }
          const running = this.jobs.get(meta.commandId);
          if (running !== undefined && running.status === 'done') {
            resolve({ kind: 'started', job: running });
            return;
          }
          const parsed = parseHouseholdRows(header, rows);
          const { errors, pending } = this.validate(header, parsed.households, meta);
          errors.push(...parsed.errors);
          errors.sort((a, b) => a.row - b.row);
          const counts = { rows: rows.length, households: parsed.households.length };
          if (errors.length > 0) {
            resolve({ kind: 'rejected', errors, ...counts });
            return;
          }
          if (dryRun) {
            resolve({ kind: 'dry_run', ...counts });
            return;
          }
          const job: ImportJob = {
            importId: meta.commandId,
            partition: this.writer.partition,
            status: 'appending',
            ...counts,
            appendedHouseholds: 0,
            appendedEvents: 0,
            firstSeq: null,
            lastSeq: null,
            error: null,
          };
          this.remember(job);
          resolve({ kind: 'started', job });
          try {
            await this.append(parsed.households, pending, meta, job);
            job.status = 'done';
          } catch (error) {
            job.status = 'failed';
            job.error = error instanceof Error ? error.message : String(error);
            // The request was answered (202) before the append began: the log is where this surfaces.
            this.writer.logger.error(
              {
                importId: job.importId,
                partition: job.partition,
                appendedHouseholds: job.appendedHouseholds,
                err: error,
              },
              'import stopped; re-posting the same file resumes it',
            );
          }
        })
        .catch(reject);
    });
  }

  /** Every household against the county and the households before it in the file. */
  private validate(
    header: readonly string[],
    households: readonly ParsedHousehold[],
    meta: CommandMeta,
  ): { errors: RowError[]; pending: Map<string, IdOwner> } {
    const errors: RowError[] = [];
    const pending = new Map<string, IdOwner>();
    const context = { ...this.writer.context(meta, pending), validateOnly: true };
    for (const { input, rows } of households) {
      const decision = decide(
        { kind: 'register', household: input },
        this.writer.state.households.get(input.householdId),
        context,
      );
      if (!decision.ok) {
        for (const problem of decision.rejection.problems) errors.push(rowError(header, problem, rows));
        continue;
      }
      registrationIdHashes(input.members, this.writer.keyring).forEach((hash, i) => {
        pending.set(hash, { householdId: input.householdId, memberNo: i + 1 });
      });
    }
    return { errors, pending };
  }

  private async append(
    households: readonly ParsedHousehold[],
    pending: ReadonlyMap<string, IdOwner>,
    meta: CommandMeta,
    job: ImportJob,
  ): Promise<void> {
    let from = 0;
    while (from < households.length) {
      let to = from;
      let attempt = 0;
      for (;;) {
        const drafts: RegistryEventDraft[] = [];
        to = from;
        // Every household yields at least one event, so a batch never goes past this window.
        const rings = await this.writer.sealingKeyrings(
          households.slice(from, from + importBatchEventsMax).map(({ input }) => ({
            householdId: input.householdId,
            existing: this.writer.state.households.get(input.householdId),
          })),
        );
        while (to < households.length && drafts.length < importBatchEventsMax) {
          const { input } = households[to]!;
          const decision = decide(
            { kind: 'register', household: input },
            this.writer.state.households.get(input.householdId),
            this.writer.context(meta, pending, rings.get(input.householdId)),
          );
          if (!decision.ok) {
            // Validated under this same lock: only another writer appending meanwhile can do this.
            throw new Error(
              `household ${input.householdId} became invalid during its import: ${decision.rejection.code}`,
            );
          }
          drafts.push(...decision.events);
          to++;
        }
        if (drafts.length === 0) break; // everything in this range was stored by an earlier attempt
        const firstIndex = this.writer.state.commands.get(meta.commandId)?.events ?? 0;
        const outcome = await this.writer.appendDrafts(drafts, meta, firstIndex);
        if (outcome !== 'retry') {
          job.firstSeq ??= outcome.firstSeq;
          job.lastSeq = outcome.lastSeq;
          job.appendedEvents += drafts.length;
          break;
        }
        if (++attempt > appendRetriesMax) {
          throw new Error(
            `import ${meta.commandId} lost ${attempt} append races in a row: is a second writer running?`,
          );
        }
      }
      job.appendedHouseholds = to;
      from = to;
    }
  }

  private remember(job: ImportJob): void {
    this.jobs.set(job.importId, job);
    if (this.jobs.size > importJobsKeptMax) {
      for (const [id, old] of this.jobs) {
        if (old.status !== 'appending') {
          this.jobs.delete(id);
          break;
        }
      }
    }
  }
}

/** A decider problem reported against the row (and column) it came from. */
function rowError(header: readonly string[], problem: Problem, rows: HouseholdRows): RowError {
  const row =
    problem.member !== undefined
      ? (rows.members[problem.member - 1] ?? rows.first)
      : problem.field === 'account' || problem.field === 'holderMemberNo'
        ? (rows.account ?? rows.first)
        : rows.first;
  const key = problem.field === undefined ? undefined : columnOfField[problem.field];
  const column = key === undefined ? undefined : householdColumns.find((c) => c.key === key);
  const spelled =
    column === undefined
      ? undefined
      : header.find((h) => h.trim() === column.header || h.trim() === column.key);
  return {
    row,
    column: spelled ?? column?.header,
    reason: problem.reason === undefined ? problem.code : `${problem.code}.${problem.reason}`,
    message: problem.message,
  };
}
