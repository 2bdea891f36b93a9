import type { FastifyInstance } from 'fastify';

/**
 * Longest a graceful shutdown may take before the process gives up and exits 1. Kubernetes
 * sends SIGKILL 30 s after SIGTERM by default; stopping on our own first leaves a log line.
 */
export const shutdownTimeoutMs = 25_000;

export type ShutdownHook = () => Promise<void>;

export interface RunOptions {
  port: number;
  host: string;
  /**
   * Run after HTTP has stopped accepting and in-flight requests are done, before NATS and
   * PostgreSQL close, in order: drain consumers, flush pending appends.
   */
  onShutdown?: readonly ShutdownHook[];
  /** Signals that start a shutdown. */
  signals?: readonly NodeJS.Signals[];
  /** Exit function (tests observe it instead of exiting). */
  exit?: (code: number) => void;
  shutdownTimeoutMs?: number;
}

export interface RunningService {
  /** The bound address, e.g. `http://127.0.0.1:4101`. */
  address: string;
  /** Runs the same graceful shutdown a signal does; resolves with the exit code it used. */
  shutdown: (reason: string) => Promise<number>;
}

/**
 * Listens, then on SIGTERM/SIGINT shuts down in order: mark not ready (`/ready` → 503), stop
 * accepting connections and let in-flight requests finish, run `onShutdown` hooks (drain
 * consumers), close the app (plugins close NATS and PostgreSQL), exit 0. A second signal exits
 * 1 at once; a shutdown that hangs past {@link shutdownTimeoutMs} exits 1.
 */
export async function runService(app: FastifyInstance, options: RunOptions): Promise<RunningService> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const timeoutMs = options.shutdownTimeoutMs ?? shutdownTimeoutMs;
  const address = await app.listen({ port: options.port, host: options.host });
  app.log.info({ address }, 'listening');

  let shutdownPromise: Promise<number> | undefined;

  const shutdown = (reason: string): Promise<number> => {
    if (shutdownPromise) return shutdownPromise;
    shutdownPromise = (async () => {
      app.log.info({ reason }, 'shutting down');
      app.shuttingDown = true;
      const timer = setTimeout(() => {
        app.log.error({ timeoutMs }, 'shutdown timed out; exiting');
        exit(1);
      }, timeoutMs);
      // Not unref'd: this timer also keeps the process alive while a hook awaits something that
      // holds no handle of its own, so the shutdown ends by the hook finishing or by this limit.
      let code = 0;
      try {
        // 1. No new connections; idle keep-alive sockets close now, busy ones after their response
        //    (createApp answers `connection: close` once shuttingDown is set).
        await new Promise<void>((resolve) => {
          app.server.close(() => resolve());
          app.server.closeIdleConnections();
        });
        // 2. Consumers drain while NATS and PostgreSQL are still open.
        for (const hook of options.onShutdown ?? []) await hook();
        // 3. Plugins close their connections (fastify tolerates the already-closed server).
        await app.close();
        app.log.info('shut down cleanly');
      } catch (error) {
        app.log.error({ err: error }, 'shutdown failed');
        code = 1;
      } finally {
        clearTimeout(timer);
      }
      return code;
    })();
    return shutdownPromise;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (shutdownPromise) {
      app.log.warn({ signal }, 'second signal: exiting immediately');
      exit(1);
      return;
    }
    void shutdown(signal).then((code) => {
      for (const each of signals) process.off(each, onSignal);
      exit(code);
    });
  };
  for (const signal of signals) process.on(signal, onSignal);

  return { address, shutdown };
}
