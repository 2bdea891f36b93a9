#!/usr/bin/env node
// The fundtrace command line: `pnpm fundtrace <command>`. Each command lives in
// src/commands/ and is registered here, one line each.
import { Command } from 'commander';
import { checkCommand } from './commands/check';
import { ledgerCommand } from './commands/ledger-command';
import { registryCommand } from './commands/registry-command';
import { replayCommand } from './commands/replay';
import { tokenCommand } from './commands/token';
import { verifyCommand } from './commands/verify';
import { UsageError } from './context';
import { ApiError, describeApiError } from './http';

const program = new Command('fundtrace')
  .description('fundtrace: trace poverty-alleviation funds from allocation to household')
  .showHelpAfterError();

program.addCommand(tokenCommand());
program.addCommand(verifyCommand());
program.addCommand(registryCommand());
program.addCommand(ledgerCommand());
program.addCommand(replayCommand());
program.addCommand(checkCommand());

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
  throw error;
}
