import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createEvent, encodeEvent, ledger, newEventId, utcTimestamp } from '@fundtrace/events';
import {
  appendLeaves,
  checkpointOrigin,
  consistencyBundle,
  hashLeaf,
  inclusionBundle,
  MemoryNodeStore,
  proveConsistency,
  proveInclusion,
  type StoredTree,
  signCheckpoint,
  signerFromKey,
} from '@fundtrace/merkle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `fundtrace verify` as a reader runs it: a separate process, a bundle file and the
 * verifier key, nothing else. Exit 0 with "verified", 1 with the reason, 2 for misuse.
 */
const root = resolve(import.meta.dirname, '..', '..', '..');
const main = join(root, 'packages', 'cli', 'src', 'main.ts');
const signer = signerFromKey('fundtrace.example', generateKeyPairSync('ed25519').privateKey);
const stranger = signerFromKey('fundtrace.example', generateKeyPairSync('ed25519').privateKey);
const origin = checkpointOrigin('fundtrace.example', 'LEDGER_411325');
let dir: string;

function run(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', main, ...args],
      { cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

function events(count: number) {
  return Array.from({ length: count }, (_, i) =>
    encodeEvent(
      createEvent(ledger.AllocationIssued, {
        id: newEventId(Date.UTC(2024, 0, 2) + i),
        partition: '411325',
        occurredAt: '2024-01-02T10:00:00+08:00',
        recordedAt: utcTimestamp(Date.UTC(2024, 0, 2) + i),
        actor: { userId: 'clerk-1', role: 'finance', org: '内乡县财政局' },
        commandId: `alloc-${i}`,
        correlationId: `alloc-${i}`,
        data: {
          allocationId: `alloc-${i}`,
          toPartition: '411325',
          fromAccountId: 'pool-411325',
          documentNumber: '内财农〔2024〕1号',
          fundSource: 'central',
          purpose: 'industry',
          fiscalYear: 2024,
          title: `乡镇 ${i} 产业扶贫`,
          amountFen: 50_000_000n + BigInt(i),
          consumed: [{ trancheId: 'tr-1', amountFen: 50_000_000n + BigInt(i), fundSource: 'central' }],
        },
      }),
    ),
  );
}

async function log(leaves: Uint8Array[]) {
  const store = new MemoryNodeStore();
  const appended = await appendLeaves({ store, size: 0 }, leaves.map(hashLeaf));
  const tree: StoredTree = { store, size: appended.size };
  return {
    tree,
    note: signCheckpoint(
      { origin, size: appended.size, rootHash: appended.rootHash, extensions: [] },
      signer,
    ),
  };
}

const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
};

let inclusionPath: string;
let consistencyPath: string;
let tamperedPath: string;
let goodBundle: Record<string, unknown>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fundtrace-verify-'));
  const all = events(12);
  const older = await log(all.slice(0, 7));
  const newer = await log(all);
  const proof = await proveInclusion(newer.tree, 4, 12);
  if (!proof.ok) throw new Error(proof.message);
  goodBundle = {
    ...inclusionBundle({ checkpoint: newer.note, leafIndex: 4, proof: proof.value.proof, event: all[4]! }),
  };
  inclusionPath = file('inclusion.json', goodBundle);
  const consistency = await proveConsistency(newer.tree, 7, 12);
  if (!consistency.ok) throw new Error(consistency.message);
  consistencyPath = file(
    'consistency.json',
    consistencyBundle({
      oldCheckpoint: older.note,
      newCheckpoint: newer.note,
      proof: consistency.value.proof,
    }),
  );
  // The same event with one fen more: still a well-formed event, no longer the logged one.
  const tampered = Buffer.from(all[4]!).toString('utf8').replace('"50000004"', '"50000005"');
  expect(tampered).not.toBe(Buffer.from(all[4]!).toString('utf8'));
  tamperedPath = file('tampered.json', { ...goodBundle, event: Buffer.from(tampered).toString('base64') });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fundtrace verify', () => {
  it('verifies an inclusion bundle with the key given inline', async () => {
    const result = await run(['verify', inclusionPath, '--key', signer.verifierKey]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^verified: event at sequence 5 \(leaf 4\) is in fundtrace\.example\/LEDGER_411325 at size 12/,
    );
  });

  it('verifies a consistency bundle with the key read from a file, and reads bundles from stdin', async () => {
    const keyFile = file('log.vkey', `${signer.verifierKey}\n`);
    const result = await run(['verify', consistencyPath, '--key', keyFile]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^verified: fundtrace\.example\/LEDGER_411325 at size 7 is a prefix of size 12/,
    );
    const piped = await run(['verify', '-', '--key', keyFile], JSON.stringify(goodBundle));
    expect(piped.code).toBe(0);
  });

  it('exits 1 with the reason when one fen of the event was changed', async () => {
    const result = await run(['verify', tamperedPath, '--key', signer.verifierKey]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^not verified: root_mismatch: /);
  });

  it('exits 1 when the checkpoint is from another key or was edited', async () => {
    const other = await run(['verify', inclusionPath, '--key', stranger.verifierKey]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^not verified: unknown_key: /);
    const edited = file('edited.json', {
      ...goodBundle,
      checkpoint: String(goodBundle.checkpoint).replace('\n12\n', '\n13\n'),
    });
    const result = await run(['verify', edited, '--key', signer.verifierKey]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^not verified: bad_signature: /);
  });

  it('exits 1 for a file that is not a bundle', async () => {
    const result = await run(['verify', file('junk.json', '{"hello":'), '--key', signer.verifierKey]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^not verified: malformed_bundle: /);
  });

  it("exits 1 with the server's reason when the file is an error answer saved instead of a bundle", async () => {
    const answer = file('c.json', {
      error: {
        code: 'checkpoint_not_found',
        message: 'No checkpoint of LEDGER_411325 at size 100',
        details: { stream: 'LEDGER_411325', size: 100 },
      },
    });
    const result = await run(['verify', answer, '--key', signer.verifierKey]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "not verified: the file holds the server's refusal, not a bundle: checkpoint_not_found: No checkpoint of LEDGER_411325 at size 100\n",
    );
  });

  it('exits 2 when misused: no such file, no usable key, no key at all', async () => {
    const missing = await run(['verify', join(dir, 'nope.json'), '--key', signer.verifierKey]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such bundle file/);
    const badKey = await run(['verify', inclusionPath, '--key', join(dir, 'no-such-key')]);
    expect(badKey.code).toBe(2);
    const malformedKey = await run(['verify', inclusionPath, '--key', 'fundtrace.example+00000000+AAAA']);
    expect(malformedKey.code).toBe(1);
    expect(malformedKey.stderr).toMatch(/^not verified: malformed_verifier_key: /);
    const noKey = await run(['verify', inclusionPath]);
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toMatch(/--key/);
  });
});
