import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { firstHouseholdNumber, registryCommand } from '../src/commands/registry-command';

// `fundtrace registry generate --first-number`: a generated file for a county that already has
// households (the demo's 1–300) must not reuse their household numbers, or its import is refused.
const dir = mkdtempSync(join(tmpdir(), 'fundtrace-generate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function householdNumbers(file: string): string[] {
  const lines = readFileSync(file, 'utf8')
    .replace(/^\uFEFF/, '')
    .trim()
    .split('\n')
    .slice(1);
  return [...new Set(lines.map((line) => line.split(',')[0]!))];
}

describe('registry generate', () => {
  it('numbers households from 1 by default', async () => {
    const file = join(dir, 'default.csv');
    await registryCommand().parseAsync(['generate', file, '--count', '3', '--villages', '4'], {
      from: 'user',
    });
    expect(householdNumbers(file)).toEqual(['41132500000001', '41132500000002', '41132500000003']);
  });

  it('numbers households from --first-number', async () => {
    const file = join(dir, 'second-batch.csv');
    await registryCommand().parseAsync(
      ['generate', file, '--count', '3', '--villages', '4', '--first-number', '301', '--seed', 'batch-2'],
      { from: 'user' },
    );
    expect(householdNumbers(file)).toEqual(['41132500000301', '41132500000302', '41132500000303']);
  });

  it('refuses a first number that is not a household number', () => {
    for (const text of ['abc', '0', '-5', '1.5', '100000000', '']) {
      expect(() => firstHouseholdNumber(text), text).toThrow(InvalidArgumentError);
    }
    expect(firstHouseholdNumber('99999999')).toBe(99_999_999);
  });
});
