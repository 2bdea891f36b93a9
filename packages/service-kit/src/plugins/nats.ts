import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import fp from 'fastify-plugin';

/** How long the first connection may take; an unreachable NATS must fail startup, not hang it. */
export const natsConnectTimeoutMs = 10_000;

/** Wait between reconnect attempts after a lost connection (the client retries forever meanwhile). */
export const natsReconnectWaitMs = 1_000;

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
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') app.log.warn({ server: status.server }, 'NATS disconnected');
        else if (status.type === 'reconnect') app.log.info({ server: status.server }, 'NATS reconnected');
        else if (status.type === 'error') app.log.error({ err: status.error }, 'NATS server error');
      }
    })();

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
