import { resolve } from 'node:path';
import { beijingDate } from '@fundtrace/events';
import { generateHouseholds } from '@fundtrace/pii';
import { Command, InvalidArgumentError } from 'commander';
import { bearerToken, serviceUrl, UsageError } from '../context';
import { callApi } from '../http';
import { progressBar } from '../progress';
import { writeHouseholdsFile, writeHouseholdTemplate } from './registry-files';
import { formatRowErrors, ImportRejectedError, importHouseholdsFile, importSummary } from './registry-import';

/** `fundtrace registry …`: household roster import, its template, and generated demo rosters. */
export function registryCommand(): Command {
  const registry = new Command('registry').description(
    'registered households (建档立卡): import rosters, templates, erase personal data',
  );

  registry
    .command('import')
    .description(
      'import a CSV/XLSX household roster (one row per person); any bad row rejects the whole file',
    )
    .argument('<file>', 'CSV or XLSX file (see `fundtrace registry template`)')
    .requiredOption('--partition <code>', 'county code, e.g. 411325')
    .option('--dry-run', 'check every row against the county and append nothing', false)
    .option('--command-id <id>', 'idempotency key (default: derived from the file, so a re-run resumes)')
    .option('--url <url>', 'registry-api base URL')
    .option('--token <token>', 'bearer token of a registry officer')
    .action(
      async (
        file: string,
        options: { partition: string; dryRun: boolean; commandId?: string; url?: string; token?: string },
      ) => {
        if (!/^\d{6}$/.test(options.partition)) throw new UsageError('--partition 应为 6 位县级行政区划代码');
        let bar: ReturnType<typeof progressBar> | undefined;
        let phase = '';
        try {
          const summary = await importHouseholdsFile({
            file: resolve(file),
            partition: options.partition,
            dryRun: options.dryRun,
            baseUrl: serviceUrl('registry-api', options.url),
            token: bearerToken('registry', options.token),
            ...(options.commandId ? { commandId: options.commandId } : {}),
            onProgress: (next, done, total) => {
              if (next !== phase) {
                bar?.stop();
                phase = next;
                bar = progressBar(
                  { reading: '正在读取', checking: '正在检查', appending: '正在登记' }[next],
                  total,
                );
              }
              bar?.update(done, total);
            },
          });
          bar?.stop();
          process.stdout.write(`${importSummary(summary)}\n`);
        } catch (error) {
          bar?.stop();
          if (error instanceof ImportRejectedError) {
            process.stderr.write(`${error.message}：\n${formatRowErrors(error.errors)}\n`);
            process.exitCode = 2;
            return;
          }
          throw error;
        }
      },
    );

  registry
    .command('erase')
    .description(
      "erase a household's personal data (个人信息保护法 art. 47): destroys its data key and records the erasure; the household must have exited first",
    )
    .argument('<householdId>', 'household number (户编号)')
    .requiredOption('--partition <code>', 'county code, e.g. 411325')
    .requiredOption(
      '--reason <text>',
      'who asked and on what ground (no personal data: it is kept in the log)',
    )
    .option('--on <date>', 'business date of the erasure (YYYY-MM-DD, default today in China)')
    .option(
      '--command-id <id>',
      'idempotency key (default: erase-<householdId>, so a re-run repeats nothing)',
    )
    .option('--url <url>', 'registry-api base URL')
    .option('--token <token>', 'bearer token of a registry officer (the erasure is recorded under its user)')
    .action(
      async (
        householdId: string,
        options: {
          partition: string;
          reason: string;
          on?: string;
          commandId?: string;
          url?: string;
          token?: string;
        },
      ) => {
        if (!/^\d{6}$/.test(options.partition)) throw new UsageError('--partition is a 6-digit county code');
        const erasedOn = options.on ?? beijingDate(Date.now());
        if (!/^\d{4}-\d{2}-\d{2}$/.test(erasedOn)) throw new UsageError('--on is a date, YYYY-MM-DD');
        const result = await callApi<{ duplicate: boolean; lastSeq: number | null }>({
          baseUrl: serviceUrl('registry-api', options.url),
          path: `/v1/partitions/${options.partition}/households/${encodeURIComponent(householdId)}/erasures`,
          token: bearerToken('registry', options.token),
          body: { commandId: options.commandId ?? `erase-${householdId}`, erasedOn, reason: options.reason },
        });
        process.stdout.write(
          `${result.duplicate ? 'already erased' : 'erased'}: the personal data of household ${householdId} (its data key is destroyed; hashes and masks remain), registry sequence ${result.lastSeq ?? '-'}\n`,
        );
      },
    );

  registry
    .command('template')
    .description('write the XLSX import template (header, one example row, instructions sheet)')
    .argument('[path]', 'where to write it', 'households-template.xlsx')
    .action(async (path: string) => {
      await writeHouseholdTemplate(resolve(path));
      process.stdout.write(`wrote ${resolve(path)}\n`);
    });

  registry
    .command('generate')
    .description('write a roster of realistic generated households (demo, benchmarks); same seed, same file')
    .argument('<path>', 'CSV or XLSX file to write')
    .option('--county <code>', 'county code', '411325')
    .option('--villages <n>', 'number of villages', '200')
    .option('--count <n>', 'number of households', '1000')
    .option('--seed <seed>', 'random seed', 'demo')
    .option(
      '--first-number <n>',
      'number the households from here; to add to a county that has households 1–300 (the demo), 301 with another --seed, so ID numbers differ too',
      firstHouseholdNumber,
      1,
    )
    .action(
      async (
        path: string,
        options: { county: string; villages: string; count: string; seed: string; firstNumber: number },
      ) => {
        const households = generateHouseholds({
          county: options.county,
          villages: Number(options.villages),
          count: Number(options.count),
          seed: options.seed,
          firstNumber: options.firstNumber,
        });
        const rows = await writeHouseholdsFile(resolve(path), households);
        process.stdout.write(`wrote ${households.length} households (${rows} rows) to ${resolve(path)}\n`);
      },
    );

  return registry;
}

/** A household number is `<county><8 digits>`, so it counts from 1 to 99,999,999. */
export function firstHouseholdNumber(text: string): number {
  const n = Number(text);
  if (!/^\d{1,8}$/.test(text) || n < 1) throw new InvalidArgumentError('expected a whole number 1–99999999');
  return n;
}
