import { existsSync, readFileSync, statSync } from 'node:fs';
import {
  type BundleVerification,
  bundleJsonBytesMax,
  encodeBase64,
  verifyBundleJson,
} from '@fundtrace/merkle';
import { Command } from 'commander';
import { UsageError } from '../context';

/**
 * `fundtrace verify <bundle.json> --key <verifier key or file>`: checks an evidence
 * bundle offline, with nothing but the log's verifier key. Exit 0 and "verified …"
 * when the evidence holds, exit 1 and the reason when it does not, exit 2 when the
 * command itself was misused (unreadable file, no key).
 */
export function verifyCommand(): Command {
  return new Command('verify')
    .description('check an evidence bundle (inclusion or consistency) offline with the log verifier key')
    .argument('<bundle>', 'bundle JSON file (from the log-keeper or audit-api), or - for standard input')
    .requiredOption('--key <key>', 'verifier key "<name>+<key id>+<key>", or a file containing it')
    .action((bundlePath: string, options: { key: string }) => {
      const key = readVerifierKey(options.key);
      const json = readBundle(bundlePath);
      if (json === null) {
        process.stderr.write(`not verified: malformed_bundle: larger than ${bundleJsonBytesMax} bytes\n`);
        process.exitCode = 1;
        return;
      }
      const served = serverError(json);
      if (served !== null) {
        process.stderr.write(`not verified: the file holds the server's refusal, not a bundle: ${served}\n`);
        process.exitCode = 1;
        return;
      }
      const result = verifyBundleJson(json, key);
      if (result.ok) {
        process.stdout.write(`${describeSuccess(result)}\n`);
        return;
      }
      process.stderr.write(`not verified: ${result.reason}: ${result.message}\n`);
      process.exitCode = 1;
    });
}

/**
 * The `{ error: { code, message } }` a service answered instead of a bundle (a checkpoint size that
 * was never signed, a sequence not yet in the log), as "code: message"; null for anything else.
 * `curl … > c.json` saves that answer like a bundle, and "unsupported_format … got undefined" hid
 * the server's reason.
 */
function serverError(json: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || 'format' in parsed) return null;
  const error = (parsed as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== 'string') return null;
  return typeof message === 'string' ? `${code}: ${message}` : code;
}

/** A verifier key given inline, or the first line of a file that holds one. */
export function readVerifierKey(value: string): string {
  const inline = value.trim();
  // A key name may look like a path (`example.com/log`), so an existing file wins.
  if (existsSync(inline) && statSync(inline).isFile()) {
    const text = readFileSync(inline, 'utf8').trim();
    const first = text.split('\n')[0]?.trim() ?? '';
    if (first === '') throw new UsageError(`--key file ${inline} is empty`);
    return first;
  }
  if (!inline.includes('+')) {
    throw new UsageError(
      `--key is neither a verifier key (<name>+<key id>+<key>) nor a readable file: ${inline}`,
    );
  }
  return inline;
}

/** The bundle text, or null when it exceeds the bundle size limit. */
function readBundle(path: string): string | null {
  if (path === '-') {
    const text = readFileSync(0, 'utf8');
    return Buffer.byteLength(text, 'utf8') > bundleJsonBytesMax ? null : text;
  }
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`no such bundle file: ${path}`);
  // Checked before reading: a verifier must not be made to load an arbitrary file into memory.
  if (statSync(path).size > bundleJsonBytesMax) return null;
  return readFileSync(path, 'utf8');
}

export function describeSuccess(result: BundleVerification & { ok: true }): string {
  if (result.kind === 'inclusion') {
    return (
      `verified: event at sequence ${result.leafIndex + 1} (leaf ${result.leafIndex}) is in ${result.origin} ` +
      `at size ${result.treeSize}, root ${encodeBase64(result.rootHash)}`
    );
  }
  return (
    `verified: ${result.origin} at size ${result.oldSize} is a prefix of size ${result.newSize}, ` +
    `root ${encodeBase64(result.newRoot)}`
  );
}
