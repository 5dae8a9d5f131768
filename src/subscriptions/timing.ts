import type { RetryPolicy } from './options.js'

/** The wait before retry `n` (1 for the first retry): doubling from the initial delay, never above the maximum. */
export const backoff = (policy: RetryPolicy, n: number): number =>
  Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(Math.max(n - 1, 0), 30))

/**
 * A sleep that can be cut short. `wake()` ends the current wait, or the next one when nobody waits (so that a
 * wake-up that arrives between a read and the wait is not lost); `close()` ends every wait, now and later.
 */
export class Waker {
  private pending = false
  private closed = false
  private current: (() => void) | undefined

  /** Waits up to `ms`; answers whether it was woken (or closed) rather than timed out. */
  wait(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true)
    if (this.pending) {
      this.pending = false
      return Promise.resolve(true)
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.current = undefined
        resolve(false)
      }, ms)
      this.current = () => {
        clearTimeout(timer)
        this.current = undefined
        resolve(true)
      }
    })
  }

  wake(): void {
    if (this.current !== undefined) this.current()
    else this.pending = true
  }

  /** Forgets a wake-up that arrived before the read that is about to start (that read sees its commit). */
  clear(): void {
    this.pending = false
  }

  close(): void {
    this.closed = true
    this.current?.()
  }
}

/** A plain sleep that ends early when `signal` aborts. */
export const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
