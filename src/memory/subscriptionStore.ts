import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { StoreShell } from '../eventstore/adapter/defineStore.js'
import type { StorageError } from '../eventstore/errors.js'
import { leaseLost, type Checkpoint, type Lease, type LeaseLost, type ParkedCommit, type SubscriptionStore } from '../eventstore/subscriptionStore.js'
import type { Json } from '../eventstore/Json.js'

/** One subscription's lease as stored: `released` ends its fence before it expires. */
interface LeaseRow {
  readonly holder: string
  readonly epoch: number
  readonly expiresAt: number
  readonly released: boolean
}

/** What the memory store keeps for its subscriptions, beside its commits; `drop()` clears it. */
export interface SubscriptionData {
  readonly leases: Map<string, LeaseRow>
  readonly checkpoints: Map<string, Checkpoint>
  readonly parked: Map<string, Map<number, ParkedCommit>>
}

export const emptySubscriptionData = (): SubscriptionData => ({ leases: new Map(), checkpoints: new Map(), parked: new Map() })

export const clearSubscriptionData = (data: SubscriptionData): void => {
  data.leases.clear()
  data.checkpoints.clear()
  data.parked.clear()
}

const toLease = (name: string, row: LeaseRow): Lease => Object.freeze({ name, holder: row.holder, epoch: row.epoch, expiresAt: new Date(row.expiresAt) })

/** A frozen copy: callers keep no handle on what is stored, and readers cannot change it. */
const keepCheckpoint = (c: Checkpoint): Checkpoint => Object.freeze({ positions: Object.freeze({ ...c.positions }) })
const handOutCheckpoint = (c: Checkpoint): Checkpoint => ({ positions: { ...c.positions } })
const keepParked = (p: ParkedCommit): ParkedCommit =>
  Object.freeze({ ...p, error: JSON.parse(JSON.stringify(p.error)) as Json, parkedAt: new Date(p.parkedAt.getTime()) })
const handOutParked = (p: ParkedCommit): ParkedCommit => ({ ...p, parkedAt: new Date(p.parkedAt.getTime()) })

/**
 * The memory store's `SubscriptionStore`: leases, checkpoints and parked commits in process memory, measured by
 * this process's clock. Every call is synchronous underneath, so each check-and-write is atomic; calls go through
 * the store's shell, so that a closed store (or one with a bad option) answers a `StorageError` like every call.
 */
export const memorySubscriptions = <Ctx>(shell: StoreShell<Ctx>, data: SubscriptionData, now: () => number = Date.now): SubscriptionStore => {
  const holds = (lease: Lease): boolean => {
    const row = data.leases.get(lease.name)
    return row !== undefined && !row.released && row.epoch === lease.epoch && row.holder === lease.holder
  }

  /** Runs a fenced write: `LeaseLost` and nothing written unless `lease` is current. */
  const fenced = (operation: string, lease: Lease, write: () => void): Promise<E.Either<StorageError | LeaseLost, void>> =>
    shell.run(operation, () => {
      if (!holds(lease)) return E.left(leaseLost(lease.name, lease.epoch))
      write()
      return E.right(undefined)
    })

  const take = (name: string, holder: string, ttlMs: number): O.Option<Lease> => {
    const t = now()
    const row = data.leases.get(name)
    const live = row !== undefined && !row.released && row.expiresAt > t
    if (live && row.holder !== holder) return O.none
    const next: LeaseRow = live
      ? { ...row, expiresAt: t + ttlMs }
      : { holder, epoch: (row?.epoch ?? 0) + 1, expiresAt: t + ttlMs, released: false }
    data.leases.set(name, next)
    return O.some(toLease(name, next))
  }

  return {
    acquire: (name, holder, ttlMs) => shell.run('acquire', () => E.right(take(name, holder, ttlMs))),

    renew: (lease, ttlMs) =>
      shell.run('renew', (): E.Either<LeaseLost, Lease> => {
        if (!holds(lease)) return E.left(leaseLost(lease.name, lease.epoch))
        const row = data.leases.get(lease.name) as LeaseRow
        const next = { ...row, expiresAt: now() + ttlMs }
        data.leases.set(lease.name, next)
        return E.right(toLease(lease.name, next))
      }),

    release: (lease) =>
      shell.run('release', () => {
        const row = data.leases.get(lease.name)
        if (row !== undefined && holds(lease)) data.leases.set(lease.name, { ...row, released: true, expiresAt: Math.min(row.expiresAt, now()) })
        return E.right(undefined)
      }),

    lease: (name) =>
      shell.run('lease', () => {
        const row = data.leases.get(name)
        return E.right(row === undefined ? O.none : O.some(toLease(name, row)))
      }),

    checkpoint: (name) =>
      shell.run('checkpoint', () => {
        const c = data.checkpoints.get(name)
        return E.right(c === undefined ? O.none : O.some(handOutCheckpoint(c)))
      }),

    saveCheckpoint: (lease, checkpoint) => fenced('saveCheckpoint', lease, () => void data.checkpoints.set(lease.name, keepCheckpoint(checkpoint))),

    resetCheckpoint: (name, holder, checkpoint) =>
      shell.run('resetCheckpoint', (): E.Either<never, O.Option<Lease>> => {
        // Only a free lease is taken, never renewed, so that the epoch always grows and fences every former holder.
        const row0 = data.leases.get(name)
        if (row0 !== undefined && !row0.released && row0.expiresAt > now()) return E.right(O.none)
        const taken = take(name, holder, 60_000)
        if (O.isNone(taken)) return E.right(O.none)
        if (checkpoint === undefined) data.checkpoints.delete(name)
        else data.checkpoints.set(name, keepCheckpoint(checkpoint))
        const row = data.leases.get(name) as LeaseRow
        data.leases.set(name, { ...row, released: true, expiresAt: now() })
        return E.right(taken)
      }),

    park: (lease, parked) =>
      fenced('park', lease, () => {
        let of = data.parked.get(lease.name)
        if (of === undefined) {
          of = new Map()
          data.parked.set(lease.name, of)
        }
        of.set(parked.checkpointToken, keepParked({ ...parked, name: lease.name }))
      }),

    parked: (name) =>
      shell.run('parked', () =>
        E.right([...(data.parked.get(name)?.values() ?? [])].sort((a, b) => a.checkpointToken - b.checkpointToken).map(handOutParked)),
      ),

    unpark: (lease, checkpointToken) => fenced('unpark', lease, () => void data.parked.get(lease.name)?.delete(checkpointToken)),

    watch: (wake) => shell.onCommit(() => wake()),
  }
}
