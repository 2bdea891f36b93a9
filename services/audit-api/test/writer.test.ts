import { silentLogger } from '@fundtrace/eventlog';
import type { Actor } from '@fundtrace/events';
import { findingIdFor, type RaisedFinding } from '@fundtrace/rules';
import { connectTestNats, deleteNamespaceStreams, staleStreamInfo, testNamespace } from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditWriter } from '../src/findings/writer';

const partition = '411325';
const inspector: Actor = { userId: 'i-1', role: 'inspector', org: '县纪委' };
let nc: NatsConnection;
let ns: string;

const finding = (key: string): RaisedFinding => ({
  findingId: findingIdFor('duplicate_payment', 1, partition, key),
  ruleId: 'duplicate_payment',
  ruleVersion: 1,
  severity: 'high',
  subjects: [{ context: 'registry', partition, entity: 'household', id: key }],
  evidence: [{ stream: `LEDGER_${partition}`, seq: 3, type: 'PaymentInstructed' }],
  amounts: [{ label: 'excess', amountFen: 19_000n }],
  summary: `household ${key} paid twice`,
});

async function open(js = jetstream(nc), county = partition): Promise<AuditWriter> {
  return AuditWriter.open({
    js,
    jsm: await jetstreamManager(nc),
    partition: county,
    ns,
    logger: silentLogger(),
  });
}

beforeAll(async () => {
  nc = await connectTestNats('audit-writer-test');
  ns = testNamespace();
});
afterAll(async () => {
  await deleteNamespaceStreams(await jetstreamManager(nc), ns).catch(() => undefined);
  await nc.close();
});

describe('AUDIT writer (single writer per stream, OCC, idempotent)', () => {
  it('two instances never raise a finding twice and never lose a step', async () => {
    const [a, b] = [await open(), await open()];
    const findings = ['H1', 'H2', 'H3'].map(finding);
    // Both race to raise the same findings: the loser catches up and finds them raised.
    const [ra, rb] = await Promise.all([
      a.raise(findings, inspector, 'run-1'),
      b.raise(findings, inspector, 'run-1'),
    ]);
    expect(ra.raised.length + rb.raised.length).toBe(3);
    expect(new Set([...ra.raised, ...rb.raised].map((r) => r.findingId)).size).toBe(3);
    // A step through instance A, then a conflicting one through stale instance B: B catches up first.
    const id = findings[0]!.findingId;
    const review = await a.step({
      commandId: 'rev-1',
      actor: inspector,
      command: { type: 'ReviewFinding', data: { findingId: id, outcome: 'dismissed', note: '不属实' } },
    });
    expect(review).toMatchObject({ ok: true, duplicate: false });
    const rectify = await b.step({
      commandId: 'rect-1',
      actor: inspector,
      command: { type: 'RectifyFinding', data: { findingId: id, recoveredFen: 0n, note: '整改' } },
    });
    expect(rectify).toMatchObject({ ok: false, code: 'step_not_allowed' });
  });

  it('remembers command ids across restarts: same content is the original, other content is refused', async () => {
    const before = await open();
    const id = finding('H2').findingId;
    const command = {
      type: 'ReviewFinding' as const,
      data: { findingId: id, outcome: 'confirmed' as const, note: '属实' },
    };
    const first = await before.step({ commandId: 'rev-h2', actor: inspector, command });
    expect(first).toMatchObject({ ok: true, duplicate: false });
    const after = await open(); // rebuilt from the stream alone
    expect(await after.step({ commandId: 'rev-h2', actor: inspector, command })).toEqual({
      ok: true,
      duplicate: true,
      seq: (first as { seq: number }).seq,
    });
    const other = await after.step({
      commandId: 'rev-h2',
      actor: inspector,
      command: { ...command, data: { ...command.data, outcome: 'dismissed' } },
    });
    expect(other).toMatchObject({ ok: false, code: 'idempotency_key_reused' });
    // Re-raising after a restart appends nothing.
    const rerun = await after.raise(['H1', 'H2', 'H3'].map(finding), inspector, 'run-2');
    expect(rerun.raised).toEqual([]);
    expect(rerun.known).toHaveLength(3);
  });

  it('a stale stream info (a replica that just restarted) does not keep the loser deciding on a short state (0122)', async () => {
    const county = '411326';
    const stale = await open(staleStreamInfo(jetstream(nc), 3), county);
    const fresh = await open(jetstream(nc), county);
    expect((await stale.raise([finding('S1')], inspector, 'run-s1')).raised).toMatchObject([{ seq: 1 }]);
    const others = await fresh.raise(['S2', 'S3', 'S4'].map(finding), inspector, 'run-s2');
    expect(others.raised.map((r) => r.seq)).toEqual([2, 3, 4]);
    // The stale one's stream info says 1, its lost race said 4: it reads to 4 and stores at 5.
    const late = await stale.raise(['S2', 'S5'].map(finding), inspector, 'run-s3');
    expect(late.raised).toMatchObject([{ findingId: finding('S5').findingId, seq: 5 }]);
  });
});

describe('AUDIT writer messages (one encoding for every writer)', () => {
  it('appends the same subjects, bytes and Nats-Msg-Ids as before it used commandMessages', async () => {
    // Pinned from the writer before it built its messages with eventlog's commandMessages
    // (createEvent + encodeEvent per finding): a fixed clock and fixed commands give fixed bytes.
    const county = '411327';
    const writer = await AuditWriter.open({
      js: jetstream(nc),
      jsm: await jetstreamManager(nc),
      partition: county,
      ns,
      logger: silentLogger(),
      now: () => Date.UTC(2026, 0, 15, 2, 30, 0, 123),
    });
    const raised = finding('G1');
    await writer.raise([raised, finding('G2')], inspector, 'run-g');
    await writer.step({
      commandId: 'rev-g1',
      actor: inspector,
      command: {
        type: 'ReviewFinding',
        data: { findingId: raised.findingId, outcome: 'confirmed', note: '属实' },
      },
    });
    const jsm = await jetstreamManager(nc);
    const stored = [];
    for (const seq of [1, 2, 3]) {
      const m = (await jsm.streams.getMessage(writer.stream, { seq }))!;
      stored.push({
        subject: m.subject.replace(ns, '<ns>'),
        msgId: m.header.get('Nats-Msg-Id'),
        text: new TextDecoder().decode(m.data),
      });
    }
    expect(stored).toEqual([
      {
        subject: '<ns>.audit.411327.finding.duplicate_payment-v1-3c9b90685605a81cea5f9c0d',
        msgId: 'raise-duplicate_payment-v1-3c9b90685605a81cea5f9c0d:0',
        text: '{"actor":{"org":"县纪委","role":"inspector","userId":"i-1"},"commandId":"raise-duplicate_payment-v1-3c9b90685605a81cea5f9c0d","correlationId":"run-g","data":{"amounts":[{"amountFen":"19000","label":"excess"}],"evidence":[{"seq":3,"stream":"LEDGER_411325","type":"PaymentInstructed"}],"findingId":"duplicate_payment-v1-3c9b90685605a81cea5f9c0d","ruleId":"duplicate_payment","ruleVersion":1,"severity":"high","subjects":[{"context":"registry","entity":"household","id":"G1","partition":"411325"}],"summary":"household G1 paid twice"},"id":"019bbf7d-04bb-7a70-8c80-418ed05c2228","occurredAt":"2026-01-15T02:30:00.123Z","partition":"411327","recordedAt":"2026-01-15T02:30:00.123Z","type":"FindingRaised","version":1}',
      },
      {
        subject: '<ns>.audit.411327.finding.duplicate_payment-v1-dba3490a278adaf944682937',
        msgId: 'raise-duplicate_payment-v1-dba3490a278adaf944682937:0',
        text: '{"actor":{"org":"县纪委","role":"inspector","userId":"i-1"},"commandId":"raise-duplicate_payment-v1-dba3490a278adaf944682937","correlationId":"run-g","data":{"amounts":[{"amountFen":"19000","label":"excess"}],"evidence":[{"seq":3,"stream":"LEDGER_411325","type":"PaymentInstructed"}],"findingId":"duplicate_payment-v1-dba3490a278adaf944682937","ruleId":"duplicate_payment","ruleVersion":1,"severity":"high","subjects":[{"context":"registry","entity":"household","id":"G2","partition":"411325"}],"summary":"household G2 paid twice"},"id":"019bbf7d-04bb-73a6-ab9c-58f3784a6e8f","occurredAt":"2026-01-15T02:30:00.123Z","partition":"411327","recordedAt":"2026-01-15T02:30:00.123Z","type":"FindingRaised","version":1}',
      },
      {
        subject: '<ns>.audit.411327.finding.duplicate_payment-v1-3c9b90685605a81cea5f9c0d',
        msgId: 'rev-g1:0',
        text: '{"actor":{"org":"县纪委","role":"inspector","userId":"i-1"},"commandId":"rev-g1","correlationId":"rev-g1","data":{"findingId":"duplicate_payment-v1-3c9b90685605a81cea5f9c0d","note":"属实","outcome":"confirmed"},"id":"019bbf7d-04bb-7205-8779-0df0263d775d","occurredAt":"2026-01-15T02:30:00.123Z","partition":"411327","recordedAt":"2026-01-15T02:30:00.123Z","type":"FindingReviewed","version":2}',
      },
    ]);
  });
});
