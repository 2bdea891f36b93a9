import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Progress } from './progress';

/**
 * Loads a `fundtrace generate` data set through the services' HTTP APIs, as offices would:
 * every command is validated, decided and appended by its writer. Commands of one group (a
 * bank's answers to one roster) are independent and go concurrently; everything else waits
 * for what came before, because later commands depend on it.
 */

/** Concurrent requests within a group: enough to keep a writer's pipeline full on 2 cores. */
export const groupInFlight = 32;
/** How often an import job is polled. */
const importPollMs = 200;

export interface CommandLine {
  service: 'registry' | 'ledger';
  partition: string;
  path: string;
  body: Record<string, unknown>;
  group: string | null;
}

export interface Endpoints {
  registryUrl: string;
  ledgerUrl: string;
  tokens: { finance: string; registry: string };
}

export interface LoadResult {
  commands: number;
  events: number;
  ms: number;
  /** Stream (partition, context) → events appended, for the projection phases. */
  byPartition: Map<string, number>;
}

async function post(url: string, token: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`POST ${url}: ${response.status} ${text.slice(0, 400)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

export async function sendCommand(line: CommandLine, endpoints: Endpoints): Promise<number> {
  if (line.service === 'registry') {
    const base = `${endpoints.registryUrl}/v1/partitions/${line.partition}`;
    let job = await post(`${base}/${line.path}`, endpoints.tokens.registry, line.body);
    if (line.path !== 'imports') return Number(job.eventCount ?? 0);
    while (job.status === 'appending') {
      await new Promise((r) => setTimeout(r, importPollMs));
      const response = await fetch(`${base}/imports/${job.importId}`, {
        headers: { authorization: `Bearer ${endpoints.tokens.registry}` },
      });
      job = (await response.json()) as Record<string, unknown>;
    }
    if (job.status !== 'done')
      throw new Error(`import ${String(job.importId)}: ${String(job.status)} ${String(job.error)}`);
    return Number(job.appendedEvents);
  }
  const result = await post(
    `${endpoints.ledgerUrl}/v1/partitions/${line.partition}/${line.path}`,
    endpoints.tokens.finance,
    line.body,
  );
  return Number(result.eventCount ?? 0);
}

export async function loadCommands(
  file: string,
  endpoints: Endpoints,
  progress?: Progress,
): Promise<LoadResult> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  const result: LoadResult = { commands: 0, events: 0, ms: 0, byPartition: new Map() };
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let group: string | null = null;
  let failure: unknown = null;
  const account = (line: CommandLine, events: number) => {
    result.commands++;
    result.events += events;
    const key = `${line.service}:${line.partition}`;
    result.byPartition.set(key, (result.byPartition.get(key) ?? 0) + events);
    progress?.update(result.commands);
  };
  for await (const text of lines) {
    if (text.trim() === '') continue;
    const line = JSON.parse(text) as CommandLine;
    if (failure !== null) break;
    if (line.group === null || line.group !== group) {
      await Promise.all(inFlight);
      group = line.group;
    }
    if (line.group === null) {
      account(line, await sendCommand(line, endpoints));
      continue;
    }
    while (inFlight.size >= groupInFlight) await Promise.race(inFlight);
    const p: Promise<void> = sendCommand(line, endpoints)
      .then((events) => account(line, events))
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  if (failure !== null) throw failure;
  result.ms = performance.now() - started;
  return result;
}
