import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DynamoDbStore } from '../../src/dynamodb/index.js'
import type { Commit, StreamInfo } from '../../src/eventstore/index.js'
import { attempt, collect, next, right } from 'aett/testing/contract'
import { disposeStore, dynaliteForFile, freshStore, interceptingClient, type SentCommand } from './server.js'

const db = dynaliteForFile()

const infoOf = (c: Commit): StreamInfo => ({
  tenantId: c.tenantId,
  streamId: c.streamId,
  headRevision: c.streamRevision,
  headSequence: c.commitSequence,
  lastCommitStamp: c.commitStamp,
})

const byStream = (a: StreamInfo, b: StreamInfo) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0)

describe('dynamodb: listing streams and tenants (a Scan of the commit keys)', () => {
  let store: DynamoDbStore
  beforeAll(async () => {
    store = await freshStore(db())
  })
  afterAll(async () => {
    await disposeStore(store)
  })

  it('lists every stream of a tenant once with its head, across pages, in an order that is stable between calls', async () => {
    // given a tenant with 12 streams of 1 to 4 commits (pages of 5 items: streams straddle pages), a tenant whose
    // stream keys start with this tenant's id, and a deleted stream
    const tenantId = `cat-${randomUUID()}`
    const heads: Commit[] = []
    for (let s = 0; s < 12; s++) {
      let c: Commit | undefined
      for (let i = 0; i <= s % 4; i++) c = right(await store.commit(next(c, { tenantId, streamId: `s-${s}` }, { events: 1 + (i % 2) })))
      heads.push(c as Commit)
    }
    const lookalike = right(await store.commit(attempt({ tenantId: `${tenantId}x`, streamId: 's-0', commitSequence: 1 })))
    const gone = right(await store.commit(attempt({ tenantId, streamId: 'deleted', commitSequence: 1 })))
    right(await store.deleteStream(gone.tenantId, gone.streamId))
    // when the tenant's streams are listed twice
    const first = await collect(store.listStreams(tenantId))
    const second = await collect(store.listStreams(tenantId))
    // then each stream is there once, with its head commit's sequence, revision and stamp
    expect([...first].sort(byStream)).toEqual(heads.map(infoOf).sort(byStream))
    expect(second).toEqual(first)
    expect(await collect(store.listStreams(lookalike.tenantId))).toEqual([infoOf(lookalike)])
    // and a tenant without commits has no streams
    expect(await collect(store.listStreams(`none-${randomUUID()}`))).toEqual([])
  })

  it('shows the head as it is when read: a commit appended after the first listing moves it', async () => {
    const ids = { tenantId: `cat-${randomUUID()}`, streamId: 'moving' }
    const c1 = right(await store.commit(next(undefined, ids)))
    expect(await collect(store.listStreams(ids.tenantId))).toEqual([infoOf(c1)])
    const c2 = right(await store.commit(next(c1, ids, { events: 3 })))
    expect(await collect(store.listStreams(ids.tenantId))).toEqual([infoOf(c2)])
  })

  it('lists every tenant holding a commit once, whatever its id holds; purged and never-written tenants are not listed', async () => {
    const own = await freshStore(db())
    try {
      const tenants = ['plain', 'a:b', '1:ab', 'é😀\u0001"', 'x'.repeat(256)]
      // two streams per tenant, one of two commits
      for (const tenantId of tenants) {
        const c = right(await own.commit(next(undefined, { tenantId, streamId: 's0' })))
        right(await own.commit(next(c, { tenantId, streamId: 's0' })))
        right(await own.commit(next(undefined, { tenantId, streamId: 's1' })))
      }
      const purged = right(await own.commit(attempt({ tenantId: 'purged', streamId: 's', commitSequence: 1 })))
      right(await own.purge(purged.tenantId))
      // a refused attempt leaves a filler (and a tenant counter) behind, but no commit
      expect((await own.commit(attempt({ tenantId: 'refused', streamId: 's', commitSequence: 2 })))._tag).toBe('Left')
      const listed = await collect(own.listTenants())
      expect([...listed].sort()).toEqual([...tenants].sort())
      expect(await collect(own.listTenants())).toEqual(listed)
    } finally {
      await disposeStore(own)
    }
  })

  it('reads in pages of pageSize and never writes: Scans of the keys-only byRevision index and one Query per stream head', async () => {
    const sent: SentCommand[] = []
    const watched = await freshStore(db(), {
      pageSize: 3,
      client: interceptingClient(db().client, (command, send) => {
        sent.push(command)
        return send()
      }),
    })
    try {
      const tenantId = 'paged'
      for (let s = 0; s < 4; s++) right(await watched.commit(attempt({ tenantId, streamId: `s${s}`, commitSequence: 1 })))
      right(await watched.commit(attempt({ tenantId: 'other', streamId: 's', commitSequence: 1 })))
      sent.length = 0
      expect(await collect(watched.listStreams(tenantId))).toHaveLength(4)
      const names = sent.map((c) => c.constructor.name)
      const scans = sent.filter((c) => c.constructor.name === 'ScanCommand')
      // 5 commits in pages of 3: at least 2 Scan pages, each of the index, limited to the page size
      expect(scans.length).toBeGreaterThanOrEqual(2)
      for (const s of scans) expect(s.input).toMatchObject({ IndexName: 'byRevision', Limit: 3 })
      expect(names.filter((n) => n === 'QueryCommand')).toHaveLength(4)
      expect(names.every((n) => n === 'ScanCommand' || n === 'QueryCommand')).toBe(true)
      sent.length = 0
      expect([...(await collect(watched.listTenants()))].sort()).toEqual(['other', 'paged'])
      expect(sent.every((c) => c.constructor.name === 'ScanCommand')).toBe(true)
    } finally {
      await disposeStore(watched)
    }
  })
})
