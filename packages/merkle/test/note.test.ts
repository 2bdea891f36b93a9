import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  formatVerifierKey,
  NoteError,
  noteKeyId,
  openNote,
  parseSigningKey,
  parseVerifierKey,
  signerFromKey,
  signerFromSeed,
  signNote,
  toHex,
} from '../src/index';

/**
 * Interoperability anchor: the example of golang.org/x/mod/sumdb/note (the
 * reference implementation of c2sp.org/signed-note). Ed25519 is deterministic,
 * so signing the same text with the same seed must give the same bytes.
 */
const goVerifierKey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
// PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz: 0x01 ‖ seed.
const goSeed = Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64').subarray(1);
const goText =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const goNote = `${goText}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (error) {
    if (error instanceof NoteError) return error.code;
    throw error;
  }
  return undefined;
}

describe('signed notes (c2sp.org/signed-note)', () => {
  it('signs byte-for-byte like Go sumdb/note and derives the same verifier key', () => {
    const signer = signerFromSeed('PeterNeumann', goSeed);
    expect(signer.verifierKey).toBe(goVerifierKey);
    expect(toHex(signer.keyId)).toBe('c74f20a3');
    expect(signNote(goText, [signer])).toBe(goNote);
  });

  it('opens the Go example with its verifier key', () => {
    expect(openNote(goNote, [parseVerifierKey(goVerifierKey)])).toEqual({
      text: goText,
      verifiedBy: ['PeterNeumann'],
    });
  });

  it('rejects a note whose text was changed by one character', () => {
    const altered = goNote.replace('problem,', 'problem;');
    expect(code(() => openNote(altered, [parseVerifierKey(goVerifierKey)]))).toBe('bad_signature');
  });

  it('rejects a note signed by another key, even under the same name', () => {
    const other = signerFromKey('PeterNeumann', generateKeyPairSync('ed25519').privateKey);
    const forged = signNote(goText, [other]);
    expect(code(() => openNote(forged, [parseVerifierKey(goVerifierKey)]))).toBe('unknown_key');
  });

  it('ignores unknown signatures next to a good one, but one bad trusted signature rejects the note', () => {
    const peter = signerFromSeed('PeterNeumann', goSeed);
    const witness = signerFromKey('witness.example/w1', generateKeyPairSync('ed25519').privateKey);
    const both = signNote(goText, [witness, peter]);
    expect(openNote(both, [parseVerifierKey(goVerifierKey)]).verifiedBy).toEqual(['PeterNeumann']);
    // Same name and key id as Peter's, wrong signature bytes.
    const line = both.split('\n').find((l) => l.startsWith('— PeterNeumann'))!;
    const blob = Buffer.from(line.split(' ')[2]!, 'base64');
    blob[10] = blob[10]! ^ 0xff;
    const tampered = both.replace(line, `— PeterNeumann ${blob.toString('base64')}`);
    expect(code(() => openNote(tampered, [parseVerifierKey(goVerifierKey)]))).toBe('bad_signature');
  });

  it.each([
    ['no blank line', goNote.replace('\n\n', '\n')],
    ['no final newline', goNote.slice(0, -1)],
    ['hyphen instead of em dash', goNote.replace('— ', '- ')],
    ['missing signature', `${goText}\n— PeterNeumann\n`],
    ['signature not base64', `${goText}\n— PeterNeumann x08go/ZJkuBS9UG!!\n`],
    ['signature only a key id', `${goText}\n— PeterNeumann x08gow==\n`],
    ['control character', goNote.replace('then', 'th\u0007en')],
    ['carriage return', goNote.replace(',\n', ',\r\n')],
    ['empty signature block', `${goText}\n`],
  ])('refuses a malformed note: %s', (_what, note) => {
    expect(code(() => openNote(note, [parseVerifierKey(goVerifierKey)]))).toBe('malformed_note');
  });

  it('refuses more than 100 signature lines', () => {
    const line = goNote.slice(goText.length + 1);
    expect(code(() => openNote(`${goText}\n${line.repeat(101)}`, [parseVerifierKey(goVerifierKey)]))).toBe(
      'malformed_note',
    );
    expect(openNote(`${goText}\n${line.repeat(100)}`, [parseVerifierKey(goVerifierKey)]).verifiedBy).toEqual([
      'PeterNeumann',
    ]);
  });

  it.each([
    ['wrong key id', goVerifierKey.replace('c74f20a3', 'c74f20a4')],
    ['upper-case key id', goVerifierKey.replace('c74f20a3', 'C74F20A3')],
    ['name changed', goVerifierKey.replace('PeterNeumann', 'PeterNeumannX')],
    ['missing part', 'PeterNeumann+c74f20a3'],
    ['extra part', `${goVerifierKey}+x`],
    ['wrong signature type', 'PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['short key', 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10'],
    ['empty name', '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['name with space', 'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
  ])('refuses a malformed verifier key: %s', (_what, key) => {
    expect(code(() => parseVerifierKey(key))).toBe('malformed_verifier_key');
  });

  it('accepts signing keys as a 32-byte seed or PKCS#8 DER, both base64, and refuses anything else', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const der = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    const fromDer = parseSigningKey('fundtrace.example', der);
    expect(fromDer.verifierKey).toBe(signerFromKey('fundtrace.example', privateKey).verifierKey);
    expect(parseSigningKey('PeterNeumann', goSeed.toString('base64')).verifierKey).toBe(goVerifierKey);
    expect(code(() => parseSigningKey('fundtrace.example', 'not base64!'))).toBe('malformed_signing_key');
    expect(code(() => parseSigningKey('fundtrace.example', Buffer.alloc(31).toString('base64')))).toBe(
      'malformed_signing_key',
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(
      code(() => parseSigningKey('x', rsa.export({ format: 'der', type: 'pkcs8' }).toString('base64'))),
    ).toBe('malformed_signing_key');
    expect(code(() => signerFromSeed('bad+name', goSeed))).toBe('malformed_signing_key');
  });

  it('refuses to sign text that is not a valid note body', () => {
    const signer = signerFromSeed('PeterNeumann', goSeed);
    expect(code(() => signNote('no newline', [signer]))).toBe('malformed_note');
    expect(code(() => signNote('tab\there\n', [signer]))).toBe('malformed_note');
    expect(code(() => signNote('ok\n', []))).toBe('malformed_note');
  });

  it('computes the key id as SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]', () => {
    const key = parseVerifierKey(goVerifierKey);
    expect(toHex(noteKeyId('PeterNeumann', key.publicKey))).toBe('c74f20a3');
    expect(formatVerifierKey('PeterNeumann', key.publicKey)).toBe(goVerifierKey);
  });
});
