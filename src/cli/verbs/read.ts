import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../../eventstore/Commit.js'
import { headToken } from '../../subscriptions/positions.js'
import { commitLine } from '../ndjson.js'
import { commitSummary, interruptSignal, print, streamingTable, typeOf, wholeNumber, withStore, type StoreOptions } from '../common.js'
import { failure, storeFailure } from '../errors.js'
import type { OpenedStore } from '../open.js'

export interface JsonOption {
  readonly json?: boolean
}

const tenantsOf = async function* (opened: OpenedStore, tenant: string | undefined): AsyncGenerator<string> {
  if (tenant !== undefined) {
    yield tenant
    return
  }
  for await (const t of opened.store.listTenants()) {
    if (E.isLeft(t)) throw storeFailure(opened.kind, opened.label, t.left)
    yield t.right
  }
}

/** `aett streams`: every stream with its head, of one tenant or of all. */
export const streams = (options: StoreOptions & JsonOption & { readonly tenant?: string }) =>
  withStore(options, 'read', async (opened) => {
    const table = streamingTable(['TENANT', 'STREAM', 'REVISION', 'COMMITS', 'LAST COMMIT'])
    let n = 0
    const tenants = new Set<string>()
    for await (const tenant of tenantsOf(opened, options.tenant)) {
      for await (const s of opened.store.listStreams(tenant)) {
        if (E.isLeft(s)) throw storeFailure(opened.kind, opened.label, s.left)
        const i = s.right
        n++
        tenants.add(tenant)
        if (options.json === true) {
          await print(JSON.stringify({ ...i, lastCommitStamp: i.lastCommitStamp.toISOString() }))
        } else {
          await table.row([i.tenantId, i.streamId, String(i.headRevision), String(i.headSequence), i.lastCommitStamp.toISOString()])
        }
      }
    }
    if (options.json === true) return
    if (n === 0) {
      await print(options.tenant === undefined ? 'no streams' : `no streams in tenant ${JSON.stringify(options.tenant)}`)
      return
    }
    await table.end()
    await print(`${n} stream${n === 1 ? '' : 's'} in ${tenants.size} tenant${tenants.size === 1 ? '' : 's'}`)
  })

/** `aett tenants`: every tenant that holds a commit. */
export const tenants = (options: StoreOptions & JsonOption) =>
  withStore(options, 'read', async (opened) => {
    let n = 0
    for await (const t of tenantsOf(opened, undefined)) {
      n++
      await print(options.json === true ? JSON.stringify({ tenantId: t }) : t)
    }
    if (n === 0 && options.json !== true) await print('no tenants')
  })

const clip = (s: string, full: boolean): string => (full || s.length <= 120 ? s : `${s.slice(0, 119)}…`)

const bodyText = (body: unknown): string => {
  if (typeof body !== 'object' || body === null) return JSON.stringify(body)
  const { type: _, ...rest } = body as Record<string, unknown>
  return JSON.stringify(rest)
}

/** `aett show <stream>`: a stream's commits and events. */
export const show = (
  streamId: string,
  options: StoreOptions & JsonOption & { readonly tenant: string; readonly fromRevision?: string; readonly toRevision?: string; readonly full?: boolean },
) =>
  withStore(options, 'read', async (opened) => {
    const minRevision = wholeNumber('--from-revision', options.fromRevision, 1)
    const maxRevision = wholeNumber('--to-revision', options.toRevision, 1)
    const range = { ...(minRevision === undefined ? {} : { minRevision }), ...(maxRevision === undefined ? {} : { maxRevision }) }
    const table = streamingTable(['SEQ', 'REV', 'TOKEN', 'STAMP', 'COMMIT ID', 'TYPE', 'BODY / HEADERS'])
    const full = options.full === true
    let commits = 0
    let events = 0
    let revision = 0
    for await (const r of opened.store.get(options.tenant, streamId, range)) {
      if (E.isLeft(r)) throw storeFailure(opened.kind, opened.label, r.left)
      const c = r.right
      commits++
      events += c.events.length
      revision = c.streamRevision
      if (options.json === true) {
        await print(commitLine(c))
        continue
      }
      const first = c.streamRevision - c.events.length + 1
      if (Object.keys(c.headers).length > 0) {
        await table.row([String(c.commitSequence), '', String(c.checkpointToken), c.commitStamp.toISOString(), c.commitId, '(commit headers)', clip(JSON.stringify(c.headers), full)])
      }
      for (const [i, m] of c.events.entries()) {
        const head = i === 0 && Object.keys(c.headers).length === 0
        const eventHeaders = Object.keys(m.headers).length > 0 ? `  headers ${JSON.stringify(m.headers)}` : ''
        await table.row([
          head ? String(c.commitSequence) : '',
          String(first + i),
          head ? String(c.checkpointToken) : '',
          head ? c.commitStamp.toISOString() : '',
          head ? c.commitId : '',
          typeOf(m.body),
          clip(`${bodyText(m.body)}${eventHeaders}`, full),
        ])
      }
    }
    if (commits === 0) {
      if (minRevision !== undefined || maxRevision !== undefined) {
        const any = await firstCommit(opened, options.tenant, streamId)
        if (any !== undefined) {
          if (options.json !== true) await print(`no commits of stream ${JSON.stringify(streamId)} in that revision range`)
          return
        }
      }
      throw failure(`no stream ${JSON.stringify(streamId)} in tenant ${JSON.stringify(options.tenant)} of ${opened.label}`)
    }
    if (options.json === true) return
    await table.end()
    await print(`stream ${streamId} (tenant ${options.tenant}): ${commits} commit${commits === 1 ? '' : 's'}, ${events} event${events === 1 ? '' : 's'}, revision ${revision}`)
  })

/** The first commit of a stream, or `undefined` when there is none. */
export const firstCommit = async (opened: OpenedStore, tenantId: string, streamId: string): Promise<Commit | undefined> => {
  for await (const r of opened.store.get(tenantId, streamId, { maxRevision: 1 })) {
    if (E.isLeft(r)) throw storeFailure(opened.kind, opened.label, r.left)
    return r.right
  }
  return undefined
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })

/** The last `n` commits (of one tenant, or all), oldest first, found by widening a window back from the head. */
const lastCommits = async (opened: OpenedStore, n: number, tenant: string | undefined): Promise<{ commits: Commit[]; head: number }> => {
  const head = await headToken(opened.store, tenant)
  if (E.isLeft(head)) throw storeFailure(opened.kind, opened.label, head.left)
  if (n === 0 || head.right === 0) return { commits: [], head: head.right }
  let width = n * 2
  for (;;) {
    const from = Math.max(0, head.right - width)
    const found: Commit[] = []
    for await (const r of opened.store.getFromTo(from, head.right, tenant)) {
      if (E.isLeft(r)) throw storeFailure(opened.kind, opened.label, r.left)
      found.push(r.right)
      if (found.length > n) found.shift()
    }
    if (found.length >= n || from === 0) return { commits: found, head: head.right }
    width *= 4
  }
}

/**
 * `aett tail`: the newest commits, or the commits after `--from`; with `--follow`, then every new commit as it
 * arrives. It polls `getFrom` itself rather than running a subscription: a subscription writes (its lease and its
 * checkpoint), and `tail` is a read verb that writes nothing.
 */
export const tail = (
  options: StoreOptions & JsonOption & { readonly from?: string; readonly last: string; readonly follow?: boolean; readonly interval: string; readonly tenant?: string },
) =>
  withStore(options, 'read', async (opened) => {
    const from = wholeNumber('--from', options.from)
    const last = wholeNumber('--last', options.last) as number
    const interval = wholeNumber('--interval', options.interval, 10) as number
    const show = (c: Commit) => print(options.json === true ? commitLine(c) : commitSummary(c))
    let position: number
    if (from === undefined) {
      const { commits, head } = await lastCommits(opened, last, options.tenant)
      for (const c of commits) await show(c)
      position = head
    } else position = from
    const { signal, dispose } = interruptSignal()
    try {
      do {
        for await (const r of opened.store.getFrom(position, options.tenant)) {
          if (E.isLeft(r)) throw storeFailure(opened.kind, opened.label, r.left)
          await show(r.right)
          position = r.right.checkpointToken
          if (signal.aborted) break
        }
        if (options.follow !== true || signal.aborted) break
        await sleep(interval, signal)
      } while (!signal.aborted)
    } finally {
      dispose()
    }
  })
