/**
 * What decoding costs per event on the projector's realistic mix, measured in process: the
 * bench's load is appended, read back raw, then decoded as the projector does.
 * Usage: node --import tsx services/projector/bench/decode.ts [events] [--profile=<file>]
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { decodeStreamMessageWithData, type RawStreamMessage, readStreamRaw } from '@fundtrace/eventlog';
import { parseCanonical } from '@fundtrace/events';
import { jetstream } from '@nats-io/jetstream';
import { openBenchLog } from './support';

const events = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 50_000);
const profileFile = process.argv.find((arg) => arg.startsWith('--profile='))?.slice('--profile='.length);
const bench = await openBenchLog('decode-bench', events);
const messages: RawStreamMessage[] = [];
const js = jetstream(bench.nc);
for (const [stream, last] of bench.tails) {
  for await (const m of readStreamRaw(js, { stream, fromSeq: 1, toSeq: last })) messages.push(m);
}
await bench.close();
const counts = new Map<string, number>();
function time(name: string, work: (m: RawStreamMessage) => unknown, rounds = 3): void {
  const per: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (const m of messages) work(m);
    per.push(Number(process.hrtime.bigint() - started) / 1000 / messages.length);
  }
  console.log(`${name.padEnd(28)} ${per.map((p) => p.toFixed(2)).join(' / ')} µs/event`);
}
for (const m of messages) {
  const type = decodeStreamMessageWithData(m).event.type;
  counts.set(type, (counts.get(type) ?? 0) + 1);
}
console.log(
  `${messages.length} events; mean ${Math.round(messages.reduce((a, m) => a + m.bytes.length, 0) / messages.length)} bytes`,
);
console.log(
  [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ${n}`)
    .join(', '),
);
const decoder = new TextDecoder();
time('TextDecoder + JSON.parse', (m) => JSON.parse(decoder.decode(m.bytes)));
time('parseCanonical', (m) => parseCanonical(m.bytes));
let session: Session | undefined;
if (profileFile !== undefined) {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
time('decodeStreamMessageWithData', decodeStreamMessageWithData, 5);
if (session !== undefined) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(profileFile!, JSON.stringify(profile));
}
