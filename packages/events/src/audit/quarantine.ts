import { z } from 'zod';
import { defineEvent } from '../define';
import { parseStreamName } from '../subjects';

/** Why an operator stepped over an event: a sentence or two for whoever audits the decision. */
export const quarantineReasonCharsMax = 1_000;

/**
 * The entity id of a quarantine: the stream (without namespace) and sequence it names, e.g.
 * `LEDGER_411325-1234`, so the one quarantine of a message is found by its subject.
 */
export function quarantineIdOf(stream: string, seq: number): string {
  return `${stream}-${seq}`;
}

/**
 * An operator quarantined a stored message that no reader can decode (a poison event: valid JSON
 * of an unknown type, or failing its schema). Readers that stopped at it record the message as
 * quarantined, with its raw bytes, and go on; nothing is skipped silently. It names the message's
 * exact bytes by their RFC 6962 leaf hash, so it never applies to different bytes at that place.
 * Appended to the AUDIT stream of the partition whose stream holds the message.
 */
export const eventQuarantined = defineEvent({
  type: 'EventQuarantined',
  version: 1,
  context: 'audit',
  entity: 'quarantine',
  description:
    'An operator quarantined an undecodable stored event (stream, sequence, leaf hash of its bytes) so readers record it and go on.',
  data: z.strictObject({
    stream: z.string().refine((name) => parseStreamName(name)?.namespace === '', {
      message: 'stream must be a stream name without namespace, e.g. LEDGER_411325',
    }),
    seq: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
    /** RFC 6962 leaf hash (SHA-256 of 0x00 ‖ bytes) of the stored message, lower-case hex. */
    leafHash: z.string().regex(/^[0-9a-f]{64}$/, 'leaf hash must be 64 lower-case hex digits'),
    reason: z
      .string()
      .max(quarantineReasonCharsMax)
      .refine((text) => text.trim() !== '', 'must not be blank'),
  }),
  entityId: (data) => quarantineIdOf(data.stream, data.seq),
});
