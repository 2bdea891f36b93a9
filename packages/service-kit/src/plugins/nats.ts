import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** How long the first connection may take; an unreachable NATS must fail startup, not hang it. */
export const natsConnectTimeoutMs = 10_000;

/** Wait between reconnect attempts after a lost connection (the client retries forever meanwhile). */
export const natsReconnectWaitMs = 1_000;

/** Seconds a client is told to wait (Retry-After) before retrying a command refused while NATS is away. */
export const natsRetryAfterSeconds = 2;

/** The code of a command refused because the event log (NATS) is unreachable. */
export const natsUnavailableCode = 'nats_unavailable';

/**
 * Names of the errors that mean "NATS did not answer": the client's own (nats-core) and the
 * eventlog's unknown append outcomes. The command may be retried with the same id: a writer
 * either appended nothing or the retry is answered as a duplicate.
 */
const natsUnavailableErrors = new Set([
  'TimeoutError',
  'NoRespondersError',
  'RequestError',
  'ConnectionError',
  'ClosedConnectionError',
  'DrainingConnectionError',
  'AppendOutcomeUnknownError',
  'BatchOutcomeUnknownError',
  // "No responders" to a publish: nothing received it, so nothing was stored. A writer's stream
  // exists, so this is JetStream between leaders (a node lost in an R3 cluster, a restart), not a
  // bad request; a roster cut short by it is completed by the same command sent again.
  'JetStreamNotEnabled',
  // A writer's catch-up read that heard nothing for its idle bound (decision 0127): its consumer
  // sits on a server that froze or went away. Nothing was decided or appended; the command sent
  // again catches up from where the writer's state ends.
  'StreamReadStalledError',
]);

/** Whether `error` (or an error it wraps) says NATS could not be reached. */
export function isNatsUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (natsUnavailableErrors.has(e.name)) return true;
  }
  return false;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A POST that needs no NATS, not refused while NATS is away: `true` for a read sent as POST (a
     * search over in-memory state or the books); a function for a route that appends in one mode
     * and not in the other (a dry run), asked with the validated request, true when this request
     * appends nothing. Such a request is read and validated before it is refused.
     */
    natsOptional?: boolean | ((request: FastifyRequest) => boolean);
  }
}

export interface NatsPluginOptions {
  /** One or more `nats://` URLs, comma-separated (config's NATS_URL). */
  url: string;
  /** Connection name shown by the server (`nats server report connections`); the service name. */
  name: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    nats: NatsConnection;
    /** JetStream client: publish, consume. */
    js: JetStreamClient;
    /** JetStream manager: streams and consumers. */
    jsm: JetStreamManager;
  }
}

/**
 * One NATS connection per service, with JetStream client and manager, decorated on the app.
 * After a lost connection the client reconnects forever while `/ready` reports `nats` failing;
 * on app close the connection is drained (pending publishes flushed, subscriptions finished).
 */
export const natsPlugin = fp<NatsPluginOptions>(
  async (app, options) => {
    const nc = await connect({
      servers: options.url.split(','),
      name: options.name,
      timeout: natsConnectTimeoutMs,
      maxReconnectAttempts: -1,
      reconnectTimeWait: natsReconnectWaitMs,
    });
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    app.decorate('nats', nc);
    app.decorate('js', js);
    app.decorate('jsm', jsm);

    let closing = false;
    nc.closed().then((error) => {
      if (!closing) app.log.error({ err: error }, 'NATS connection closed unexpectedly');
    });

    // Connection changes are what an operator looks for first when commands start failing.
    let connected = true;
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          connected = false;
          app.log.warn({ server: status.server }, 'NATS disconnected');
        } else if (status.type === 'reconnect') {
          connected = true;
          app.log.info({ server: status.server }, 'NATS reconnected');
        } else if (status.type === 'error') app.log.error({ err: status.error }, 'NATS server error');
      }
    })();

    // While disconnected, a command would wait for its NATS request to time out (seconds) and its
    // publish would sit in the client's buffer, to be sent on reconnect after the client gave up.
    // Refuse it at once instead: nothing is written, and the client retries with the same id.
    const away = () => !connected || nc.isClosed();
    const refuse = (reply: FastifyReply) =>
      reply
        .status(503)
        .header('retry-after', String(natsRetryAfterSeconds))
        .send({
          error: {
            code: natsUnavailableCode,
            message:
              'The event log (NATS) is unreachable, so nothing was written. Retry the same request, with the same commandId, in a few seconds.',
            details: {},
          },
        });
    const isRead = (request: FastifyRequest) =>
      request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS';
    app.addHook('onRequest', async (request, reply) => {
      if (!away() || isRead(request)) return;
      const optional = request.routeOptions.config?.natsOptional;
      // A function needs the validated body: it is asked just before the handler, below.
      if (optional === true || typeof optional === 'function') return;
      return refuse(reply);
    });
    app.addHook('preHandler', async (request, reply) => {
      const optional = request.routeOptions.config?.natsOptional;
      if (typeof optional !== 'function' || !away() || isRead(request) || optional(request)) return;
      return refuse(reply);
    });

    app.readiness.add('nats', async () => {
      if (nc.isClosed()) throw new Error('connection closed');
      // An account-info request proves the server answers and JetStream is enabled for us.
      await jsm.getAccountInfo();
    });

    app.addHook('onClose', async () => {
      closing = true;
      if (!nc.isClosed()) await nc.drain();
    });
  },
  { name: '@fundtrace/service-kit/nats', fastify: '5.x' },
);
