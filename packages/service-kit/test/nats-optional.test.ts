import { type PrivateNats, startPrivateNats } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp, createLogger, natsPlugin } from '../src/index';
import { logCapture } from './sample-app';

/**
 * Which POSTs natsPlugin refuses while NATS is away: a command always; a read sent as POST
 * (`natsOptional: true`) never; a route that appends in one mode only (a dry run) according to its
 * validated body, after validation, without its handler running when it is refused.
 */

let nats: PrivateNats;
beforeAll(async () => {
  nats = await startPrivateNats({ jetstream: true });
});
afterAll(async () => nats.stop());

const runBody = z.strictObject({ dryRun: z.boolean().default(false) });

describe('natsPlugin natsOptional while NATS is away', () => {
  it('refuses commands and real runs with 503, answers reads and dry runs, validates first', async () => {
    const logs = logCapture();
    const app = await createApp({
      name: 'optional',
      version: '0',
      description: 'natsOptional test',
      logger: createLogger({ name: 'optional', destination: logs.stream }),
      auth: false,
    });
    const handled: string[] = [];
    try {
      await app.register(natsPlugin, { url: nats.url, name: 'optional-test' });
      app.post('/command', async () => {
        handled.push('command');
        return { ok: true };
      });
      app.post('/search', { config: { natsOptional: true } }, async () => {
        handled.push('search');
        return { ok: true };
      });
      app.post(
        '/run',
        {
          config: { natsOptional: (request) => (request.body as z.output<typeof runBody>).dryRun },
          schema: { body: runBody },
        },
        async (request) => {
          handled.push(`run dryRun=${request.body.dryRun}`);
          return { ok: true };
        },
      );
      const post = (url: string, payload: Record<string, unknown> = {}) =>
        app.inject({ method: 'POST', url, payload });

      // Connected: everything is handled.
      for (const url of ['/command', '/search']) expect((await post(url)).statusCode, url).toBe(200);
      expect((await post('/run', {})).statusCode).toBe(200);
      expect((await post('/run', { dryRun: true })).statusCode).toBe(200);
      expect(handled).toEqual(['command', 'search', 'run dryRun=false', 'run dryRun=true']);
      handled.length = 0;

      await nats.kill('SIGKILL');
      await expect.poll(() => logs.text(), { timeout: 30_000 }).toContain('NATS disconnected');

      const refusedCommand = await post('/command');
      expect(refusedCommand.statusCode).toBe(503);
      expect(refusedCommand.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
      expect(refusedCommand.json().error.code).toBe('nats_unavailable');
      expect((await post('/search')).statusCode).toBe(200);
      expect((await post('/run', { dryRun: true })).statusCode).toBe(200);
      // dryRun left out defaults to false: a real run, refused before its handler runs.
      for (const payload of [{}, { dryRun: false }]) {
        const refused = await post('/run', payload);
        expect(refused.statusCode, JSON.stringify(payload)).toBe(503);
        expect(refused.json().error.code).toBe('nats_unavailable');
      }
      // The predicate is asked with a validated body: a bad one is a 400, never a 503 or a throw.
      const invalid = await post('/run', { dryRun: 'yes' });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.json().error.code).toBe('validation_failed');
      expect(handled).toEqual(['search', 'run dryRun=true']);
      handled.length = 0;

      await nats.restart();
      await expect.poll(() => logs.text(), { timeout: 30_000 }).toContain('NATS reconnected');
      expect((await post('/run', { dryRun: false })).statusCode).toBe(200);
      expect((await post('/command')).statusCode).toBe(200);
      expect(handled).toEqual(['run dryRun=false', 'command']);
    } finally {
      await app.close();
    }
  });
});
