import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { percentile } from './stats';

/**
 * The end-to-end phase's load generator: POSTs at a steady rate, open loop (each request is sent
 * when it is due, whether or not earlier ones have been answered), at most `inFlightMax`
 * outstanding. The same function runs against the writer and, as a baseline, against a server
 * that answers at once (`trivialServer`), so the report can show the generator was not what held
 * the rate down.
 *
 * It sends through node:http with a keep-alive agent, not `fetch`: measured against the trivial
 * server (18:09, load ~10), undici's fetch cost 516–1,158 µs of CPU per request and reached
 * 244–842 requests/s, node:http 150–252 µs and 2,851–4,302 requests/s. At 1,000/s fetch alone
 * would take most of one of the machine's two cores from the services it measures.
 */

export interface OpenLoopOptions {
  url: string;
  headers: Record<string, string>;
  /**
   * Requests per second asked. `Infinity` makes it a closed loop: each request leaves as soon as
   * the window has room (a capacity probe; `sendSlipMs` then means nothing).
   */
  rate: number;
  total: number;
  /**
   * Stop sending after this long even if fewer than `total` have left (a writer slower than the
   * rate fills the window and the schedule slips); the achieved rate counts what was sent.
   */
  durationMs?: number;
  /** Past this many outstanding the schedule slips instead of opening sockets without bound. */
  inFlightMax: number;
  /** Connections at most (requests beyond them wait in the client's queue, timed as outstanding). */
  socketsMax?: number;
  /**
   * Opened before the clock starts with one GET of this path per connection, so the measured
   * seconds are the steady state the phase names, not hundreds of TCP handshakes at once (a
   * burst of connects that overflows a busy server's accept queue waits out SYN retransmits of
   * 1, 3, 7 s: the multi-second p99 of the 18:45 probes).
   */
  warmUpPath?: string;
  /** The JSON body of request `i`. */
  body: (i: number) => string;
  /** Called for every 201 with its parsed body and the moment it arrived (performance.now()). */
  onAccepted?: (body: Record<string, unknown>, at: number) => void;
}

export interface OpenLoopResult {
  asked: number;
  /** Requests sent: fewer than asked when `durationMs` ran out first. */
  sent: number;
  accepted: number;
  failures: number;
  firstFailure: string;
  /** Accepted requests per second, from the first send to the last answer. */
  achievedPerS: number;
  /** How late the last request left against its schedule (ms): the generator or the window falling behind. */
  sendSlipMs: number;
  /** CPU the generator's process spent per request (user + system, µs), whatever else ran in it. */
  cpuUsPerRequest: number;
  /** Request sent → 201, ms, ascending. */
  acceptLatencies: number[];
  ms: number;
}

/** One POST; resolves with the status, the moment the answer's head arrived, and its body. */
function post(
  agent: Agent,
  url: URL,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; at: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        agent,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const at = performance.now();
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, at, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One GET, its body read (so the keep-alive socket goes back to the agent's pool). */
function get(agent: Agent, url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, agent },
      (res) => {
        res.resume();
        res.on('end', () => resolve());
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(o.url);
  const sockets = o.socketsMax ?? o.inFlightMax;
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  if (o.warmUpPath !== undefined) {
    const warm = new URL(o.warmUpPath, url);
    await Promise.all(Array.from({ length: sockets }, () => get(agent, warm)));
  }
  const acceptLatencies: number[] = [];
  let failures = 0;
  let firstFailure = '';
  let sendSlipMs = 0;
  // Requests outstanding, and the one waiter for a free slot: `Promise.race` over the whole
  // window would attach a handler to every outstanding request each time it is full, O(window)
  // per request (at 256 outstanding that was most of the generator's CPU).
  const outstanding = new Set<Promise<void>>();
  let slotFreed: (() => void) | null = null;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const sendUntil = started + (o.durationMs ?? Number.POSITIVE_INFINITY);
  let sent = 0;
  try {
    for (let i = 0; i < o.total; i++) {
      const due = started + (i * 1000) / o.rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      while (outstanding.size >= o.inFlightMax)
        await new Promise<void>((r) => {
          slotFreed = r;
        });
      const sentAt = performance.now();
      if (sentAt > sendUntil) break;
      sendSlipMs = Math.max(0, sentAt - due);
      sent++;
      const request: Promise<void> = post(agent, url, o.headers, o.body(i))
        .then(({ status, at, text }) => {
          if (status !== 201) throw new Error(`${status} ${text.slice(0, 300)}`);
          acceptLatencies.push(at - sentAt);
          o.onAccepted?.(JSON.parse(text) as Record<string, unknown>, at);
        })
        .catch((error: unknown) => {
          failures++;
          firstFailure ||= String(error);
        })
        .finally(() => {
          outstanding.delete(request);
          const freed = slotFreed;
          slotFreed = null;
          freed?.();
        });
      outstanding.add(request);
    }
    await Promise.all(outstanding);
  } finally {
    agent.destroy();
  }
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  acceptLatencies.sort((a, b) => a - b);
  return {
    asked: o.total,
    sent,
    accepted: acceptLatencies.length,
    failures,
    firstFailure,
    achievedPerS: Math.round((acceptLatencies.length / ms) * 1000),
    sendSlipMs: Math.round(sendSlipMs),
    cpuUsPerRequest: Math.round((used.user + used.system) / Math.max(1, sent)),
    acceptLatencies,
    ms: Math.round(ms),
  };
}

/** The generator's ceiling: `openLoop` against a server that answers 201 at once (its own process). */
export interface GeneratorCeiling {
  askedPerS: number;
  achievedPerS: number;
  requests: number;
  sendSlipMs: number;
  cpuUsPerRequest: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Runs `openLoop` for `seconds` against `trivialServer`, with the end-to-end phase's own options
 * (rate, window, connections, headers, bodies), and reports what the generator achieved.
 */
export async function measureGeneratorCeiling(
  load: Omit<OpenLoopOptions, 'url' | 'total' | 'onAccepted'> & { seconds: number },
): Promise<GeneratorCeiling> {
  const server = await trivialServer();
  try {
    const { seconds, ...rest } = load;
    const result = await openLoop({
      ...rest,
      url: `${server.url}/v1/partitions/411325/accounts`,
      total: Math.round(load.rate * seconds),
    });
    if (result.failures > 0)
      throw new Error(`${result.failures} requests to the trivial server failed: ${result.firstFailure}`);
    return {
      askedPerS: load.rate,
      achievedPerS: result.achievedPerS,
      requests: result.accepted,
      sendSlipMs: result.sendSlipMs,
      cpuUsPerRequest: result.cpuUsPerRequest,
      p50Ms: round2(percentile(result.acceptLatencies, 0.5)),
      p99Ms: round2(percentile(result.acceptLatencies, 0.99)),
    };
  } finally {
    await server.stop();
  }
}

/**
 * An HTTP server in its own process that reads each request body and answers 201 with a
 * sequence number, as ledger-api does, doing nothing else: what is left is the generator's cost.
 */
export async function trivialServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const script = `
    const http = require('node:http');
    let seq = 0;
    const server = http.createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c) => { bytes += c.length; });
      req.on('end', () => {
        seq++;
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ eventCount: 1, firstSeq: seq, lastSeq: seq, bytes }));
      });
    });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
    process.on('SIGTERM', () => server.close(() => process.exit(0)));
  `;
  const child: ChildProcess = spawn(process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(chunk.toString().trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`trivial server printed ${chunk.toString()}`);
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
