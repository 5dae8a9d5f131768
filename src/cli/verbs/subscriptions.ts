import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { StorageError } from '../../eventstore/errors.js'
import type { Json } from '../../eventstore/Json.js'
import { listParked, replayParked, resetSubscription } from '../../subscriptions/manage.js'
import type { StartAt } from '../../subscriptions/options.js'
import { lagAfter, positionOf } from '../../subscriptions/positions.js'
import { print, storeUrl, streamingTable, timeOption, withStore, type StoreOptions } from '../common.js'
import { findConfig, loadConfig, requireConfig, type LoadedConfig } from '../config.js'
import { CliError, failure, storeFailure, usage } from '../errors.js'
import type { OpenedStore } from '../open.js'

const optionalConfig = async (given: string | undefined): Promise<LoadedConfig | undefined> => {
  const path = findConfig(given)
  return path === undefined ? undefined : loadConfig(path)
}

/** The tenant a configured subscription reads (its `source.tenantId`), for its lag. */
const tenantOf = (config: LoadedConfig | undefined, name: string): string | undefined => {
  const source = config?.subscriptions?.[name]?.source as { tenantId?: unknown } | undefined
  return typeof source?.tenantId === 'string' ? source.tenantId : undefined
}

const fail = (opened: OpenedStore, e: { readonly _tag: string; readonly message?: string }, name: string): CliError => {
  switch (e._tag) {
    case 'StorageError':
      return storeFailure(opened.kind, opened.label, e as StorageError)
    case 'LeaseHeld': {
      const l = e as unknown as { holder?: string; expiresAt?: Date }
      return failure(
        `subscription ${JSON.stringify(name)} is running (its lease is held${l.holder === undefined ? '' : ` by ${l.holder}`}${l.expiresAt === undefined ? '' : ` until ${l.expiresAt.toISOString()}`}): stop it first`,
      )
    }
    default:
      return failure(`subscription ${JSON.stringify(name)}: ${e._tag}${e.message === undefined ? '' : `: ${e.message}`}`)
  }
}

const leaseText = (lease: O.Option<{ readonly holder: string; readonly expiresAt: Date }>): string => {
  if (O.isNone(lease)) return 'none'
  const { holder, expiresAt } = lease.value
  return expiresAt.getTime() > Date.now() ? `held by ${holder} until ${expiresAt.toISOString()}` : `free (last held by ${holder})`
}

/** `aett subscriptions [status] [names...]`: checkpoint, lag, lease and parked commits of each subscription. */
export const status = (names: readonly string[], options: StoreOptions & { readonly json?: boolean }) =>
  (async () => {
    const config = await optionalConfig(options.config)
    const all = names.length > 0 ? names : Object.keys(config?.subscriptions ?? {})
    if (all.length === 0) throw usage('name the subscriptions (aett subscriptions status <name...>), or export `subscriptions` from aett.config')
    await storeUrl(options, config)
    return withStore(
      options,
      'read',
      async (opened) => {
        const ss = opened.store.subscriptions
        const table = streamingTable(['NAME', 'CHECKPOINT', 'HEAD', 'LAG', 'OLDEST UNHANDLED', 'PARKED', 'LEASE'])
        for (const name of all) {
          const checkpoint = await ss.checkpoint(name)
          if (E.isLeft(checkpoint)) throw storeFailure(opened.kind, opened.label, checkpoint.left)
          const lease = await ss.lease(name)
          if (E.isLeft(lease)) throw storeFailure(opened.kind, opened.label, lease.left)
          const parked = await ss.parked(name)
          if (E.isLeft(parked)) throw storeFailure(opened.kind, opened.label, parked.left)
          const position = O.isSome(checkpoint.right) ? positionOf(checkpoint.right.value) : 0
          const lag = await lagAfter(opened.store, position, tenantOf(config, name), 1_000_000)
          if (E.isLeft(lag)) throw storeFailure(opened.kind, opened.label, lag.left)
          const l = lag.right
          const ran = O.isSome(checkpoint.right) || O.isSome(lease.right)
          if (options.json === true) {
            await print(
              JSON.stringify({
                name,
                checkpoint: O.isSome(checkpoint.right) ? position : null,
                headToken: l.headToken,
                lagCommits: l.commits,
                lagAtLeast: l.atLeast,
                oldestUnhandled: l.oldestStamp?.toISOString() ?? null,
                parked: parked.right.length,
                lease: O.isSome(lease.right) ? { ...lease.right.value, expiresAt: lease.right.value.expiresAt.toISOString() } : null,
              }),
            )
            continue
          }
          await table.row([
            name,
            ran ? (O.isSome(checkpoint.right) ? String(position) : 'none') : 'never ran',
            String(l.headToken),
            `${l.commits}${l.atLeast ? '+' : ''}`,
            l.oldestStamp?.toISOString() ?? '-',
            String(parked.right.length),
            leaseText(lease.right),
          ])
        }
        if (options.json !== true) await table.end()
      },
      config,
    )
  })()

const startOf = (to: string): StartAt => {
  if (to === 'beginning' || to === 'end') return to
  if (/^\d+$/.test(to)) return { token: Number(to) }
  return { time: timeOption('--to', to) }
}

/** `aett subscriptions reset <name> --to <beginning|end|token|time>`: moves the checkpoint, through the lease's fence. */
export const reset = (name: string, options: StoreOptions & { readonly to: string; readonly tenant?: string }) =>
  withStore(options, 'write', async (opened) => {
    const to = startOf(options.to)
    const r = await resetSubscription({ store: opened.store, name, to, ...(options.tenant === undefined ? {} : { tenantId: options.tenant }) })
    if (E.isLeft(r)) throw fail(opened, r.left, name)
    await print(`subscription ${name}: checkpoint set to token ${positionOf(r.right)}`)
  })

const errorText = (e: Json): string => {
  const s = JSON.stringify(e)
  return s.length > 100 ? `${s.slice(0, 99)}…` : s
}

/** `aett subscriptions parked <name>`: the commits a subscription set aside, with why. */
export const parked = (name: string, options: StoreOptions & { readonly json?: boolean }) =>
  withStore(options, 'read', async (opened) => {
    const r = await listParked(opened.store, name)
    if (E.isLeft(r)) throw fail(opened, r.left, name)
    if (options.json === true) {
      for (const p of r.right) await print(JSON.stringify({ ...p, parkedAt: p.parkedAt.toISOString() }))
      return
    }
    if (r.right.length === 0) {
      await print(`no commits parked for ${name}`)
      return
    }
    const table = streamingTable(['TOKEN', 'TENANT', 'STREAM', 'PARKED AT', 'ERROR'])
    for (const p of r.right) await table.row([String(p.checkpointToken), p.tenantId, p.streamId, p.parkedAt.toISOString(), errorText(p.error)])
    await table.end()
    await print(`${r.right.length} commit${r.right.length === 1 ? '' : 's'} parked for ${name}`)
  })

/**
 * `aett subscriptions replay-parked <name>`: hands the parked commits to the subscription's handler again, as the
 * configuration's `subscriptions[name]` defines it (its handler, source and decoding); a handled commit is unparked.
 * The command line has no handler of its own: without that entry it refuses.
 */
export const replayParkedVerb = (name: string, options: StoreOptions & { readonly token?: readonly string[] }) =>
  (async () => {
    const config = await requireConfig(options.config, 'replay-parked')
    const entry = config.subscriptions?.[name]
    if (entry === undefined || typeof entry.handler !== 'function') {
      throw usage(`replay-parked needs the handler of ${JSON.stringify(name)}: export subscriptions[${JSON.stringify(name)}] = { handler, source?, decode? } from ${config.path}`)
    }
    const tokens = options.token?.map((t) => {
      if (!/^\d+$/.test(t)) throw usage(`--token must be a whole number, got ${JSON.stringify(t)}`)
      return Number(t)
    })
    await storeUrl(options, config)
    return withStore(
      options,
      'write',
      async (opened) => {
        const r = await replayParked({
          store: opened.store,
          name,
          handler: entry.handler as never,
          ...(entry.source === undefined ? {} : { source: entry.source as never }),
          ...(entry.decode === undefined ? {} : { decode: entry.decode as never }),
          ...(tokens === undefined ? {} : { tokens }),
        })
        if (E.isLeft(r)) throw fail(opened, r.left, name)
        const { replayed, failed, held, missing } = r.right
        await print(`subscription ${name}: ${replayed.length} replayed and unparked${replayed.length > 0 ? ` (${replayed.join(', ')})` : ''}`)
        for (const f of failed) await print(`  token ${f.checkpointToken} failed again, still parked: ${errorText(JSON.parse(JSON.stringify(f.error ?? null)) as Json)}`)
        if (held.length > 0) await print(`  held behind an earlier parked commit of their stream: ${held.join(', ')}`)
        if (missing.length > 0) await print(`  no longer in the store, unparked: ${missing.join(', ')}`)
        if (failed.length > 0) throw new CliError(`${failed.length} parked commit${failed.length === 1 ? '' : 's'} failed again`, 1)
      },
      config,
    )
  })()
