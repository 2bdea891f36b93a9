import { isNatsUnavailable, natsRetryAfterSeconds, natsUnavailableCode } from './plugins/nats';

/** Seconds a client is told to wait (Retry-After) when PostgreSQL refuses writes or cannot be reached. */
export const databaseRetryAfterSeconds = 5;

/** A temporary condition a request ran into: answered 503 with Retry-After, never 500. */
export interface Unavailability {
  readonly code: 'nats_unavailable' | 'database_read_only' | 'database_unavailable';
  readonly message: string;
  readonly retryAfterSeconds: number;
}

/** SQLSTATE 25006: the session is read-only (a standby after failover, `default_transaction_read_only`). */
const readOnlySqlState = '25006';

/** pg errors that mean the server cannot be reached or is going away: connection exceptions, shutdowns. */
function databaseUnreachable(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return (
    code.startsWith('08') ||
    code.startsWith('57P') ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT'
  );
}

/**
 * Whether `error` (or an error it wraps) is a temporary unavailability of NATS or PostgreSQL
 * rather than a bug: the request may be retried as it is (commands with the same commandId).
 */
export function temporaryUnavailability(error: unknown): Unavailability | undefined {
  if (isNatsUnavailable(error)) {
    return {
      code: natsUnavailableCode,
      message:
        'The event log (NATS) did not answer. Retry the same request, with the same commandId, in a few seconds: a command is never booked twice.',
      retryAfterSeconds: natsRetryAfterSeconds,
    };
  }
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ((e as { code?: unknown }).code === readOnlySqlState) {
      return {
        code: 'database_read_only',
        message:
          'The database accepts no writes right now (read-only, e.g. during a failover), so nothing was written. Retry the same request in a little while.',
        retryAfterSeconds: databaseRetryAfterSeconds,
      };
    }
    if (databaseUnreachable(e)) {
      return {
        code: 'database_unavailable',
        message: 'The database cannot be reached right now. Retry the same request in a little while.',
        retryAfterSeconds: databaseRetryAfterSeconds,
      };
    }
  }
  return undefined;
}
