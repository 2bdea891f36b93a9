import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyConsistency, verifyInclusion } from '../src/index';

/**
 * Every case of the transparency-dev RFC 6962 test data (testdata/rfc6962, see its
 * README): happy paths must verify and every mutation must be rejected.
 */
const root = join(import.meta.dirname, '..', 'testdata', 'rfc6962');

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsonFiles(path);
    return name.endsWith('.json') ? [path] : [];
  });
}

// Go's encoding/json decodes base64 leniently (no strict padding checks), so the
// vectors are decoded the same way here; strictness is for our own formats.
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const inclusionFiles = jsonFiles(join(root, 'inclusion'));
const consistencyFiles = jsonFiles(join(root, 'consistency'));

describe('RFC 6962 inclusion vectors', () => {
  it('has the whole data set (guards against a partial copy)', () => {
    expect(inclusionFiles.length).toBeGreaterThanOrEqual(90);
    expect(inclusionFiles.filter((f) => f.endsWith('happy-path.json')).length).toBe(5);
  });

  it.each(inclusionFiles.map((f) => [relative(root, f), f]))('%s', (_name, file) => {
    const c = JSON.parse(readFileSync(file, 'utf8')) as InclusionCase;
    const result = verifyInclusion({
      leafIndex: c.leafIdx,
      treeSize: c.treeSize,
      leafHash: b64(c.leafHash),
      proof: (c.proof ?? []).map(b64),
      rootHash: b64(c.root),
    });
    expect(result.ok, `${c.desc}: ${result.ok ? 'accepted' : result.message}`).toBe(!c.wantErr);
  });
});

describe('RFC 6962 consistency vectors', () => {
  it('has the whole data set', () => {
    expect(consistencyFiles.length).toBeGreaterThanOrEqual(90);
    expect(consistencyFiles.filter((f) => f.endsWith('happy-path.json')).length).toBe(5);
  });

  it.each(consistencyFiles.map((f) => [relative(root, f), f]))('%s', (_name, file) => {
    const c = JSON.parse(readFileSync(file, 'utf8')) as ConsistencyCase;
    const result = verifyConsistency({
      oldSize: c.size1,
      newSize: c.size2,
      oldRoot: b64(c.root1),
      newRoot: b64(c.root2),
      proof: (c.proof ?? []).map(b64),
    });
    expect(result.ok, `${c.desc}: ${result.ok ? 'accepted' : result.message}`).toBe(!c.wantErr);
  });
});
