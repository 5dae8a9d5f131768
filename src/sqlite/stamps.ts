import type { ChangeStamp } from '../eventstore/ports.js'
import type { SqliteDatabase } from './config.js'

// `changeStamp` for a connection the store opened itself (see `StreamStamps`). Two parts:
// - `PRAGMA data_version`, which changes when ANOTHER connection (any process) commits to the file, and not for
//   this connection's own commits (https://sqlite.org/pragma.html#pragma_data_version), with an epoch bumped by
//   this store's writes that are not tied to one stream (purge, drop, initialize);
// - a count per stream of this store's own writes, bumped when each settles (a group-commit batch settles each
//   of its appends), and a count of the writes still in flight: while one is, the stream has no stamp, since its
//   transaction may have committed before its answer arrives.
// A connection passed in (`database`), or handed out by `store.database()`, may be written on behind the store's
// back without changing `data_version`, so it has no stamps at all.

/** Above this many streams written, the counts start again under a new epoch (every older stamp then differs). */
const MAX_STREAMS = 100_000

interface Writes {
  count: number
  pending: number
}

export interface Stamps {
  /** The connection, once open (and `undefined` again after `close()`). */
  attach: (db: SqliteDatabase | undefined) => void
  /** No stamp from now on (the connection was handed out). */
  readonly disable: () => void
  readonly changeStamp: (tenantId: string, streamId: string) => ChangeStamp | undefined
  /** Wraps a write to one stream: in flight until it settles, then counted. */
  readonly streamWrite: <A extends unknown[], R>(
    streamOf: (...args: A) => readonly [string, string],
    write: (...args: A) => Promise<R>,
  ) => (...args: A) => Promise<R>
  /** Wraps a write that may touch any stream: every stamp taken before it settles differs from those after. */
  readonly storeWrite: <A extends unknown[], R>(write: (...args: A) => Promise<R>) => (...args: A) => Promise<R>
}

export const stamps = (): Stamps => {
  let dataVersion: (() => unknown) | undefined
  let disabled = false
  let epoch = 0
  let storePending = 0
  let streams = new Map<string, Writes>()
  // JSON, so that no tenant/stream pair can alias another.
  const keyOf = (tenantId: string, streamId: string): string => JSON.stringify([tenantId, streamId])

  const writesOf = (key: string): Writes => {
    let w = streams.get(key)
    if (w === undefined) {
      if (streams.size >= MAX_STREAMS) {
        // Only counts of writes no longer in flight can go: a pending one must still block its stream's stamps.
        const kept = new Map([...streams].filter(([, v]) => v.pending > 0))
        streams = kept
        epoch += 1
      }
      w = { count: 0, pending: 0 }
      streams.set(key, w)
    }
    return w
  }

  /** Runs a write between `start` and `end`, `end` once it settled however it did (even by throwing at once). */
  const around = <R>(start: () => void, end: () => void, write: () => Promise<R>): Promise<R> => {
    start()
    let written: Promise<R>
    try {
      written = write()
    } catch (cause) {
      end()
      throw cause
    }
    return written.then(
      (r) => {
        end()
        return r
      },
      (cause: unknown) => {
        end()
        throw cause
      },
    )
  }

  return {
    attach: (db) => {
      if (db === undefined) dataVersion = undefined
      else {
        const st = db.prepare('PRAGMA data_version').raw()
        dataVersion = () => (st.get() as readonly unknown[] | undefined)?.[0]
      }
    },
    disable: () => {
      disabled = true
    },
    changeStamp: (tenantId, streamId) => {
      if (disabled || dataVersion === undefined || storePending > 0) return undefined
      const w = streams.get(keyOf(tenantId, streamId))
      if (w !== undefined && w.pending > 0) return undefined
      let version: unknown
      try {
        version = dataVersion()
      } catch {
        return undefined
      }
      return { shared: `${String(version)}.${epoch}`, own: w?.count ?? 0 }
    },
    streamWrite:
      (streamOf, write) =>
      (...args) => {
        const w = writesOf(keyOf(...streamOf(...args)))
        return around(
          () => {
            w.pending += 1
          },
          () => {
            w.pending -= 1
            w.count += 1
          },
          () => write(...args),
        )
      },
    storeWrite:
      (write) =>
      (...args) =>
        around(
          () => {
            storePending += 1
            epoch += 1
          },
          () => {
            storePending -= 1
            epoch += 1
          },
          () => write(...args),
        ),
  }
}
