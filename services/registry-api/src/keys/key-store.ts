import { createDb, migrateToLatest } from '@fundtrace/db';
import type { Logger } from '@fundtrace/eventlog';
import { generateDataKey, type Keyring, type NewDataKey, unwrapDataKey, wrapDataKey } from '@fundtrace/pii';
import { type ColumnType, type Generated, type Kysely, sql } from 'kysely';
import { keyStoreMigrations } from './migrations/index';

/**
 * The household data keys (decision 0042), kept outside the log in a PostgreSQL schema of their own:
 * read models are dropped and rebuilt from the log, this table cannot be — it is the one thing that
 * must be backed up, and a backup of it brings back what was erased until its master key is rotated
 * away. Each key is wrapped (AES-256-GCM) by a master key of the configured keyring; unwrapped keys
 * live only in a bounded in-memory cache.
 */

/** Its own schema: never a read-model schema (replay would start it empty) nor `public`. */
export const keyStoreSchema = 'registry_keys';

/**
 * Unwrapped data keys held in memory. One per household: 50,000 covers the largest county's whole
 * register (an import's keys stay cached while it appends) at about 150 bytes each (7.5 MB).
 */
export const dataKeyCacheMax = 50_000;

/** Rows per INSERT when an import creates its households' keys, and per re-wrap transaction. */
export const dataKeyBatchMax = 1_000;

/** Connections: commands run one at a time per county; a few counties share one instance. */
const keyStorePoolMax = 4;

interface DataKeysTable {
  data_key_id: string;
  partition: string;
  household_id: string;
  wrapped_key: Buffer | null;
  master_key_id: string | null;
  created_at: ColumnType<Date, never, never> & Generated<Date>;
  rewrapped_at: Date | null;
  destroyed_at: Date | null;
  destroyed_by: string | null;
  reason: string | null;
}

export interface KeyStoreDatabase {
  data_keys: DataKeysTable;
}

/** A household's data key as the store answers it. */
export type StoredDataKey =
  | { readonly state: 'live'; readonly dataKeyId: string; readonly key: Buffer }
  | { readonly state: 'destroyed'; readonly dataKeyId: string };

export interface KeyStoreOptions {
  readonly url: string;
  readonly keyring: Keyring;
  readonly logger: Logger;
  /** Default `keyStoreSchema`; tests may give each store its own. */
  readonly schema?: string;
  readonly cacheMax?: number;
}

export class DataKeyStore {
  private readonly cache = new Map<string, Buffer>();

  private constructor(
    readonly db: Kysely<KeyStoreDatabase>,
    private readonly keyring: Keyring,
    private readonly logger: Logger,
    private readonly cacheMax: number,
  ) {}

  /** Migrates the store's schema and re-wraps every key still under a master key that is not active. */
  static async open(options: KeyStoreOptions): Promise<DataKeyStore> {
    const schema = options.schema ?? keyStoreSchema;
    const db = createDb<KeyStoreDatabase>(options.url, {
      schema,
      max: keyStorePoolMax,
      applicationName: 'registry-api/keys',
    });
    try {
      await migrateToLatest(db, { schema, migrations: keyStoreMigrations });
      const store = new DataKeyStore(
        db,
        options.keyring,
        options.logger,
        options.cacheMax ?? dataKeyCacheMax,
      );
      const rewrapped = await store.rewrap();
      if (rewrapped > 0) {
        options.logger.info({ rewrapped, masterKeyId: options.keyring.activeKeyId }, 'data keys re-wrapped');
      }
      return store;
    } catch (error) {
      await db.destroy();
      throw error;
    }
  }

  async close(): Promise<void> {
    for (const key of this.cache.values()) key.fill(0);
    this.cache.clear();
    await this.db.destroy();
  }

  /** Readiness: the store answers. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** How many unwrapped keys are in memory (tests check the bound). */
  get cachedKeys(): number {
    return this.cache.size;
  }

  /**
   * The data keys of these households, created for those that have none (one row per household,
   * ever: a concurrent creation loses to the stored row). A household whose key was destroyed
   * answers `destroyed`, never a new key: an erased household gets no new personal data.
   */
  async keysFor(partition: string, householdIds: readonly string[]): Promise<Map<string, StoredDataKey>> {
    const found = new Map<string, StoredDataKey>();
    for (let from = 0; from < householdIds.length; from += dataKeyBatchMax) {
      const ids = [...new Set(householdIds.slice(from, from + dataKeyBatchMax))];
      let rows = await this.rowsOf(partition, ids);
      const missing = ids.filter((id) => !rows.some((row) => row.household_id === id));
      if (missing.length > 0) {
        const created = new Map<string, NewDataKey>(missing.map((id) => [id, generateDataKey()]));
        await this.db
          .insertInto('data_keys')
          .values(
            missing.map((id) => {
              const { dataKeyId, key } = created.get(id)!;
              const { masterKeyId, wrapped } = wrapDataKey(dataKeyId, key, this.keyring);
              return {
                data_key_id: dataKeyId,
                partition,
                household_id: id,
                wrapped_key: wrapped,
                master_key_id: masterKeyId,
              };
            }),
          )
          .onConflict((oc) => oc.columns(['partition', 'household_id']).doNothing())
          .execute();
        for (const { key } of created.values()) key.fill(0);
        rows = await this.rowsOf(partition, ids);
      }
      for (const row of rows) found.set(row.household_id, this.unwrapRow(row));
    }
    return found;
  }

  /** One data key by id (a reveal): live, or destroyed. Undefined if the store never had it. */
  async dataKey(dataKeyId: string): Promise<StoredDataKey | undefined> {
    const cached = this.cached(dataKeyId);
    if (cached !== undefined) return { state: 'live', dataKeyId, key: cached };
    const row = await this.db
      .selectFrom('data_keys')
      .select(['data_key_id', 'household_id', 'wrapped_key', 'master_key_id'])
      .where('data_key_id', '=', dataKeyId)
      .executeTakeFirst();
    return row === undefined ? undefined : this.unwrapRow(row);
  }

  /**
   * Destroys a data key: the wrapped key and its master key id are overwritten with NULL, the row
   * stays as a tombstone (when, who, why). Idempotent: destroying a destroyed key changes nothing.
   * The cached clear key is zeroed and dropped.
   */
  async destroy(dataKeyId: string, by: string, reason: string): Promise<'destroyed' | 'already_destroyed'> {
    const cached = this.cache.get(dataKeyId);
    if (cached !== undefined) {
      cached.fill(0);
      this.cache.delete(dataKeyId);
    }
    const result = await this.db
      .updateTable('data_keys')
      .set({
        wrapped_key: null,
        master_key_id: null,
        destroyed_at: new Date(),
        destroyed_by: by,
        reason,
      })
      .where('data_key_id', '=', dataKeyId)
      .where('destroyed_at', 'is', null)
      .executeTakeFirst();
    if (result.numUpdatedRows > 0n) return 'destroyed';
    const row = await this.db
      .selectFrom('data_keys')
      .select('destroyed_at')
      .where('data_key_id', '=', dataKeyId)
      .executeTakeFirst();
    if (row === undefined) throw new Error(`invariant: data key ${dataKeyId} is not in the key store`);
    return 'already_destroyed';
  }

  /**
   * Master key rotation: every live key wrapped by another master key than the active one is
   * unwrapped and wrapped again under the active one, a batch per transaction. The log is not
   * touched: its fields name data keys, which do not change. A key whose master key is no longer
   * configured cannot be re-wrapped (it was destroyed with that master key) and is counted, not fixed.
   */
  async rewrap(): Promise<number> {
    let rewrapped = 0;
    let after = '';
    for (;;) {
      const rows = await this.db
        .selectFrom('data_keys')
        .select(['data_key_id', 'wrapped_key', 'master_key_id'])
        .where('master_key_id', 'is not', null)
        .where('master_key_id', '!=', this.keyring.activeKeyId)
        .where('data_key_id', '>', after)
        .orderBy('data_key_id')
        .limit(dataKeyBatchMax)
        .execute();
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.data_key_id;
      let unreadable = 0;
      await this.db.transaction().execute(async (trx) => {
        for (const row of rows) {
          const opened = unwrapDataKey(row.data_key_id, row.wrapped_key!, row.master_key_id!, this.keyring);
          if (!opened.ok) {
            unreadable++;
            continue;
          }
          const { masterKeyId, wrapped } = wrapDataKey(row.data_key_id, opened.key, this.keyring);
          opened.key.fill(0);
          await trx
            .updateTable('data_keys')
            .set({ wrapped_key: wrapped, master_key_id: masterKeyId, rewrapped_at: new Date() })
            .where('data_key_id', '=', row.data_key_id)
            .where('master_key_id', '=', row.master_key_id)
            .execute();
          rewrapped++;
        }
      });
      if (unreadable > 0) {
        this.logger.warn(
          { unreadable },
          'data keys wrapped by a master key that is no longer configured: their households read as erased',
        );
      }
    }
    return rewrapped;
  }

  private rowsOf(partition: string, householdIds: readonly string[]) {
    return this.db
      .selectFrom('data_keys')
      .select(['data_key_id', 'household_id', 'wrapped_key', 'master_key_id'])
      .where('partition', '=', partition)
      .where('household_id', 'in', householdIds)
      .execute();
  }

  private unwrapRow(row: {
    data_key_id: string;
    wrapped_key: Buffer | null;
    master_key_id: string | null;
  }): StoredDataKey {
    const dataKeyId = row.data_key_id;
    const cached = this.cached(dataKeyId);
    if (cached !== undefined) return { state: 'live', dataKeyId, key: cached };
    if (row.wrapped_key === null || row.master_key_id === null) return { state: 'destroyed', dataKeyId };
    const opened = unwrapDataKey(dataKeyId, row.wrapped_key, row.master_key_id, this.keyring);
    if (!opened.ok) return { state: 'destroyed', dataKeyId };
    this.remember(dataKeyId, opened.key);
    return { state: 'live', dataKeyId, key: opened.key };
  }

  /** Least recently used first out: a hit moves the key to the end of the map's order. */
  private cached(dataKeyId: string): Buffer | undefined {
    const key = this.cache.get(dataKeyId);
    if (key !== undefined) {
      this.cache.delete(dataKeyId);
      this.cache.set(dataKeyId, key);
    }
    return key;
  }

  private remember(dataKeyId: string, key: Buffer): void {
    this.cache.set(dataKeyId, key);
    while (this.cache.size > this.cacheMax) {
      const oldest = this.cache.keys().next().value!;
      // Not zeroed: a caller may still hold it for the command in hand; it is garbage once dropped.
      this.cache.delete(oldest);
    }
  }
}
