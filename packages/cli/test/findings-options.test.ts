import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

/**
 * `fundtrace findings review|close`: the outcome and the resolution are closed lists (the events'
 * own). --help names them, and a value outside them is refused by the CLI before any request; the
 * help said only `--resolution <resolution>`, so an inspector learnt the words from a 400.
 */
describe('fundtrace findings review and close options', () => {
  it('--help lists the choices of --outcome and --resolution', async () => {
    const review = await runCli(['findings', 'review', '--help']);
    expect(review.stdout.replace(/\s+/g, ' ')).toContain(
      '(choices: "confirmed", "dismissed", "needs_trace")',
    );
    const close = await runCli(['findings', 'close', '--help']);
    expect(close.stdout.replace(/\s+/g, ' ')).toContain('(choices: "rectified", "dismissed", "referred")');
  });

  it('refuses a value outside them without calling audit-api', async () => {
    // Port 9 (discard) answers nothing: a request made would fail with a connection error instead.
    const result = await runCli([
      'findings',
      'close',
      '411325',
      'idle_funds-v1-0',
      '--resolution',
      'fixed',
      '--note',
      '销号',
      '--url',
      'http://127.0.0.1:9',
      '--token',
      'x',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      "option '--resolution <resolution>' argument 'fixed' is invalid. Allowed choices are rectified, dismissed, referred.",
    );
  });
});
