import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGazetteer } from '../src';

const dir = mkdtempSync(join(tmpdir(), 'ft-gazetteer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileWith(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('loadGazetteer', () => {
  it('names the file and each bad entry by its code, with what is wrong in it', () => {
    const file = fileWith(
      'bad.json',
      JSON.stringify({ '4113251001': '城关镇', '411325100': '', '411325100201': '王'.repeat(41) }),
    );
    const message = (() => {
      try {
        loadGazetteer(file);
      } catch (error) {
        return (error as Error).message;
      }
      return 'loaded';
    })();
    expect(message).toContain(`gazetteer ${file}: `);
    expect(message).toContain('"4113251001": a code is 6, 9 or 12 digits');
    expect(message).toContain('"411325100": the name is empty');
    expect(message).toContain('"411325100201": the name is longer than 40 characters');
  });

  it('names the file when it is not JSON', () => {
    const file = fileWith('broken.json', '{"411325100": "城关镇",}');
    expect(() => loadGazetteer(file)).toThrow(`gazetteer ${file}: not JSON`);
  });

  it('reads a good file', () => {
    const file = fileWith('good.json', JSON.stringify({ '411325100': '城关镇' }));
    expect(loadGazetteer(file).name('411325100')).toBe('城关镇');
  });
});
