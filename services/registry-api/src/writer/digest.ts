import { createHmac } from 'node:crypto';
import { canonicalJson } from '@fundtrace/events';

/**
 * The keyed digest of a command's content (see commandDigestSchema in the registry events): the
 * command kind, the county and the body the client sent, canonically encoded. Server-chosen values
 * (recording time, defaults) are not part of it, so a retry of the same request has the same digest.
 */
export function commandDigest(kind: string, partition: string, body: unknown, hmacKey: Buffer): string {
  return (
    createHmac('sha256', hmacKey)
      .update('fundtrace/command/v1', 'utf8')
      .update(Buffer.of(0))
      // Through JSON first: optional fields the client left out (undefined) simply disappear.
      .update(canonicalJson({ kind, partition, body: JSON.parse(JSON.stringify(body ?? null)) }), 'utf8')
      .digest('hex')
  );
}
