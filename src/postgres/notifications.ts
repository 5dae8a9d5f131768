import * as E from 'fp-ts/lib/Either.js'
import type { StorageError } from '../eventstore/errors.js'
import type { ListenClient } from './connection.js'

/** How the LISTEN connection recovers, and how watchers are woken while it is down. */
export interface ListenTiming {
  /** First wait before reconnecting a lost (or refused) LISTEN connection; doubles up to `maxRetryMs`. */
  readonly retryMs: number
  readonly maxRetryMs: number
  /** While there is no LISTEN connection, watchers are woken this often, so that they poll. */
  readonly fallbackPollMs: number
}

export const defaultListenTiming: ListenTiming = { retryMs: 100, maxRetryMs: 5_000, fallbackPollMs: 500 }

/** Wake-ups from other processes' appends, for every watcher of one store object. */
export interface Listener {
  /** Adds a watcher; the first one opens the LISTEN connection, the last one to leave closes it. */
  watch(wake: () => void): () => void
  /** Stops listening for good (the store's `close()`). */
  close(): void
}

/**
 * One LISTEN connection per store object, shared by its watchers, opened only while somebody watches. A
 * notification only wakes: the watchers then read through the gap-free horizon, so a lost or late notification
 * costs latency, never a commit. Until the connection listens, and whenever it is lost (or cannot be opened), the
 * watchers are woken every `fallbackPollMs` (they poll) while it reconnects with doubling back-off; once it listens
 * again they are woken once more, for whatever was appended while nobody listened.
 */
export const listener = (
  open: () => Promise<E.Either<StorageError, ListenClient>>,
  statement: { readonly channel: string; readonly listen: string },
  timing: ListenTiming = defaultListenTiming,
): Listener => {
  const watchers = new Set<() => void>()
  let closed = false
  // Each start of listening is a generation; a connection that opens for an older one is closed at once.
  let generation = 0
  let client: ListenClient | undefined
  let retry: ReturnType<typeof setTimeout> | undefined
  let fallback: ReturnType<typeof setInterval> | undefined
  let failures = 0

  const wakeAll = (): void => {
    for (const wake of [...watchers]) {
      try {
        wake()
      } catch {
        // A watcher that throws only misses this wake-up; it still polls.
      }
    }
  }

  const startFallback = (): void => {
    if (fallback !== undefined) return
    fallback = setInterval(wakeAll, timing.fallbackPollMs)
    fallback.unref?.()
  }
  const stopFallback = (): void => {
    if (fallback !== undefined) clearInterval(fallback)
    fallback = undefined
  }

  const scheduleRetry = (gen: number): void => {
    startFallback()
    failures += 1
    const delay = Math.min(timing.maxRetryMs, timing.retryMs * 2 ** Math.min(failures - 1, 20))
    retry = setTimeout(() => {
      retry = undefined
      void connect(gen)
    }, delay)
    retry.unref?.()
  }

  const connect = async (gen: number): Promise<void> => {
    const opened = await open()
    if (gen !== generation || closed) {
      if (E.isRight(opened)) opened.right.close()
      return
    }
    if (E.isLeft(opened)) return scheduleRetry(gen)
    const c = opened.right
    c.onNotification((channel) => {
      if (channel === statement.channel) wakeAll()
    })
    c.onLost(() => {
      if (client !== c) return
      client = undefined
      if (gen === generation && !closed) scheduleRetry(gen)
    })
    const listened = await c.run('watch (LISTEN)', statement.listen)
    if (gen !== generation || closed) return c.close()
    if (E.isLeft(listened)) {
      c.close()
      return scheduleRetry(gen)
    }
    client = c
    failures = 0
    stopFallback()
    // Commits appended while nobody listened sent notifications nobody heard.
    wakeAll()
  }

  const start = (): void => {
    generation += 1
    failures = 0
    // Until it listens (a first connection can take long, or hang), watchers poll.
    startFallback()
    void connect(generation)
  }

  const stop = (): void => {
    generation += 1
    if (retry !== undefined) clearTimeout(retry)
    retry = undefined
    stopFallback()
    const c = client
    client = undefined
    c?.close()
  }

  return {
    watch: (wake) => {
      if (closed) return () => {}
      // Each call is a watcher of its own, even for the same function.
      const own = () => wake()
      watchers.add(own)
      if (watchers.size === 1) start()
      return () => {
        if (!watchers.delete(own)) return
        if (watchers.size === 0) stop()
      }
    },
    close: () => {
      if (closed) return
      closed = true
      watchers.clear()
      stop()
    },
  }
}

/**
 * The coalesced `NOTIFY` of appends (`notify: true`): called after every stored commit. After a quiet spell it
 * sends at once; while one is in flight, or within `spacingMs` of the last, the commits that come in are covered by
 * one more, sent as soon as both have passed. So a store object sends at most one notification per `spacingMs`
 * whatever its append rate (a subscription in another process is woken at most that much later), and the appends
 * themselves never take PostgreSQL's notify lock. A failed send is dropped: watchers still poll.
 */
export const coalesced = (send: () => Promise<unknown>, spacingMs = 20): (() => void) => {
  let busy = false
  let again = false
  const go = (): void => {
    busy = true
    again = false
    const started = Date.now()
    void send()
      .catch(() => undefined)
      .then(() => {
        const wait = started + spacingMs - Date.now()
        if (wait <= 0) return done()
        setTimeout(done, wait).unref?.()
      })
  }
  const done = (): void => {
    busy = false
    if (again) go()
  }
  return () => {
    if (busy) again = true
    else go()
  }
}
