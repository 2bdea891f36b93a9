import { type PrivateNats, startPrivateNats } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createLogger, natsPlugin } from '../src/index';
import { logCapture } from './sample-app';

let nats: PrivateNats;
beforeAll(async () => {
  nats = await startPrivateNats({ jetstream: true });
});
afterAll(async () => nats.stop());

describe('natsPlugin through a NATS outage', () => {
  it('reports nats not ready while the server is down, logs the disconnect, and recovers by itself', async () => {
    const logs = logCapture();
    const app = await createApp({
      name: 'outage',
      version: '0',
      description: 'outage test',
      logger: createLogger({ name: 'outage', destination: logs.stream }),
      auth: false,
    });
    try {
      await app.register(natsPlugin, { url: nats.url, name: 'outage-test' });
      const ready = () => app.inject({ method: 'GET', url: '/ready' });
      expect((await ready()).statusCode).toBe(200);

      await nats.kill('SIGKILL');
      await expect.poll(() => logs.text(), { timeout: 30_000 }).toContain('NATS disconnected');
      const down = await ready();
      expect(down.statusCode).toBe(503);
      expect(down.json().failing).toEqual(['nats']);

      await nats.restart();
      await expect.poll(() => logs.text(), { timeout: 30_000 }).toContain('NATS reconnected');
      await expect.poll(async () => (await ready()).statusCode, { timeout: 30_000 }).toBe(200);
    } finally {
      await app.close();
    }
  });
});
