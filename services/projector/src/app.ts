import type { ProjectionLag } from '@fundtrace/eventlog';
import { type App, createApp, type LogLevel } from '@fundtrace/service-kit';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';

/**
 * A projector further behind than this is not ready: readers would see books minutes old. At the
 * measured rate (thousands of events per second) it is a few seconds of work; a backlog this size
 * that does not shrink means something is wrong.
 */
export const readyLagEventsMax = 10_000;

/** What the HTTP side needs of the running projector. */
export interface ProjectorHandle {
  schema(): string;
  lag(): Promise<ProjectionLag[]>;
  /** Streams held up by a poison event until an operator quarantines it, with the error. */
  blocked(): { readonly stream: string; readonly error: string }[];
  /** The error that stopped projection, if it stopped. */
  failed(): unknown;
}

export interface AppOptions {
  readonly projector: ProjectorHandle;
  readonly logger?: Logger;
  readonly logLevel?: LogLevel;
  /** Extra readiness checks (NATS, PostgreSQL) registered by main. */
  readonly checks?: Readonly<Record<string, () => Promise<void>>>;
}

const lagSchema = z.object({
  schema: z.string(),
  streams: z.array(
    z.object({
      stream: z.string(),
      lastStreamSeq: z.number().int(),
      checkpoint: z.number().int(),
      lag: z.number().int(),
    }),
  ),
});

export interface ProjectorApp {
  readonly app: App;
  /** Counts events applied (main wires it to the runner's afterCommit). */
  readonly applied: Counter<'stream'>;
}

/**
 * The projector's HTTP face: /health, /ready (projection running, not failed, lag within
 * {@link readyLagEventsMax} on every stream), /lag (per stream: last sequence in NATS vs
 * projected), /metrics (lag gauges per stream, events applied).
 */
export async function buildApp(options: AppOptions): Promise<ProjectorApp> {
  const app = await createApp({
    name: 'projector',
    version: '0.1.0',
    description:
      'Projects the LEDGER, REGISTRY and AUDIT streams of every partition into the PostgreSQL books.',
    auth: false,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
  });
  const { projector } = options;
  for (const [name, check] of Object.entries(options.checks ?? {})) app.readiness.add(name, check);
  app.readiness.add('projection', async () => {
    const failure = projector.failed();
    if (failure !== undefined)
      throw new Error(`projection stopped: ${failure instanceof Error ? failure.message : String(failure)}`);
    const blocked = projector.blocked();
    if (blocked.length > 0) {
      throw new Error(
        `waiting for an operator (fundtrace quarantine, or an upcaster): ${blocked.map((b) => b.error).join('; ')}`,
      );
    }
    const behind = (await projector.lag()).filter((lag) => lag.lag > readyLagEventsMax);
    if (behind.length > 0) {
      throw new Error(
        `behind by more than ${readyLagEventsMax} events: ${behind.map((lag) => `${lag.stream} ${lag.lag}`).join(', ')}`,
      );
    }
  });

  const registry = app.metrics.registry;
  new Gauge({
    name: 'fundtrace_projection_lag_events',
    help: 'Events in the stream not yet applied to the books (stream last sequence minus checkpoint)',
    labelNames: ['stream'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const lag of await projector.lag().catch(() => [])) this.set({ stream: lag.stream }, lag.lag);
    },
  });
  new Gauge({
    name: 'fundtrace_projection_checkpoint_seq',
    help: 'Last stream sequence applied to the books',
    labelNames: ['stream'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const lag of await projector.lag().catch(() => []))
        this.set({ stream: lag.stream }, lag.checkpoint);
    },
  });
  const applied = new Counter({
    name: 'fundtrace_projection_events_applied_total',
    help: 'Events applied to the books since the process started',
    labelNames: ['stream'] as const,
    registers: [registry],
  });

  app.get(
    '/lag',
    {
      schema: {
        summary: 'Per stream: last sequence in NATS vs last sequence projected',
        tags: ['operations'],
        response: { 200: lagSchema },
      },
    },
    async () => ({
      schema: projector.schema(),
      streams: (await projector.lag())
        .map((lag) => ({
          stream: lag.stream,
          lastStreamSeq: lag.lastStreamSeq,
          checkpoint: lag.checkpoint,
          lag: lag.lag,
        }))
        .sort((a, b) => a.stream.localeCompare(b.stream)),
    }),
  );
  return { app, applied };
}
