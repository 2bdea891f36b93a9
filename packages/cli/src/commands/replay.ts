import { rebuildBooks, switchSchema } from '@fundtrace/books';
import { assertIdentifier } from '@fundtrace/db';
import { connectNats } from '@fundtrace/eventlog';
import { Command, Option } from 'commander';
import { UsageError } from '../context';
import { progressBar } from '../progress';

/** A fresh schema name for a rebuild: `books_` and the UTC time to the second, so runs sort by age. */
function defaultSchema(now: Date): string {
  return `books_${now.toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
}

/**
 * `fundtrace replay`: rebuilds every read model from sequence 1 into a new schema while the active
 * one keeps serving, then switches readers (and the running projector) to it.
 */
export function replayCommand(): Command {
  return new Command('replay')
    .description('rebuild the books from sequence 1 into a new schema, then make it the active one')
    .option('--schema <name>', 'schema to build (default books_<UTC timestamp>)')
    .option('--no-switch', 'build and catch up only; leave the active schema as it is')
    .addOption(
      new Option('--batch-size <n>', 'events per transaction')
        .argParser((v) => Number.parseInt(v, 10))
        .default(500),
    )
    .action(async (options: { schema?: string; switch: boolean; batchSize: number }) => {
      const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/fundtrace';
      const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
      const ns = process.env.FUNDTRACE_NAMESPACE ?? '';
      const schema = options.schema ?? defaultSchema(new Date());
      try {
        assertIdentifier('schema', schema);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > 1_000) {
        throw new UsageError('--batch-size must be an integer from 1 to 1000');
      }
      const nc = await connectNats(natsUrl.split(','), { name: 'fundtrace-replay' });
      const progress = progressBar(`replay into ${schema}`, 0);
      try {
        const result = await rebuildBooks({
          url,
          nc,
          ns,
          schema,
          batchSize: options.batchSize,
          onProgress: (applied) => progress.update(applied),
        });
        progress.stop();
        const seconds = result.elapsedMs / 1000;
        process.stdout.write(
          `rebuilt ${schema}: ${result.applied} events from ${result.streams.length} streams in ${seconds.toFixed(1)} s (${Math.round(result.applied / Math.max(seconds, 0.001))} events/s)\n`,
        );
        for (const stream of result.streams)
          process.stdout.write(`  ${stream.stream} up to #${stream.lastSeq}\n`);
        if (options.switch) {
          const previous = await switchSchema(url, schema);
          process.stdout.write(`active schema: ${previous ?? '(none)'} → ${schema}\n`);
          if (previous !== null) {
            process.stdout.write(
              `the old schema ${previous} is kept; drop it once nothing reads it any more\n`,
            );
          }
        }
      } finally {
        progress.stop();
        await nc.close();
      }
    });
}
