import { migrateToLatest } from '@fundtrace/db';
import { createTestDatabase, type TestDatabase } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { boardTestConfig } from './support/config';

// On a fresh installation the board may start before the projector has created any books.
// It used to fail to start (its first read of the books version threw); now it starts, says
// in /ready that the books cannot be read, and becomes ready once they exist.
describe('notice board before the projector has written any books', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('starts, is not ready, and becomes ready when the books appear', async () => {
    const app = await buildApp(boardTestConfig(database.url, { NOTICE_CHECKPOINT_POLL_MS: '100' }));
    try {
      const before = await app.inject({ method: 'GET', url: '/ready' });
      expect(before.statusCode).toBe(503);
      expect(before.body).toContain('books');

      await migrateToLatest(database.db);
      const after = await app.inject({ method: 'GET', url: '/ready' });
      expect(after.body).not.toMatch(/"books"\s*:\s*\{\s*"ok"\s*:\s*false/);
      expect(after.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
