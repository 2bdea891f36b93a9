import { parseStreamName, streamName } from '@fundtrace/events';
import { hashLeaf, type InclusionBundle, inclusionBundle, proveInclusion } from '@fundtrace/merkle';
import { latestCheckpoint, type Queryable, storedTree } from '@fundtrace/merkle/pg';
import type { JetStreamManager } from '@nats-io/jetstream';

/**
 * Most events one evidence bundle proves. A household's lineage over years of payments cites a
 * few hundred; 5,000 bundles of ~2 kB stay a download of about 10 MB.
 */
export const evidenceEventsMax = 5_000;

export const traceEvidenceFormat = 'fundtrace-trace-evidence/v1' as const;

/** An event a trace relies on, and why. */
export interface CitedEvent {
  readonly stream: string;
  readonly seq: number;
  readonly why: string;
}

export interface ProvenEvent extends CitedEvent {
  /** A standalone `fundtrace-evidence/v1` inclusion bundle: `fundtrace verify` checks it alone. */
  readonly bundle: InclusionBundle;
}

export interface EvidenceDeps {
  /** kysely over the log-keeper's schema (merkle_trees, merkle_nodes, merkle_checkpoints). */
  readonly logDb: Queryable;
  readonly jsm: JetStreamManager;
  /** Stream namespace ('' in production). */
  readonly ns: string;
  /** Hex key id of the log's signing key: only its checkpoints are used. */
  readonly keyId: string;
}

export interface Evidence {
  readonly proven: ProvenEvent[];
  /** Cited events after the latest signed checkpoint of their stream: provable at the next one. */
  readonly pending: CitedEvent[];
}

/**
 * Unique, in stream then sequence order; an event cited for several reasons lists each reason once
 * (a root tranche that paid two of a household's payments is one reason, not the same one twice).
 */
export function normaliseCited(cited: readonly CitedEvent[]): CitedEvent[] {
  const byKey = new Map<string, { stream: string; seq: number; whys: string[] }>();
  for (const c of cited) {
    const key = `${c.stream}#${c.seq}`;
    const known = byKey.get(key);
    if (known === undefined) byKey.set(key, { stream: c.stream, seq: c.seq, whys: [c.why] });
    else if (!known.whys.includes(c.why)) known.whys.push(c.why);
  }
  return [...byKey.values()]
    .map(({ stream, seq, whys }) => ({ stream, seq, why: whys.join('; ') }))
    .sort((a, b) => (a.stream === b.stream ? a.seq - b.seq : a.stream < b.stream ? -1 : 1));
}

/**
 * For each cited event: its canonical bytes from JetStream and its inclusion proof against the
 * latest signed checkpoint of its stream, as an offline-verifiable bundle. The bytes are checked
 * against the tree's leaf before they are handed out: a mismatch means the log and the tree
 * disagree, which is a broken invariant, not a refusal.
 */
export async function proveCited(deps: EvidenceDeps, cited: readonly CitedEvent[]): Promise<Evidence> {
  const events = normaliseCited(cited);
  if (events.length > evidenceEventsMax) {
    throw new RangeError(
      `a bundle proves at most ${evidenceEventsMax} events, this trace cites ${events.length}`,
    );
  }
  const proven: ProvenEvent[] = [];
  const pending: CitedEvent[] = [];
  const byStream = new Map<string, CitedEvent[]>();
  for (const e of events) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e]);
  for (const [stream, list] of byStream) {
    const ref = parseStreamName(stream);
    if (ref === null || ref.namespace !== '') throw new Error(`not a logical stream name: ${stream}`);
    // The log-keeper keys its trees by the JetStream stream name (namespace included); the
    // checkpoints' origins and every answer use the logical name.
    const natsStream = streamName(ref.context, ref.partition, deps.ns);
    const checkpoint = await latestCheckpoint(deps.logDb, natsStream, deps.keyId);
    if (checkpoint === undefined) {
      pending.push(...list);
      continue;
    }
    const tree = await storedTree(deps.logDb, natsStream);
    for (const e of list) {
      if (e.seq > checkpoint.size) {
        pending.push(e);
        continue;
      }
      const proof = await proveInclusion(tree, e.seq - 1, checkpoint.size);
      if (!proof.ok) throw new Error(`${stream} ${e.seq}: ${proof.message}`);
      const stored = await deps.jsm.streams.getMessage(natsStream, { seq: e.seq });
      if (stored === null)
        throw new Error(`${stream} sequence ${e.seq} is in the merkle log but not in the stream`);
      if (Buffer.compare(hashLeaf(stored.data), proof.value.leafHash) !== 0) {
        throw new Error(`${stream} sequence ${e.seq}: stored bytes do not match the merkle leaf`);
      }
      proven.push({
        ...e,
        bundle: inclusionBundle({
          checkpoint: checkpoint.note,
          leafIndex: e.seq - 1,
          proof: proof.value.proof,
          event: stored.data,
        }),
      });
    }
  }
  return { proven, pending };
}
