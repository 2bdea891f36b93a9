import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { defaultDatabaseServerUrl, defaultNatsUrl } from '@fundtrace/devstack';
import { connectNats } from '@fundtrace/eventlog';
import pg from 'pg';
import type { Machine } from './report';

/** What the figures were measured on: they mean nothing without it. */
export async function machineInfo(loadAverageStart: number[]): Promise<Machine> {
  const nc = await connectNats(process.env.NATS_URL ?? defaultNatsUrl, { name: 'fundtrace-bench-info' });
  const nats = nc.info?.version ?? 'unknown';
  await nc.close();
  const client = new pg.Client({
    connectionString: process.env.DATABASE_SERVER_URL ?? defaultDatabaseServerUrl,
  });
  await client.connect();
  const { rows } = await client.query<{ v: string }>('show server_version');
  await client.end();
  const round = (xs: number[]) => xs.map((x) => Math.round(x * 100) / 100);
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    nats,
    postgres: rows[0]?.v ?? 'unknown',
    os: `${type()} ${release()}`,
    loadAverageStart: round(loadAverageStart),
    loadAverageEnd: round(loadavg()),
  };
}
