/**
 * Benchmark (not a test): the writer's cold rebuild of a county with 100,000
 * households and 1,000,000 events — the decode + evolve half of it, from the
 * canonical bytes as stored, and the heap the state holds afterwards. Reading
 * the bytes from JetStream is @fundtrace/eventlog's part (see its README).
 * Decoding uses the writer's own rebuild decoder (src/writer/fast-decode.ts).
 *
 *   node --expose-gc --import tsx services/ledger-api/bench/rebuild.ts [households] [periods]
 */

import { eventIdFor } from '@fundtrace/eventlog';
import { encodeEvent, ledgerEvents, utcTimestamp } from '@fundtrace/events';
import { decide } from '../src/ledger/decide';
import { evolve, type LedgerEventInput } from '../src/ledger/evolve';
import { initialState } from '../src/ledger/state';
import { loadReference } from '../src/reference/programmes';
import { decodeLedgerEvent } from '../src/writer/fast-decode';
import { countyScenario } from './county-scenario';

const households = Number(process.argv[2] ?? 100_000);
const periods = Number(process.argv[3] ?? 10);
const reference = loadReference();
const registry = { seq: 1, household: () => ({ exited: false, accountBound: true }) };
const versions = new Map(ledgerEvents.map((d) => [d.type, d.version]));
const nowMs = Date.parse('2024-12-20T00:00:00Z');
const actor = { userId: 'bench', role: 'finance' as const, org: 'bench' };

// Generate the log with the real decider, keep only the bytes.
const state = initialState('411325');
const stored: Uint8Array[] = [];
let n = 0;
function book(events: LedgerEventInput[]) {
  for (const e of events) {
    evolve(state, e);
    const envelope = {
      id: eventIdFor(nowMs, 'bench', n),
      type: e.type,
      version: versions.get(e.type)!,
      partition: '411325',
      occurredAt: utcTimestamp(nowMs),
      recordedAt: utcTimestamp(nowMs),
      actor,
      commandId: `c${n}`,
      correlationId: `c${n}`,
      data: e.data,
    };
    stored.push(encodeEvent(envelope as never));
    n++;
  }
}
const run = (command: Parameters<typeof decide>[1]) => {
  const d = decide(state, command, { reference, registry, today: '2024-12-20' });
  if (!d.ok) throw new Error(`${d.code}: ${d.message}`);
  book(d.events);
};
let t = performance.now();
for (const command of countyScenario(households, periods)) run(command);
const bytes = stored.reduce((s, b) => s + b.length, 0);
console.log(
  `generated ${n} events (${(bytes / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);

// Cold rebuild: decode every stored event and evolve a fresh state.
global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
t = performance.now();
const rebuilt = initialState('411325');
let decodeMs = 0;
for (const b of stored) {
  const d0 = performance.now();
  const { event } = decodeLedgerEvent(b);
  decodeMs += performance.now() - d0;
  evolve(rebuilt, event);
}
const rebuildMs = performance.now() - t;
stored.length = 0;
global.gc?.();
const heapAfter = process.memoryUsage().heapUsed;
console.log(
  JSON.stringify({
    households,
    events: n,
    rebuildS: +(rebuildMs / 1000).toFixed(1),
    eventsPerS: Math.round(n / (rebuildMs / 1000)),
    decodeS: +(decodeMs / 1000).toFixed(1),
    // The generator's own state is still alive; the rebuilt state is the same size.
    stateHeapMiB: Math.round((heapAfter - heapBefore) / 2 ** 20),
    payments: rebuilt.payments.size,
  }),
);
