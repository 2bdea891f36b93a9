import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The logger used when a caller injects none: silent, so a library never writes to
 * stdout behind a service's back. Services pass their own pino logger.
 *
 * Rule for every log line in this package: stream, sequence, subject and event type
 * only, never a payload (payloads may carry encrypted personal data).
 */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
