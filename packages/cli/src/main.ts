#!/usr/bin/env node
// The fundtrace command line: `pnpm fundtrace <command>`. Each command lives in
// src/commands/ and is registered below, one line each. Only the command asked
// for is loaded, so `fundtrace verify` does not pay for the import tooling.
import { existsSync } from 'node:fs';
import { TableError } from '@fundtrace/tabular';
import { Command } from 'commander';
import { UsageError } from './context';
import { ApiError, describeApiError } from './http';

/**
 * `pnpm fundtrace …` runs in the workspace root whatever directory it was typed in; pnpm keeps that
 * directory in INIT_CWD. File arguments (rosters, templates, evidence, bundles) are the person's,
 * relative to where they are: `cd ~/rosters && pnpm -s fundtrace ledger import roster 9月.xlsx`
 * looked for the file in the repository, and `ledger template` wrote there. Only under pnpm's
 * script runner: a process started otherwise keeps the directory it was given.
 */
const typedIn = process.env.INIT_CWD;
if (process.env.npm_lifecycle_event === 'fundtrace' && typedIn && existsSync(typedIn)) process.chdir(typedIn);

const commands: ReadonlyArray<{ name: string; load: () => Promise<Command> }> = [
  { name: 'token', load: async () => (await import('./commands/token')).tokenCommand() },
  { name: 'verify', load: async () => (await import('./commands/verify')).verifyCommand() },
  { name: 'registry', load: async () => (await import('./commands/registry-command')).registryCommand() },
  { name: 'ledger', load: async () => (await import('./commands/ledger-command')).ledgerCommand() },
  { name: 'replay', load: async () => (await import('./commands/replay')).replayCommand() },
  { name: 'check', load: async () => (await import('./commands/check')).checkCommand() },
  { name: 'quarantine', load: async () => (await import('./commands/quarantine')).quarantineCommand() },
  { name: 'generate', load: async () => (await import('./commands/generate')).generateCommand() },
  { name: 'trace', load: async () => (await import('./commands/trace')).traceCommand() },
  { name: 'findings', load: async () => (await import('./commands/findings')).findingsCommand() },
  { name: 'rules', load: async () => (await import('./commands/rules')).rulesCommand() },
];

const program = new Command('fundtrace')
  .description('fundtrace: trace poverty-alleviation funds from allocation to household')
  .showHelpAfterError();

const requested = commands.filter((c) => c.name === process.argv[2]);
for (const command of requested.length > 0 ? requested : commands) program.addCommand(await command.load());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ApiError) {
    process.stderr.write(`${describeApiError(error)}\n`);
    process.exit(error.status >= 500 || error.status === 0 ? 3 : 2);
  }
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  if (error instanceof TableError) {
    // A file that cannot be read at all (a broken zip, a wrong encoding, a bad header): say why, where
    // (tabular's messages name the row), each header problem on its own line, the code last (0135).
    const problems = error.problems.map((p) => `\n  ${p.message}`).join('');
    const message =
      error.problems.length > 0 && error.rowNumber !== undefined
        ? `表头（第 ${error.rowNumber} 行）有误`
        : error.message;
    process.stderr.write(`无法读取该文件：${message}（${error.code}）${problems}\n`);
    process.exit(2);
  }
  throw error;
}
