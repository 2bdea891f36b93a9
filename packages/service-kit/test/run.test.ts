import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const fixture = join(import.meta.dirname, 'fixtures/run-service.ts');
const root = join(import.meta.dirname, '../../..');

interface Started {
  child: ChildProcess;
  events: string[];
  address: string;
  waitFor: (name: string) => Promise<void>;
  exited: Promise<number | null>;
}

async function start(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const events: string[] = [];
  const waiters: { name: string; resolve: () => void }[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.startsWith('EVENT ')) {
        events.push(line.slice(6));
        for (const waiter of waiters.filter((w) => line.slice(6).startsWith(w.name))) waiter.resolve();
      }
      newline = buffer.indexOf('\n');
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = (name: string) =>
    events.some((e) => e.startsWith(name))
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          waiters.push({ name, resolve });
          void exited.then(() => reject(new Error(`exited before ${name}; events: ${events.join(', ')}`)));
        });
  await waitFor('listening');
  const address = events.find((e) => e.startsWith('listening'))!.split(' ')[1]!;
  return { child, events, address, waitFor, exited };
}

describe('runService', () => {
  it('on SIGTERM finishes the in-flight request, then drains, then closes resources, and exits 0', async () => {
    const service = await start({ MODE: 'graceful' });
    const inFlight = fetch(`${service.address}/slow`);
    await service.waitFor('slow-started');
    service.child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
    expect(await service.exited, service.events.join(' | ')).toBe(0);
    expect(service.events.slice(1)).toEqual([
      'slow-started',
      'slow-finished',
      'drain-started',
      'drain-finished',
      'resource-closed',
      'exit 0',
    ]);
    // Nothing listens any more.
    await expect(fetch(`${service.address}/health`)).rejects.toThrow();
  });

  it('exits 1 at once on a second signal while a shutdown hook hangs', async () => {
    const service = await start({ MODE: 'hang' });
    service.child.kill('SIGTERM');
    await service.waitFor('drain-started');
    service.child.kill('SIGTERM');
    expect(await service.exited, service.events.join(' | ')).toBe(1);
    expect(service.events).not.toContain('resource-closed');
    expect(service.events.at(-1)).toBe('exit 1');
  });

  it('exits 1 when a shutdown outlasts its time limit', async () => {
    const service = await start({ MODE: 'hang', SHUTDOWN_TIMEOUT_MS: '300' });
    service.child.kill('SIGINT');
    expect(await service.exited, service.events.join(' | ')).toBe(1);
    expect(service.events).toContain('drain-started');
    expect(service.events).not.toContain('drain-finished');
  });
});
