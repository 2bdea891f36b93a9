import type { Migration } from 'kysely';
import * as m0001 from './0001-data-keys';

/**
 * The key store's own migrations, run into its own schema (`keyStoreSchema`), never into a
 * read-model schema: read models are dropped and rebuilt from the log, the key store cannot be.
 */
export const keyStoreMigrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-data-keys': m0001,
});
