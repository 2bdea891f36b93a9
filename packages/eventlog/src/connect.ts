import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type Logger, silentLogger } from './log';

/**
 * Reconnect forever: a writer or projector without NATS can do nothing useful, and
 * its readiness probe reports the outage; giving up would need a restart to recover.
 */
const reconnectAttemptsMax = -1;
/** Pause between reconnect attempts; with jitter so a fleet does not reconnect in lockstep. */
const reconnectWaitMs = 500;
const reconnectJitterMs = 250;
/**
 * A silent dead TCP connection (a pulled cable, a paused server) is detected by
 * unanswered pings: 5 s × 3 missed pings ≈ 15 s, well under the projection's ack wait.
 */
const pingIntervalMs = 5_000;
const pingsOutstandingMax = 3;
/** First connect: fail within this when the server is down, rather than hang the boot. */
const connectTimeoutMs = 5_000;

export interface ConnectNatsOptions {
  /** Connection name, shown in the server's monitoring (`connz`): the service name. */
  readonly name: string;
  readonly logger?: Logger;
  /** Keep trying the first connect too (for services that boot before NATS). Default false. */
  readonly waitOnFirstConnect?: boolean;
  /**
   * Capture the caller's stack for every request, so a timed-out request says where it came from
   * (default true). The client takes the stack up front, for every request: a projector acks each
   * message with a request, and the profile of issue 5 found these stack captures among its top
   * frames, so it turns them off.
   */
  readonly asyncTraces?: boolean;
}

/**
 * Connects to NATS with fundtrace's reconnect settings and logs connection status
 * changes (never message contents).
 */
export async function connectNats(
  url: string | readonly string[],
  options: ConnectNatsOptions,
): Promise<NatsConnection> {
  const logger = options.logger ?? silentLogger();
  const nc = await connect({
    servers: typeof url === 'string' ? url : [...url],
    name: options.name,
    maxReconnectAttempts: reconnectAttemptsMax,
    reconnectTimeWait: reconnectWaitMs,
    reconnectJitter: reconnectJitterMs,
    pingInterval: pingIntervalMs,
    maxPingOut: pingsOutstandingMax,
    timeout: connectTimeoutMs,
    waitOnFirstConnect: options.waitOnFirstConnect ?? false,
    noAsyncTraces: options.asyncTraces === false,
  });
  void (async () => {
    for await (const status of nc.status()) {
      switch (status.type) {
        case 'disconnect':
          logger.warn({ nats: status.type, server: status.server }, 'nats disconnected');
          break;
        case 'error':
          logger.warn({ nats: status.type, err: status.error.message }, 'nats error');
          break;
        case 'staleConnection':
        case 'slowConsumer':
          logger.warn({ nats: status.type }, 'nats status');
          break;
        case 'reconnect':
          logger.info({ nats: status.type, server: status.server }, 'nats reconnected');
          break;
        default:
          logger.debug({ nats: status.type }, 'nats status');
      }
    }
  })();
  return nc;
}
