import { createHash } from 'node:crypto';

/**
 * Rendered pages and feeds, keyed by URL and valid for one version of the books: the projection
 * checkpoints and the signed log checkpoints together. While the version holds, a page is served
 * from memory (a village page read 1,000 times costs one query); when the projected sequence or
 * the signed tree moves, every entry is dropped, because any page may show a total that changed.
 */

/**
 * Most pages kept. A county has a few hundred villages and notices, each in three formats; a
 * province behind one board stays under this, and each entry is tens of kilobytes at most.
 */
export const pageCacheEntriesMax = 20_000;

export interface CachedPage {
  readonly body: Buffer;
  readonly contentType: string;
  /** Strong validator over the bytes, quoted as HTTP wants it. */
  readonly etag: string;
  readonly status: number;
}

export function pageOf(body: string, contentType: string, status = 200): CachedPage {
  const bytes = Buffer.from(body, 'utf8');
  const digest = createHash('sha256').update(bytes).digest('base64url').slice(0, 27);
  return { body: bytes, contentType, etag: `"${digest}"`, status };
}

export interface PageCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly builds: number;
  readonly size: number;
  readonly version: string | undefined;
}

export class PageCache {
  #version: string | undefined;
  #pages = new Map<string, CachedPage>();
  /** Builds in flight: concurrent misses for one key wait for the same build (one query, not N). */
  #building = new Map<string, Promise<CachedPage>>();
  #hits = 0;
  #misses = 0;
  #builds = 0;

  constructor(private readonly entriesMax = pageCacheEntriesMax) {
    if (!Number.isInteger(entriesMax) || entriesMax < 1) throw new RangeError('entriesMax must be ≥ 1');
  }

  get version(): string | undefined {
    return this.#version;
  }

  /** Adopts the books' current version; a different one drops every page. Returns true when it moved. */
  setVersion(version: string): boolean {
    if (version === this.#version) return false;
    this.#version = version;
    this.#pages.clear();
    this.#building.clear();
    return true;
  }

  /**
   * The page for `key` at the current version, built once by `build` when missing. A build that
   * started under an older version is not stored (its data may predate the move).
   */
  async get(key: string, build: () => Promise<CachedPage>): Promise<CachedPage> {
    const cached = this.#pages.get(key);
    if (cached !== undefined) {
      this.#hits++;
      return cached;
    }
    this.#misses++;
    const pending = this.#building.get(key);
    if (pending !== undefined) return pending;
    const version = this.#version;
    this.#builds++;
    const promise = build().then(
      (page) => {
        if (this.#building.get(key) === promise) this.#building.delete(key);
        if (version === this.#version) this.#store(key, page);
        return page;
      },
      (error: unknown) => {
        if (this.#building.get(key) === promise) this.#building.delete(key);
        throw error;
      },
    );
    this.#building.set(key, promise);
    return promise;
  }

  #store(key: string, page: CachedPage): void {
    if (this.#pages.size >= this.entriesMax) {
      // Evict the oldest entry (Map keeps insertion order): the simplest bound that cannot grow.
      const oldest = this.#pages.keys().next().value;
      if (oldest !== undefined) this.#pages.delete(oldest);
    }
    this.#pages.set(key, page);
  }

  stats(): PageCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      builds: this.#builds,
      size: this.#pages.size,
      version: this.#version,
    };
  }
}
