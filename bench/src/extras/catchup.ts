import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Commit } from '../../../src/eventstore/Commit.js'
import { subscribe, type SubscribableStore } from '../../../src/subscriptions/index.js'
import { defaults } from '../../../src/subscriptions/options.js'
import { orThrow } from '../aett/contenders.js'
import { EMMETT_MISSING } from '../emmett/load.js'
import { uniqueName } from '../suites/common.js'
import { pgUrl } from '../suites/postgres.js'
import type { Backend } from './backends.js'
import { message, noop, now, rotate, seedSingles, sleep } from './common.js'
import type { CatchupResult, Timed } from './types.js'

export interface CatchupOptions {
  readonly commits: number
  readonly rounds: number
  readonly warmup: number
  /** Measure Emmett's consumer where it has a store; false leaves it out (`--no-emmett`). */
  readonly emmett: boolean
  readonly log: (line: string) => void
}

/** What `emmettConsumer.ts` offers, declared without an Emmett type (the kit's typecheck never sees Emmett). */
interface EmmettCatchup {
  readonly via: string
  readonly pass: (round: number, deadlineMs: number) => Promise<number>
  readonly close: () => Promise<void>
}

/** Emmett's pass under the same deadline; a failure says who held the horizon (Emmett waits for it too). */
const emmettPass =
  (emmett: EmmettCatchup, commits: number, hint: () => Promise<string>): Pass =>
  async (round) => {
    try {
      return await emmett.pass(round, deadlineOf(commits))
    } catch (e) {
      throw new Error(`${message(e)}${await hint()}`)
    }
  }

interface EmmettConsumerModule {
  readonly openEmmettCatchup: (adminUrl: string, commits: number, batchSize: number) => Promise<EmmettCatchup>
  readonly openEmmettSqliteCatchup: (fileName: string, commits: number, batchSize: number) => Promise<EmmettCatchup>
}

/** Emmett's consumer on the backend, or why it is not measured; never throws. */
const openEmmett = async (backend: Backend, commits: number, log: (line: string) => void): Promise<EmmettCatchup | { readonly missing: string }> => {
  if (backend.id === 'mysql') return { missing: 'Emmett has no MySQL store' }
  let module: EmmettConsumerModule
  try {
    module = (await import(new URL('./emmettConsumer.js', import.meta.url).href)) as EmmettConsumerModule
  } catch (e) {
    const code = (e as { code?: unknown }).code
    const why = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' ? EMMETT_MISSING : `Emmett failed to load: ${message(e)}`
    log(`  catch-up ${backend.id}: ${why}`)
    return { missing: why }
  }
  try {
    const t0 = now()
    const file = join(tmpdir(), `${uniqueName('aett-extras-emmett')}.db`)
    const removeFile = (): void => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
    }
    let opened: EmmettCatchup
    if (backend.id === 'postgres') opened = await module.openEmmettCatchup(pgUrl, commits, BATCH)
    else {
      const sqlite = await module.openEmmettSqliteCatchup(file, commits, BATCH).catch((e: unknown) => {
        removeFile()
        throw e
      })
      opened = { ...sqlite, close: async () => sqlite.close().finally(removeFile) }
    }
    log(`  catch-up ${backend.id}: seeded Emmett with ${commits} messages in ${(now() - t0).toFixed(0)} ms`)
    return opened
  } catch (e) {
    log(`  catch-up ${backend.id}: Emmett FAILED to open ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    return { missing: `Emmett failed to open: ${message(e)}` }
  }
}

const BATCH = defaults.batchSize

type Pass = (round: number) => Promise<number>

/**
 * How long one pass may take before it counts as failed: generous (Emmett's PostgreSQL consumer takes minutes on
 * the full log), but finite, so that a read held back for good fails the row with its reason instead of hanging.
 */
const deadlineOf = (commits: number): number => 60_000 + commits * 3

/**
 * Global reads stop at the gap-free horizon, which on PostgreSQL any transaction of the cluster holds back
 * (another test's, say, or another program's). Like any consumer, a contender reads on until it has seen the
 * whole log or its deadline passed; the elapsed time then includes the wait, and the failure says who held it.
 */
const shortRead = async (who: string, seen: number, commits: number, hint: () => Promise<string>): Promise<Error> =>
  new Error(`${who} handled ${seen} commits, expected ${commits}, within its deadline${await hint()}`)

/** (a) `subscribe` from the beginning with the default batch size, timed until `caughtUp()` and every commit handled; stopped untimed. */
const viaSubscribe =
  (store: SubscribableStore, commits: number, hint: () => Promise<string>): Pass =>
  async (round) => {
    let seen = 0
    let allSeenAt = Number.NaN
    const t0 = now()
    const giveUp = t0 + deadlineOf(commits)
    const sub = orThrow(
      'subscribe',
      subscribe({
        name: `extras-catchup-${round}-${randomUUID()}`,
        store,
        start: 'beginning',
        handler: async (batch) => {
          seen += batch.length
          if (seen >= commits && Number.isNaN(allSeenAt)) allSeenAt = now()
          return noop(batch)
        },
      }),
    )
    try {
      orThrow('caughtUp', await sub.caughtUp())
      const caughtAt = now()
      // Caught up with what the horizon let it see: a live subscription goes on reading the rest.
      while (seen < commits && now() < giveUp) await sleep(5)
      if (seen !== commits) throw await shortRead('subscribe', seen, commits, hint)
      return Math.max(caughtAt, allSeenAt) - t0
    } finally {
      await sub.stop()
    }
  }

/**
 * (b) and (c): `getFrom(0)` handing batches of the subscription's size to the same handler, keeping the last
 * token; with `checkpoint`, also one fenced checkpoint upsert per batch under a lease taken once.
 */
const viaLoop =
  (store: SubscribableStore, commits: number, checkpoint: boolean, hint: () => Promise<string>): Pass =>
  async (round) => {
    let seen = 0
    const t0 = now()
    const giveUp = t0 + deadlineOf(commits)
    const ss = store.subscriptions
    const name = `extras-loop-${round}-${randomUUID()}`
    const lease = checkpoint ? O.toUndefined(orThrow('acquire', await ss.acquire(name, `bench-${randomUUID()}`, 60_000))) : undefined
    if (checkpoint && lease === undefined) throw new Error('a fresh lease was refused')
    let batch: Commit[] = []
    let last = 0
    const flush = async (): Promise<void> => {
      const handled = await noop(batch)
      if (E.isLeft(handled)) throw new Error('handler failed')
      seen += batch.length
      last = (batch[batch.length - 1] as Commit).checkpointToken
      batch = []
      if (lease !== undefined) orThrow('saveCheckpoint', await ss.saveCheckpoint(lease, { positions: { '0': last } }))
    }
    do {
      for await (const r of store.getFrom(last)) {
        batch.push(orThrow('read', r))
        if (batch.length === BATCH) await flush()
      }
      if (batch.length > 0) await flush()
      if (seen < commits) await sleep(5)
    } while (seen < commits && now() < giveUp)
    const elapsed = now() - t0
    if (lease !== undefined) orThrow('release', await ss.release(lease))
    if (seen !== commits) throw await shortRead('loop', seen, commits, hint)
    if (last === 0 && commits > 0) throw new Error('no last token')
    return elapsed
  }

/** Seeds a fresh store of the backend, then times the contenders in interleaved, rotated rounds. */
export const catchup = async (backend: Backend, options: CatchupOptions): Promise<CatchupResult> => {
  const base = {
    backend: backend.id,
    title: backend.title,
    commits: options.commits,
    batchSize: BATCH,
  }
  const empty = { aett: { millis: [] }, loop: { millis: [] }, loopCheckpoint: { millis: [] } }
  const skipped = await backend.probe()
  if (skipped !== undefined) {
    options.log(`  catch-up ${backend.id}: SKIPPED: ${skipped}`)
    return { ...base, ...empty, emmett: { missing: 'skipped' }, skipped, notes: [] }
  }
  let fresh: Awaited<ReturnType<Backend['fresh']>> | undefined
  let emmett: EmmettCatchup | { readonly missing: string } = { missing: 'not opened' }
  try {
    fresh = await backend.fresh()
    const t0 = now()
    await seedSingles(fresh.store, options.commits)
    options.log(`  catch-up ${backend.id}: seeded ${options.commits} commits in ${(now() - t0).toFixed(0)} ms`)
    emmett = options.emmett ? await openEmmett(backend, options.commits, options.log) : { missing: 'left out (--no-emmett)' }
    const contenders: { key: 'aett' | 'loop' | 'loopCheckpoint' | 'emmett'; pass: Pass }[] = [
      { key: 'aett', pass: viaSubscribe(fresh.store, options.commits, fresh.stallHint) },
      { key: 'loop', pass: viaLoop(fresh.store, options.commits, false, fresh.stallHint) },
      { key: 'loopCheckpoint', pass: viaLoop(fresh.store, options.commits, true, fresh.stallHint) },
      ...('pass' in emmett ? [{ key: 'emmett' as const, pass: emmettPass(emmett, options.commits, fresh.stallHint) }] : []),
    ]
    const millis = { aett: [] as number[], loop: [] as number[], loopCheckpoint: [] as number[], emmett: [] as number[] }
    const failed: Partial<Record<keyof typeof millis, string>> = {}
    for (let round = 0; round < options.warmup + options.rounds; round++) {
      for (const c of rotate(contenders, round)) {
        if (failed[c.key] !== undefined) continue
        try {
          const ms = await c.pass(round)
          if (round >= options.warmup) millis[c.key].push(ms)
        } catch (e) {
          failed[c.key] = `round ${round + 1}: ${message(e)}`
          options.log(`  catch-up ${backend.id}: ${c.key} FAILED ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
        }
      }
    }
    const timed = (k: keyof typeof millis): Timed => ({ millis: millis[k], ...(failed[k] === undefined ? {} : { failed: failed[k] }) })
    return {
      ...base,
      aett: timed('aett'),
      loop: timed('loop'),
      loopCheckpoint: timed('loopCheckpoint'),
      emmett: 'pass' in emmett ? timed('emmett') : emmett,
      notes: [backend.describe(), ...('via' in emmett ? [`Emmett: ${emmett.via}, \`pulling: { batchSize: ${BATCH}, pullingFrequencyInMs: 0 }\` (its default sleeps 50 ms between batches even while behind)${backend.id === 'postgres' ? '' : ', on a store seeded the same way'}.`] : [])],
    }
  } catch (e) {
    options.log(`  catch-up ${backend.id}: FAILED ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    return { ...base, ...empty, emmett: { missing: 'failed' }, error: message(e), notes: [] }
  } finally {
    if ('close' in emmett) await emmett.close().catch((e: unknown) => options.log(`  catch-up ${backend.id}: Emmett cleanup failed: ${message(e)}`))
    await fresh?.close().catch((e: unknown) => options.log(`  catch-up ${backend.id}: cleanup failed: ${message(e)}`))
  }
}
