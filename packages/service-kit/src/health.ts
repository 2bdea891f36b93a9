/**
 * Readiness: whether this instance can do its job now (NATS connected and JetStream answering,
 * PostgreSQL answering, projector lag within bounds...). Liveness (`/health`) is only "the
 * process answers": restarting a process because its database is down would not help.
 */

/** A check passes by resolving and fails by throwing (the message is logged, never served). */
export type ReadinessCheck = () => Promise<void>;

/** A check slower than this counts as failed: an orchestrator's probe must get an answer quickly. */
export const readinessCheckTimeoutMs = 2_000;

export type CheckStatus = 'ok' | 'failed' | 'timed_out';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckStatus>;
  /** Names of the checks that did not pass, sorted. */
  failing: string[];
  /** Failure messages by check, for the log only. */
  errors: Record<string, string>;
}

const checkNamePattern = /^[a-z][a-z0-9_]*$/;

export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();

  /** Registers a named check (snake_case, unique). */
  add(name: string, check: ReadinessCheck): void {
    if (!checkNamePattern.test(name))
      throw new Error(`Readiness check name ${JSON.stringify(name)} is not snake_case`);
    if (this.#checks.has(name)) throw new Error(`Readiness check ${name} is already registered`);
    this.#checks.set(name, check);
  }

  get names(): string[] {
    return [...this.#checks.keys()];
  }

  /** Runs every check in parallel, each bounded by {@link readinessCheckTimeoutMs}. */
  async run(timeoutMs = readinessCheckTimeoutMs): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]): Promise<[string, CheckStatus, string | undefined]> => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timed_out'>((resolve) => {
          timer = setTimeout(() => resolve('timed_out'), timeoutMs);
        });
        try {
          const outcome = await Promise.race([check().then(() => 'ok' as const), timeout]);
          return [name, outcome, outcome === 'timed_out' ? `no answer within ${timeoutMs} ms` : undefined];
        } catch (error) {
          return [name, 'failed', error instanceof Error ? error.message : String(error)];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const checks: Record<string, CheckStatus> = {};
    const errors: Record<string, string> = {};
    for (const [name, status, message] of entries) {
      checks[name] = status;
      if (message !== undefined) errors[name] = message;
    }
    const failing = entries
      .filter(([, status]) => status !== 'ok')
      .map(([name]) => name)
      .sort();
    return { ready: failing.length === 0, checks, failing, errors };
  }
}
