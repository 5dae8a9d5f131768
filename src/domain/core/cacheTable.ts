import type { ChangeStamp } from '../../eventstore/ports.js'
import type { StreamState } from '../../eventstore/stream/StreamState.js'

// The bounded table behind `stateCache`: a least-recently-used map bounded by entries and, optionally, by an
// estimate of bytes, whose entries expire a time-to-live after the store last confirmed them. It knows nothing
// of models or stores beyond their identities; `cache.ts` decides what goes in and what comes out.

/** One cached stream: what a face keeps of its state (`picture`) at a stream position. */
export interface Entry {
  readonly key: string
  readonly store: number
  readonly tenantId: string
  readonly streamId: string
  readonly picture: unknown
  /** Trimmed: no events, no headers, the newest commit ids only (see `trimStream` in cache.ts). */
  readonly stream: StreamState
  /**
   * The store's `changeStamp` of the stream, taken before the read (or right before the append) that gave this
   * state: while the store still answers it, nothing was committed since and fresh mode need not read.
   */
  readonly stamp?: ChangeStamp | undefined
  /** When the store last confirmed this position (a read or an append), by the table's clock. */
  readonly confirmedAt: number
  readonly bytes: number
}

/** How the table is bounded, normalised (see `StateCacheOptions`). */
export interface Bounds {
  readonly maxEntries: number
  readonly maxBytes: number
  readonly ttlMs: number
  readonly now: () => number
  readonly sizeOf: ((picture: unknown) => number) | undefined
}

export interface TableStats {
  readonly entries: number
  readonly bytes: number
  readonly hits: number
  readonly misses: number
  readonly evictions: number
}

// What an entry costs besides its picture: the entry and stream-state objects, the key, and map slots.
const ENTRY_OVERHEAD = 320

/**
 * An estimate of the heap a value holds, in bytes: 2 per string character plus 16, 8 per number, 16 per bigint,
 * 32 per date, 32 per object or array plus 8 per slot and its keys' strings, Maps and Sets likewise; a shared
 * object is counted once. Functions and symbols count 8. It is a guess of the right order, never a measurement.
 */
export const estimateBytes = (value: unknown): number => {
  let total = 0
  const seen = new Set<object>()
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    switch (typeof v) {
      case 'string':
        total += 16 + 2 * v.length
        continue
      case 'bigint':
        total += 16
        continue
      case 'object':
        break
      default:
        total += 8
        continue
    }
    if (v === null) {
      total += 8
      continue
    }
    if (seen.has(v)) continue
    seen.add(v)
    if (v instanceof Date) {
      total += 32
    } else if (v instanceof Map) {
      total += 32 + 16 * v.size
      for (const [k, item] of v) stack.push(k, item)
    } else if (v instanceof Set) {
      total += 32 + 8 * v.size
      for (const item of v) stack.push(item)
    } else if (Array.isArray(v)) {
      total += 32 + 8 * v.length
      for (const item of v) stack.push(item)
    } else {
      total += 32
      for (const [k, item] of Object.entries(v)) {
        total += 24 + 2 * k.length
        stack.push(item)
      }
    }
  }
  return total
}

const idsBytes = (stream: StreamState): number => {
  let total = 0
  for (const id of stream.commitIds) total += 32 + 2 * id.length
  return total
}

/** Normalises a bound: a missing, negative or NaN bound is `fallback`, a fractional one is rounded down. */
export const bound = (n: number | undefined, fallback: number): number =>
  n === undefined || Number.isNaN(n) ? fallback : n === Infinity ? Infinity : Math.max(0, Math.floor(n))

export class CacheTable {
  readonly #entries = new Map<string, Entry>()
  readonly #ids = new WeakMap<object, number>()
  #nextId = 1
  #bytes = 0
  #hits = 0
  #misses = 0
  #evictions = 0

  constructor(readonly bounds: Bounds) {}

  /** A number for an object, the same for the same object, never shared by two (stores, models, topic maps). */
  idOf(o: object): number {
    let id = this.#ids.get(o)
    if (id === undefined) {
      id = this.#nextId++
      this.#ids.set(o, id)
    }
    return id
  }

  now(): number {
    return this.bounds.now()
  }

  #live(key: string): Entry | undefined {
    const e = this.#entries.get(key)
    if (e === undefined) return undefined
    if (this.bounds.ttlMs !== Infinity && this.now() - e.confirmedAt > this.bounds.ttlMs) {
      this.remove(key)
      return undefined
    }
    return e
  }

  /** The entry, counted as a hit or a miss and made the most recently used; an expired one is dropped. */
  lookup(key: string): Entry | undefined {
    const e = this.#live(key)
    if (e === undefined) {
      this.#misses += 1
      return undefined
    }
    this.#hits += 1
    this.#entries.delete(key)
    this.#entries.set(key, e)
    return e
  }

  /** The entry as it is, without counting or reordering (the paths that write after an append). */
  peek(key: string): Entry | undefined {
    return this.#live(key)
  }

  /**
   * Stores an entry (replacing the key's), then evicts the least recently used until the bounds hold. An entry
   * larger than `maxBytes` alone is not kept (and the key's old entry goes too: it is older than this one).
   */
  put(entry: Omit<Entry, 'bytes' | 'confirmedAt'>): void {
    this.remove(entry.key)
    if (this.bounds.maxEntries === 0) return
    let bytes = 0
    if (this.bounds.maxBytes !== Infinity) {
      let picture: number
      try {
        picture = (this.bounds.sizeOf ?? estimateBytes)(entry.picture)
      } catch {
        // A `sizeOf` that throws cannot bound anything: the entry is not kept.
        return
      }
      bytes = ENTRY_OVERHEAD + 2 * entry.key.length + idsBytes(entry.stream) + (Number.isFinite(picture) && picture > 0 ? picture : 0)
      if (bytes > this.bounds.maxBytes) return
    }
    this.#entries.set(entry.key, { ...entry, bytes, confirmedAt: this.now() })
    this.#bytes += bytes
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.bounds.maxEntries && this.#bytes <= this.bounds.maxBytes) break
      this.remove(oldest)
      this.#evictions += 1
    }
  }

  /**
   * The store confirmed the entry's position just now (a read found nothing newer, or its stamp said there was
   * nothing to read). `stamp` was taken for `seen`: an entry put in its place meanwhile keeps its own.
   */
  confirm(key: string, seen: Entry, stamp: ChangeStamp | undefined): void {
    const e = this.#entries.get(key)
    if (e !== undefined) this.#entries.set(key, e === seen ? { ...e, confirmedAt: this.now(), stamp } : { ...e, confirmedAt: this.now() })
  }

  remove(key: string): void {
    const e = this.#entries.get(key)
    if (e === undefined) return
    this.#entries.delete(key)
    this.#bytes -= e.bytes
  }

  /** Drops the entries of a store: all of them, one tenant's, or one stream's. */
  invalidate(store: object, tenantId?: string, streamId?: string): void {
    const id = this.#ids.get(store)
    if (id === undefined) return
    for (const e of [...this.#entries.values()]) {
      if (e.store === id && (tenantId === undefined || e.tenantId === tenantId) && (streamId === undefined || e.streamId === streamId)) this.remove(e.key)
    }
  }

  clear(): void {
    this.#entries.clear()
    this.#bytes = 0
  }

  stats(): TableStats {
    return { entries: this.#entries.size, bytes: this.#bytes, hits: this.#hits, misses: this.#misses, evictions: this.#evictions }
  }
}
