import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { trackDirectory, untrackDirectory } from './cleanup';
import { testConfig } from './config';
import { freePorts } from './ports';
import { type ManagedProcess, StopWaiting, spawnManaged, stopProcess, waitUntil } from './process';

/** How long a (re)started server may take to answer JetStream requests; a cluster elects a meta leader first. */
const natsReadyTimeoutMs = 30_000;
/** How long SIGTERM may take before SIGKILL; nats-server flushes its stores on a clean stop. */
const natsStopGraceMs = 10_000;
/** Largest cluster the rig starts: three is what R3 needs, five allows quorum-loss tests. */
const clusterSizeMax = 5;

export interface PrivateNatsOptions {
  /** Enable JetStream (file store in the temp dir). Default true. */
  readonly jetstream?: boolean;
  /** A cluster of `size` nodes with routes on loopback ports, for replicated (R3) streams. */
  readonly cluster?: { readonly size: number };
}

export interface PrivateNatsNode {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  pid(): number | undefined;
  isRunning(): boolean;
  /** Sends a signal (SIGKILL for a crash, SIGSTOP/SIGCONT to freeze); resolves when a killing signal took effect. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Freezes the server (SIGSTOP); resolves once all its threads are stopped. */
  pause(): Promise<void>;
  resume(): void;
  /** Starts it again on the same port and store (stopping it first if it runs); waits until it answers. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface PrivateNats {
  /** The first node's URL. */
  readonly url: string;
  /** Every node's URL (pass all to the client so it can fail over). */
  readonly urls: readonly string[];
  readonly nodes: readonly PrivateNatsNode[];
  readonly dir: string;
  /** Kills every node with `signal` (default SIGKILL). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Restarts every node and waits until JetStream answers. */
  restart(): Promise<void>;
  /** Stops every node and removes the temp dir. */
  stop(): Promise<void>;
}

function natsServerBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim();
  } catch {
    if (existsSync(testConfig.natsServerFallback)) return testConfig.natsServerFallback;
    throw new Error(`nats-server is neither on PATH nor at ${testConfig.natsServerFallback}`);
  }
}

/** Whether the server at `url` answers JetStream API requests (a cluster: has a meta leader). */
async function jetStreamAnswers(url: string): Promise<boolean> {
  const nc = await connect({ servers: url, timeout: 1_000, reconnect: false });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 1_000 });
    await jsm.getAccountInfo();
    return true;
  } finally {
    await nc.close();
  }
}

async function canPlaceReplicatedStream(url: string, replicas: number): Promise<boolean> {
  const nc = await connect({ servers: url, timeout: 1_000, reconnect: false });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5_000 });
    const name = `FT_READY_PROBE_${process.pid}`;
    await jsm.streams.add({
      name,
      subjects: [`ft-ready-probe.${process.pid}`],
      num_replicas: replicas,
      storage: StorageType.Memory,
    });
    await jsm.streams.delete(name);
    return true;
  } finally {
    await nc.close();
  }
}

async function clientAnswers(url: string): Promise<boolean> {
  const nc = await connect({ servers: url, timeout: 1_000, reconnect: false });
  await nc.close();
  return true;
}

/** One nats-server process with its config and store; it keeps both across restarts. */
class NatsNode implements PrivateNatsNode {
  readonly url: string;
  private proc: ManagedProcess | undefined;

  constructor(
    private readonly binary: string,
    readonly name: string,
    readonly port: number,
    private readonly nodeDir: string,
    readonly storeDir: string,
    private readonly jetstream: boolean,
  ) {
    this.url = `nats://127.0.0.1:${port}`;
  }

  pid(): number | undefined {
    return this.proc?.pid;
  }

  isRunning(): boolean {
    return this.proc?.isRunning() ?? false;
  }

  /** Spawns the process without waiting, so a cluster's nodes come up together. */
  start(): void {
    this.proc = spawnManaged(this.binary, ['-c', join(this.nodeDir, 'nats.conf')], {
      cwd: this.nodeDir,
      logFile: join(this.nodeDir, 'server.log'),
    });
  }

  /** Waits until the node accepts clients (JetStream readiness is checked for the whole set). */
  async ready(): Promise<void> {
    await waitUntil(
      async () => {
        if (!this.isRunning()) throw new StopWaiting(`nats-server ${this.name} exited`);
        return clientAnswers(this.url);
      },
      natsReadyTimeoutMs,
      () => `nats-server ${this.name} on ${this.url} did not accept clients:\n${this.proc?.logTail() ?? ''}`,
    );
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (proc === undefined || !proc.isRunning()) return;
    proc.signal(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') await proc.exited;
  }

  async pause(): Promise<void> {
    await this.proc?.freeze();
  }

  resume(): void {
    this.proc?.signal('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
    await this.ready();
    if (!this.jetstream) return;
    await waitUntil(
      () => jetStreamAnswers(this.url),
      natsReadyTimeoutMs,
      () => `JetStream on ${this.url} did not answer after a restart`,
    );
  }

  async stop(): Promise<void> {
    if (this.proc !== undefined) await stopProcess(this.proc, 'SIGTERM', natsStopGraceMs);
  }
}

/**
 * Starts a private nats-server (or a cluster) on free loopback ports with its
 * store in a temp dir, for fault tests that kill, pause and restart it. Everything
 * is killed and removed when the test process ends, even if the test fails first.
 */
export async function startPrivateNats(options: PrivateNatsOptions = {}): Promise<PrivateNats> {
  const jetstream = options.jetstream ?? true;
  const size = options.cluster?.size ?? 1;
  if (!Number.isInteger(size) || size < 1 || size > clusterSizeMax) {
    throw new RangeError(`cluster size must be an integer in [1, ${clusterSizeMax}], got ${size}`);
  }
  const clustered = options.cluster !== undefined;
  const binary = natsServerBinary();
  const dir = mkdtempSync(join(tmpdir(), 'ft-nats-'));
  trackDirectory(dir);
  const ports = await freePorts(size * 2);
  const clientPorts = ports.slice(0, size);
  const routePorts = ports.slice(size);
  const clusterName = `ftc_${clientPorts[0]}`;

  const nodes = clientPorts.map((port, i) => {
    const name = `n${i + 1}`;
    const nodeDir = join(dir, name);
    const storeDir = join(nodeDir, 'jetstream');
    mkdirSync(storeDir, { recursive: true });
    const lines = [`server_name: ${name}`, `listen: 127.0.0.1:${port}`];
    if (jetstream) lines.push(`jetstream { store_dir: ${JSON.stringify(storeDir)} }`);
    if (clustered) {
      const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`);
      lines.push(
        `cluster { name: ${clusterName}, listen: 127.0.0.1:${routePorts[i]}, routes: [${routes.join(', ')}] }`,
      );
    }
    writeFileSync(join(nodeDir, 'nats.conf'), `${lines.join('\n')}\n`);
    return new NatsNode(binary, name, port, nodeDir, storeDir, jetstream);
  });
  const urls = nodes.map((node) => node.url);
  const waitForJetStream = async () => {
    if (!jetstream) return;
    for (const url of urls) {
      await waitUntil(
        () => jetStreamAnswers(url),
        natsReadyTimeoutMs,
        () => `JetStream on ${url} did not answer in ${natsReadyTimeoutMs} ms`,
      );
    }
    // A meta leader answers before every peer has joined; a replicated stream can only
    // be placed once they have. Prove it with a throw-away stream of `size` replicas.
    if (clustered) {
      await waitUntil(
        () => canPlaceReplicatedStream(urls[0]!, size),
        natsReadyTimeoutMs,
        () => `the ${size}-node cluster could not place an R${size} stream in ${natsReadyTimeoutMs} ms`,
      );
    }
  };

  try {
    for (const node of nodes) node.start();
    await Promise.all(nodes.map((node) => node.ready()));
    await waitForJetStream();
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }

  return {
    url: urls[0]!,
    urls,
    nodes,
    dir,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      await Promise.all(nodes.map((node) => node.kill(signal)));
    },
    async restart() {
      await Promise.all(nodes.map((node) => node.stop()));
      for (const node of nodes) node.start();
      await Promise.all(nodes.map((node) => node.ready()));
      await waitForJetStream();
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
      rmSync(dir, { recursive: true, force: true });
      untrackDirectory(dir);
    },
  };
}
