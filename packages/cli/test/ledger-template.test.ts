import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTable, writeTemplate } from '@fundtrace/tabular';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templates } from '../src/commands/ledger-files';
import { writeHouseholdTemplate } from '../src/commands/registry-files';
import { root, runCli } from './run-cli';

/**
 * `fundtrace ledger template <kind>` without a path, run as a person runs it (its own process):
 * it wrote over the committed templates/*.xlsx with new timestamps, leaving the checkout dirty.
 * Now it writes to the current directory and leaves the repository's templates alone; and a
 * template is the same bytes on every run (fixed workbook and zip entry times), so the committed
 * ones are exactly what the code writes today.
 */
describe('fundtrace ledger template', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fundtrace-template-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('without a path writes ledger-<kind>.xlsx in the current directory, not over templates/', async () => {
    const shipped = join(root, 'templates', templates.roster.file);
    const before = await readFile(shipped);
    const run = await runCli(['ledger', 'template', 'roster'], dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const written = join(dir, templates.roster.file);
    expect(run.stdout).toBe(`wrote ${written}\n`);
    expect((await readFile(shipped)).equals(before)).toBe(true);
    expect((await readFile(written)).equals(before), 'the CLI writes the committed bytes').toBe(true);
    const rows = [];
    for await (const row of readTable({ path: written }, { columns: templates.roster.columns }))
      rows.push(row);
    expect(rows).toHaveLength(1);
  });

  it('every committed template is byte for byte what the code writes now (regenerate templates/ when this fails)', async () => {
    const shipped: Array<[string, (path: string) => Promise<void>]> = [
      ...Object.values(templates).map(
        (t) =>
          [t.file, (path: string) => writeTemplate(t.columns, t.example, path)] as [
            string,
            (path: string) => Promise<void>,
          ],
      ),
      ['households.xlsx', writeHouseholdTemplate],
    ];
    for (const [file, write] of shipped) {
      const path = join(dir, `now-${file}`);
      await write(path);
      expect((await readFile(path)).equals(await readFile(join(root, 'templates', file))), file).toBe(true);
    }
  });
});
