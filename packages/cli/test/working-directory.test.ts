import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root } from './run-cli';

/**
 * `pnpm -s fundtrace …` typed in another directory: pnpm runs the script in the workspace root and
 * names the directory it was typed in as INIT_CWD. A file argument is relative to that directory
 * (`ledger template roster x.xlsx` wrote /work/main/x.xlsx when typed in templates/).
 */
function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'packages/cli/src/main.ts'), ...args],
      { cwd, env: { ...process.env, ...env }, stdio: 'ignore' },
    );
    child.on('exit', done);
  });
}

describe('the directory a command was typed in', () => {
  let typedIn: string;
  let other: string;
  beforeAll(async () => {
    typedIn = await mkdtemp(join(tmpdir(), 'fundtrace-typed-in-'));
    other = await mkdtemp(join(tmpdir(), 'fundtrace-other-'));
  });
  afterAll(async () => {
    await rm(typedIn, { recursive: true, force: true });
    await rm(other, { recursive: true, force: true });
  });

  it('under pnpm (npm_lifecycle_event fundtrace) a relative path is relative to INIT_CWD', async () => {
    // pnpm has moved the process to the workspace root; the person was in `typedIn`.
    const name = `wd-${process.pid}.xlsx`;
    const code = await cli(['ledger', 'template', 'roster', name], root, {
      npm_lifecycle_event: 'fundtrace',
      INIT_CWD: typedIn,
    });
    expect(code).toBe(0);
    expect(existsSync(join(typedIn, name))).toBe(true);
    expect(existsSync(join(root, name))).toBe(false);
  });

  it('started otherwise, it keeps the directory it was given', async () => {
    const code = await cli(['ledger', 'template', 'roster', 'kept.xlsx'], other, {
      npm_lifecycle_event: 'test',
      INIT_CWD: typedIn,
    });
    expect(code).toBe(0);
    expect(existsSync(join(other, 'kept.xlsx'))).toBe(true);
  });
});
