import { generateKeyPairSync } from 'node:crypto';
import { decodeEvent } from '@fundtrace/events';
import { describe, expect, it } from 'vitest';
import {
  appendLeaves,
  bundleFormat,
  CheckpointError,
  checkpointOrigin,
  consistencyBundle,
  formatCheckpoint,
  hashLeaf,
  inclusionBundle,
  MemoryNodeStore,
  NoteError,
  openCheckpoint,
  parseCheckpoint,
  proveConsistency,
  proveInclusion,
  type StoredTree,
  signCheckpoint,
  signerFromKey,
  verifyBundle,
  verifyBundleJson,
} from '../src/index';
import { encode, paymentEvents } from './events-fixture';

const origin = checkpointOrigin('fundtrace.example', 'LEDGER_411325');
const signer = signerFromKey('fundtrace.example', generateKeyPairSync('ed25519').privateKey);
const stranger = signerFromKey('fundtrace.example', generateKeyPairSync('ed25519').privateKey);

async function logOf(leaves: readonly Uint8Array[]) {
  const store = new MemoryNodeStore();
  const result = await appendLeaves({ store, size: 0 }, leaves.map(hashLeaf));
  const tree: StoredTree = { store, size: result.size };
  const checkpoint = signCheckpoint(
    { origin, size: result.size, rootHash: result.rootHash, extensions: [] },
    signer,
  );
  return { tree, checkpoint, root: result.rootHash };
}

function unwrap<T>(r: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe('checkpoints (c2sp.org/tlog-checkpoint)', () => {
  const root = hashLeaf(new Uint8Array([1]));

  it('formats origin, size and base64 root, and round-trips through a signature', () => {
    const body = formatCheckpoint({ origin, size: 12, rootHash: root, extensions: [] });
    expect(body).toBe(`fundtrace.example/LEDGER_411325\n12\n${Buffer.from(root).toString('base64')}\n`);
    const note = signCheckpoint({ origin, size: 12, rootHash: root, extensions: [] }, signer);
    expect(note.startsWith(`${body}\n— fundtrace.example `)).toBe(true);
    expect(openCheckpoint(note, signer.verifierKey)).toEqual({
      origin,
      size: 12,
      rootHash: root,
      extensions: [],
    });
  });

  it('keeps extension lines and the empty tree', () => {
    const cp = { origin, size: 0, rootHash: root, extensions: ['generated 2024-03-01'] };
    expect(parseCheckpoint(formatCheckpoint(cp))).toEqual(cp);
  });

  it.each([
    ['leading zero in size', 'o\n012\nAAAA\n'],
    ['negative size', 'o\n-1\n'],
    ['size beyond 2^53', `o\n9007199254740993\n${Buffer.alloc(32).toString('base64')}\n`],
    ['short root', `o\n1\n${Buffer.alloc(31).toString('base64')}\n`],
    ['root not base64', 'o\n1\n!!!!\n'],
    ['two lines', 'o\n1\n'],
    ['empty origin', `\n1\n${Buffer.alloc(32).toString('base64')}\n`],
    ['empty extension line', `o\n1\n${Buffer.alloc(32).toString('base64')}\n\n`],
    ['no final newline', `o\n1\n${Buffer.alloc(32).toString('base64')}`],
  ])('refuses a malformed body: %s', (_what, text) => {
    expect(() => parseCheckpoint(text)).toThrow(CheckpointError);
  });

  it('says why a checkpoint does not open', () => {
    const note = signCheckpoint({ origin, size: 3, rootHash: root, extensions: [] }, signer);
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as NoteError).code;
      }
    };
    expect(codeOf(() => openCheckpoint(note, stranger.verifierKey))).toBe('unknown_key');
    expect(codeOf(() => openCheckpoint(note.replace('\n3\n', '\n4\n'), signer.verifierKey))).toBe(
      'bad_signature',
    );
    expect(codeOf(() => openCheckpoint(note.replace('\n\n', '\n'), signer.verifierKey))).toBe(
      'malformed_note',
    );
    expect(codeOf(() => openCheckpoint(note, 'not-a-key'))).toBe('malformed_verifier_key');
    const notACheckpoint = signCheckpoint(
      { origin, size: 3, rootHash: root, extensions: [] },
      signer,
    ).replace(/^[^\n]*\n/, '');
    expect(codeOf(() => openCheckpoint(notACheckpoint, signer.verifierKey))).toBeDefined();
  });

  it('refuses origins with spaces or plus signs', () => {
    expect(() => checkpointOrigin('fundtrace example', 'LEDGER_411325')).toThrow(RangeError);
    expect(() => checkpointOrigin('a+b', 'LEDGER_411325')).toThrow(RangeError);
  });
});

describe('evidence bundles over real encoded events', () => {
  const events = paymentEvents(37);
  const bytes = events.map((e) => encode(e));

  it('an inclusion bundle for every event verifies with only the verifier key', async () => {
    const { tree, checkpoint } = await logOf(bytes);
    for (let i = 0; i < bytes.length; i++) {
      const proof = unwrap(await proveInclusion(tree, i, tree.size));
      const bundle = inclusionBundle({ checkpoint, leafIndex: i, proof: proof.proof, event: bytes[i]! });
      const json = JSON.stringify(bundle);
      const result = verifyBundleJson(json, signer.verifierKey);
      expect(result).toMatchObject({ ok: true, kind: 'inclusion', origin, treeSize: 37, leafIndex: i });
    }
  });

  it('changing one fen in one event breaks its inclusion proof', async () => {
    const { tree, checkpoint } = await logOf(bytes);
    const target = 17;
    const proof = unwrap(await proveInclusion(tree, target, tree.size));
    const original = events[target]!;
    const oneFenMore = encode({
      ...original,
      data: { ...original.data, amountFen: original.data.amountFen + 1n },
    });
    // The tampered bytes are still a perfectly valid event: only the log can tell.
    expect(decodeEvent(oneFenMore).data).toMatchObject({ amountFen: original.data.amountFen + 1n });
    const bundle = inclusionBundle({ checkpoint, leafIndex: target, proof: proof.proof, event: oneFenMore });
    expect(verifyBundle(bundle, signer.verifierKey)).toMatchObject({ ok: false, reason: 'root_mismatch' });
  });

  it('a log with one fen changed, one event dropped or two reordered no longer matches the signed checkpoint', async () => {
    const signed = await logOf(bytes);
    const cp = openCheckpoint(signed.checkpoint, signer.verifierKey);

    const changed = [...bytes];
    const e = events[5]!;
    changed[5] = encode({ ...e, data: { ...e.data, amountFen: e.data.amountFen - 1n } });
    const dropped = bytes.filter((_, i) => i !== 20);
    const reordered = [...bytes];
    [reordered[3], reordered[4]] = [reordered[4]!, reordered[3]!];

    for (const [what, leaves] of [
      ['one fen changed', changed],
      ['one event dropped', dropped],
      ['two events reordered', reordered],
    ] as const) {
      const forged = await logOf(leaves);
      expect(Buffer.from(forged.root).equals(Buffer.from(cp.rootHash)), what).toBe(false);
      // Inclusion of an untouched late event, proven against the forged log, fails against the signed root.
      const index = leaves.length - 1;
      const proof = unwrap(await proveInclusion(forged.tree, index, forged.tree.size));
      const bundle = inclusionBundle({
        checkpoint: signed.checkpoint,
        leafIndex: index,
        proof: proof.proof,
        event: leaves[index]!,
      });
      expect(verifyBundle(bundle, signer.verifierKey).ok, what).toBe(false);
      // And a forged log that grows on from the signed one cannot prove consistency with it.
      const grown = await logOf([...leaves, ...paymentEvents(3, 9_000n).map((x) => encode(x))]);
      const consistency = unwrap(await proveConsistency(grown.tree, cp.size, grown.tree.size));
      const c = consistencyBundle({
        oldCheckpoint: signed.checkpoint,
        newCheckpoint: grown.checkpoint,
        proof: consistency.proof,
      });
      expect(verifyBundle(c, signer.verifierKey).ok, what).toBe(false);
    }
  });

  it('a consistency bundle between two honest checkpoints verifies; swapped checkpoints do not', async () => {
    const older = await logOf(bytes.slice(0, 20));
    const newer = await logOf(bytes);
    const proof = unwrap(await proveConsistency(newer.tree, 20, 37));
    const bundle = consistencyBundle({
      oldCheckpoint: older.checkpoint,
      newCheckpoint: newer.checkpoint,
      proof: proof.proof,
    });
    expect(verifyBundle(bundle, signer.verifierKey)).toMatchObject({
      ok: true,
      kind: 'consistency',
      oldSize: 20,
      newSize: 37,
    });
    const swapped = { ...bundle, oldCheckpoint: newer.checkpoint, newCheckpoint: older.checkpoint };
    expect(verifyBundle(swapped, signer.verifierKey)).toMatchObject({
      ok: false,
      reason: 'old_size_greater',
    });
  });

  it('refuses checkpoints of two different logs in one consistency bundle', async () => {
    const a = await logOf(bytes.slice(0, 20));
    const b = await logOf(bytes);
    const other = signCheckpoint(
      { ...openCheckpoint(b.checkpoint, signer.verifierKey), origin: `${origin}x` },
      signer,
    );
    const proof = unwrap(await proveConsistency(b.tree, 20, 37));
    const bundle = consistencyBundle({
      oldCheckpoint: a.checkpoint,
      newCheckpoint: other,
      proof: proof.proof,
    });
    expect(verifyBundle(bundle, signer.verifierKey)).toMatchObject({ ok: false, reason: 'origin_mismatch' });
  });

  it('names every way a bundle can be malformed or untrusted', async () => {
    const { tree, checkpoint } = await logOf(bytes);
    const proof = unwrap(await proveInclusion(tree, 2, tree.size));
    const good = inclusionBundle({ checkpoint, leafIndex: 2, proof: proof.proof, event: bytes[2]! });
    const withHash = inclusionBundle({
      checkpoint,
      leafIndex: 2,
      proof: proof.proof,
      leafHash: hashLeaf(bytes[2]!),
    });
    expect(verifyBundle(withHash, signer.verifierKey).ok).toBe(true);

    const cases: [string, unknown, string][] = [
      ['not an object', [], 'malformed_bundle'],
      ['other format', { ...good, format: 'fundtrace-evidence/v2' }, 'unsupported_format'],
      ['unknown kind', { ...good, kind: 'exclusion' }, 'malformed_bundle'],
      ['unknown field', { ...good, note: 'trust me' }, 'malformed_bundle'],
      ['negative index', { ...good, leafIndex: -1 }, 'malformed_bundle'],
      ['index as string', { ...good, leafIndex: '2' }, 'malformed_bundle'],
      ['neither event nor hash', { ...good, event: undefined }, 'malformed_bundle'],
      ['event not base64', { ...good, event: 'a b c' }, 'malformed_bundle'],
      [
        'event and hash disagree',
        { ...good, leafHash: withHash.leafHash?.replace(/^./, 'A') },
        'leaf_hash_mismatch',
      ],
      ['proof hash not base64', { ...good, proof: ['***'] }, 'malformed_bundle'],
      ['proof too long', { ...good, proof: Array(66).fill(good.proof[0]) }, 'malformed_bundle'],
      ['wrong leaf index', { ...good, leafIndex: 3 }, 'root_mismatch'],
      ['index beyond checkpoint', { ...good, leafIndex: 37 }, 'leaf_index_out_of_range'],
      ['proof truncated', { ...good, proof: good.proof.slice(1) }, 'proof_too_short'],
      [
        'checkpoint altered',
        { ...good, checkpoint: checkpoint.replace('\n37\n', '\n38\n') },
        'bad_signature',
      ],
      [
        'checkpoint from another key',
        { ...good, checkpoint: signCheckpoint(openCheckpoint(checkpoint, signer.verifierKey), stranger) },
        'unknown_key',
      ],
    ];
    for (const [what, bundle, reason] of cases) {
      expect(verifyBundle(JSON.parse(JSON.stringify(bundle)), signer.verifierKey), what).toMatchObject({
        ok: false,
        reason,
      });
    }
    expect(verifyBundle(good, 'garbage')).toMatchObject({ ok: false, reason: 'malformed_verifier_key' });
    expect(verifyBundleJson('{"format":', signer.verifierKey)).toMatchObject({
      ok: false,
      reason: 'malformed_bundle',
    });
    expect(verifyBundleJson(' '.repeat(2 * 1024 * 1024 + 1), signer.verifierKey)).toMatchObject({
      ok: false,
      reason: 'malformed_bundle',
    });
    expect(good.format).toBe(bundleFormat);
  });

  it('refuses to build a bundle with both or neither of event and leaf hash', () => {
    expect(() => inclusionBundle({ checkpoint: '', leafIndex: 0, proof: [] })).toThrow(TypeError);
    expect(() =>
      inclusionBundle({
        checkpoint: '',
        leafIndex: 0,
        proof: [],
        event: bytes[0]!,
        leafHash: hashLeaf(bytes[0]!),
      }),
    ).toThrow(TypeError);
  });

  it('keeps CheckpointError and NoteError distinguishable', () => {
    expect(new CheckpointError('x').code).toBe('malformed_checkpoint');
    expect(new NoteError('bad_signature', 'x').code).toBe('bad_signature');
  });
});
