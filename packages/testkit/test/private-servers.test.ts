import { readdirSync, readFileSync } from 'node:fs';
import { ensurePartitionStreams, lastSequence } from '@fundtrace/eventlog';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPrivateNats, startPrivatePostgres } from '../src';

// Proves the fault-test servers: they start on their own ports, can be crashed
// (SIGKILL), frozen (SIGSTOP) and restarted, and keep their data across a crash.

/** The state letter of every thread of the server and its children (PostgreSQL's backends run in sessions of their own). */
function treeThreadStates(root: number): string[] {
  const states: string[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgid) !== root && Number(ppid) !== root) continue;
      for (const task of readdirSync(`/proc/${entry}/task`)) {
        const line = readFileSync(`/proc/${entry}/task/${task}/stat`, 'utf8');
        states.push(line.slice(line.lastIndexOf(')') + 2).split(' ')[0]!);
      }
    } catch {
      // the process ended while we looked
    }
  }
  return states;
}

async function query(url: string, text: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe('startPrivatePostgres', () => {
  it('starts, survives SIGKILL with committed data intact, pauses and resumes, and stops cleanly', async () => {
    const server = await startPrivatePostgres();
    try {
      expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      expect(server.port).not.toBe(5432);
      await query(server.url, 'create table kept (n int); insert into kept values (1), (2), (3)');

      await server.kill('SIGKILL');
      expect(server.isRunning()).toBe(false);
      await expect(query(server.url, 'select 1')).rejects.toThrow();

      await server.restart();
      expect(await query(server.url, 'select count(*)::int as n from kept')).toEqual([{ n: 3 }]);

      await server.pause();
      // pause() resolves only once the postmaster and every backend, each thread of them, is stopped.
      const states = treeThreadStates(server.pid()!);
      expect(states.length).toBeGreaterThan(1);
      // (a backend that had already exited stays a zombie until the postmaster runs again)
      expect(new Set(states.filter((state) => state !== 'Z'))).toEqual(new Set(['T']));
      const frozen = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 1_000 });
      frozen.on('error', () => undefined);
      await expect(frozen.connect()).rejects.toThrow();
      server.resume();
      expect(await query(server.url, 'select count(*)::int as n from kept')).toEqual([{ n: 3 }]);
    } finally {
      await server.stop();
    }
    expect(server.isRunning()).toBe(false);
  });
});

describe('startPrivateNats', () => {
  it('starts a JetStream server that keeps its streams and messages across SIGKILL and restart', async () => {
    const server = await startPrivateNats({ jetstream: true });
    try {
      expect(server.urls).toHaveLength(1);
      const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      const [stream] = await ensurePartitionStreams(jsm, {
        partition: '411325',
        contexts: ['ledger'],
        ns: 'pk',
      });
      for (let i = 0; i < 5; i++) await js.publish(`pk.ledger.411325.account.a${i}`, new Uint8Array([i]));

      await server.kill('SIGKILL');
      expect(server.nodes[0]!.isRunning()).toBe(false);
      await server.restart();
      // The client reconnects by itself to the same port; on a loaded machine that and
      // the stream's recovery from disk can outlast one request's timeout, so ask again.
      const deadline = Date.now() + 60_000;
      let tail: number | undefined;
      while (tail === undefined && Date.now() < deadline) {
        tail = await lastSequence(jsm, stream!).catch(() => undefined);
      }
      expect(tail).toBe(5);
      await nc.close();
    } finally {
      await server.stop();
    }
  });

  it('starts a 3-node cluster that holds an R3 stream, and keeps answering with one node down', async () => {
    const cluster = await startPrivateNats({ cluster: { size: 3 } });
    try {
      expect(cluster.urls).toHaveLength(3);
      const nc = await connect({
        servers: [...cluster.urls],
        maxReconnectAttempts: -1,
        reconnectTimeWait: 100,
      });
      const jsm = await jetstreamManager(nc);
      const [stream] = await ensurePartitionStreams(jsm, {
        partition: '411325',
        contexts: ['ledger'],
        ns: 'r3',
        replicas: 3,
      });
      const info = await jsm.streams.info(stream!);
      expect(info.config.num_replicas).toBe(3);
      expect(1 + (info.cluster?.replicas?.length ?? 0)).toBe(3);

      const js = jetstream(nc);
      await js.publish('r3.ledger.411325.account.a', new Uint8Array([1]));
      await cluster.nodes[2]!.kill('SIGKILL');
      // Two of three replicas are a quorum: writes go on, once a new leader is elected
      // if the killed node led the stream (seconds; longer on a loaded machine). The
      // retry reuses the msg id, as a writer would, so it cannot store twice.
      const deadline = Date.now() + 90_000;
      for (;;) {
        try {
          await js.publish('r3.ledger.411325.account.b', new Uint8Array([2]), { msgID: 'b', timeout: 5_000 });
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
        }
      }
      await cluster.nodes[2]!.restart();
      // A restarted replica may answer stream info from its stale state for a moment.
      let tail = await lastSequence(jsm, stream!).catch(() => 0);
      while (Date.now() < deadline && tail !== 2) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        tail = await lastSequence(jsm, stream!).catch(() => 0);
      }
      expect(tail).toBe(2);
      await nc.close();
    } finally {
      await cluster.stop();
    }
  });

  it('refuses a cluster size it cannot run', async () => {
    await expect(startPrivateNats({ cluster: { size: 0 } })).rejects.toBeInstanceOf(RangeError);
    await expect(startPrivateNats({ cluster: { size: 9 } })).rejects.toBeInstanceOf(RangeError);
  });
});
