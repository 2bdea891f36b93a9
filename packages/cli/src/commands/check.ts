import { checkBooks, quarantinedEvents } from '@fundtrace/books';
import { assertIdentifier, createDb, type Database, getActiveSchema } from '@fundtrace/db';
import { Command } from 'commander';
import { UsageError } from '../context';

/**
 * `fundtrace check`: runs the projector's invariants over the whole database (every event's
 * entries balance, no balance below zero, tranche remainders and flows within their amounts,
 * every payment traced to a root allocation). Exit code 1 when any check finds a violation.
 */
export function checkCommand(): Command {
  return new Command('check')
    .description('check the invariants of the books over the whole database')
    .option('--schema <name>', 'read-model schema to check (default: the active one)')
    .option('--json', 'print the results as JSON')
    .action(async (options: { schema?: string; json?: boolean }) => {
      const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/fundtrace';
      const admin = createDb<unknown>(url, { max: 1, applicationName: 'fundtrace-check' });
      let schema: string | null;
      try {
        schema = options.schema ?? (await getActiveSchema(admin));
      } finally {
        await admin.destroy();
      }
      if (schema === null)
        throw new UsageError('No active read-model schema: start the projector first, or pass --schema.');
      try {
        assertIdentifier('schema', schema);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const db = createDb<Database>(url, { schema, max: 1, applicationName: 'fundtrace-check' });
      try {
        const results = await checkBooks(db);
        const quarantined = await quarantinedEvents(db);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ schema, results, quarantined }, null, 2)}\n`);
        } else {
          process.stdout.write(`checking the books in schema ${schema}\n`);
          for (const result of results) {
            const mark = result.violations === 0 ? 'ok  ' : 'FAIL';
            process.stdout.write(
              `${mark} ${result.name}: ${result.rule}${result.violations === 0 ? '' : ` (${result.violations} violations)`}\n`,
            );
            for (const example of result.examples) process.stdout.write(`       ${example}\n`);
          }
          // Not a violation: each is an operator's recorded decision, shown so none goes unnoticed.
          process.stdout.write(`quarantined events (fundtrace quarantine): ${quarantined.length}\n`);
          for (const q of quarantined) {
            process.stdout.write(
              `  ${q.stream} #${q.seq} ${q.claimedType ?? '(no type)'} ${q.bytes} bytes, leaf hash ${q.leafHash}\n` +
                `       by ${q.by} at ${q.at} (${q.quarantine}): ${q.reason}\n` +
                `       could not be decoded: ${q.decodeError}\n`,
            );
          }
        }
        if (results.some((result) => result.violations > 0)) process.exitCode = 1;
      } finally {
        await db.destroy();
      }
    });
}
