import { randomUUID } from 'node:crypto'
import * as O from 'fp-ts/lib/Option.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DynamoDbStore } from '../../src/dynamodb/index.js'
import { A, MAX_PARTITION_KEY_BYTES, streamKey } from '../../src/dynamodb/schema.js'
import { utf8Length } from '../../src/eventstore/adapter/ids.js'
import { ID_LIMITS } from '../../src/eventstore/limits.js'
import { attempt, collect, expectCommits, left, right, snapshot } from 'aett/testing/contract'
import { configOf, disposeStore, dynaliteForFile, freshStore } from './server.js'

const db = dynaliteForFile()

const scan = async (table: string) => {
  const { ScanCommand } = await import('@aws-sdk/client-dynamodb')
  return (await db().client.send(new ScanCommand({ TableName: table }))).Items ?? []
}

const farFuture = new Date(8.64e15)

/** An id of exactly `bytes` bytes of UTF-8, of control characters (6 bytes each as JSON) and one 4-byte character. */
const idOf = (bytes: number, control: string): string => `${control.repeat(bytes - 4)}😀`

describe('dynamodb: an id that cannot be stored exactly reaches no stored data (issue 10 item 2)', () => {
  let store: DynamoDbStore
  beforeAll(async () => {
    store = await freshStore(db())
  })
  afterAll(async () => {
    await disposeStore(store)
  })

  it("a lone-surrogate tenant finds nothing of tenant 'ten\\uFFFD' and deletes nothing of it", async () => {
    // given a commit and a snapshot in tenant 'ten\uFFFD' (the character a driver turns a lone surrogate into)
    right(await store.purge())
    const ids = { tenantId: 'ten\uFFFD', streamId: `s-${randomUUID()}` }
    const c = right(await store.commit(attempt({ ...ids, commitSequence: 1 })))
    right(await store.addSnapshot(snapshot(ids, 1)))
    const lone = 'ten\uDBFF'
    // then no read of tenant 'ten\uDBFF' finds it
    expect(await collect(store.getFrom(0, lone))).toEqual([])
    expect(await collect(store.getFromTo(0, c.checkpointToken, lone))).toEqual([])
    expect(await collect(store.getAllTo(lone, farFuture))).toEqual([])
    expect(await collect(store.streamsToSnapshot(lone, 0))).toEqual([])
    expect(await collect(store.get(lone, ids.streamId))).toEqual([])
    expect(await collect(store.getTo(lone, ids.streamId, farFuture))).toEqual([])
    expect(right(await store.getSnapshot(lone, ids.streamId))).toEqual(O.none)
    // and purging or deleting it succeeds and deletes nothing
    right(await store.purge(lone))
    right(await store.deleteStream(lone, ids.streamId))
    expectCommits(await collect(store.get(ids.tenantId, ids.streamId)), [c])
    expectCommits(await collect(store.getFrom(0, ids.tenantId)), [c])
    expectCommits(await collect(store.getFrom(0)), [c])
    expectCommits(await collect(store.getAllTo(ids.tenantId, farFuture)), [c])
    expect(O.isSome(right(await store.getSnapshot(ids.tenantId, ids.streamId)))).toBe(true)
    // and writes in the lone-surrogate tenant are refused
    left(await store.commit(attempt({ tenantId: lone, streamId: ids.streamId, commitSequence: 1 })), 'InvalidAttempt')
    left(await store.addSnapshot(snapshot({ tenantId: lone, streamId: ids.streamId }, 1)), 'InvalidAttempt')
  })
})

describe('dynamodb: every id within ID_LIMITS is storable, one byte over is refused (issue 10 item 14)', () => {
  let store: DynamoDbStore
  beforeAll(async () => {
    store = await freshStore(db())
  })
  afterAll(async () => {
    await disposeStore(store)
  })

  const tenantAt = idOf(ID_LIMITS.tenantId, '\u0001')
  const streamAt = idOf(ID_LIMITS.streamId, '\n')
  const commitIdAt = idOf(ID_LIMITS.commitId, '\u0007')
  const over = (id: string) => `\u001f${id}`

  it('the ids are at the limit and one byte over', () => {
    expect([utf8Length(tenantAt), utf8Length(streamAt), utf8Length(commitIdAt)]).toEqual([256, 1024, 128])
    expect([utf8Length(over(tenantAt)), utf8Length(over(streamAt)), utf8Length(over(commitIdAt))]).toEqual([257, 1025, 129])
    // and as JSON (the 0.1 key) they would not have fitted a partition key
    expect(utf8Length(JSON.stringify([tenantAt, streamAt]))).toBeGreaterThan(MAX_PARTITION_KEY_BYTES)
  })

  it('stores, reads, snapshots and deletes a stream whose three ids are all at the limit', async () => {
    const ids = { tenantId: tenantAt, streamId: streamAt }
    // when a commit with every id at the limit is made, and a snapshot taken
    const c1 = right(await store.commit(attempt({ ...ids, commitSequence: 1, commitId: commitIdAt })))
    const c2 = right(await store.commit(attempt({ ...ids, commitSequence: 2 })))
    right(await store.addSnapshot(snapshot(ids, 2)))
    // then every read finds them, exactly
    expectCommits(await collect(store.get(tenantAt, streamAt)), [c1, c2])
    expectCommits(await collect(store.get(tenantAt, streamAt, { minRevision: 2 })), [c2])
    expectCommits(await collect(store.getTo(tenantAt, streamAt, farFuture)), [c1, c2])
    expectCommits(await collect(store.getAllTo(tenantAt, farFuture)), [c1, c2])
    expectCommits(await collect(store.getFrom(c1.checkpointToken - 1, tenantAt)), [c1, c2])
    expect(await collect(store.streamsToSnapshot(tenantAt, 0))).toEqual([
      { tenantId: tenantAt, streamId: streamAt, headRevision: 2, snapshotRevision: 2 },
    ])
    const snap = right(await store.getSnapshot(tenantAt, streamAt))
    expect(O.isSome(snap) && snap.value.streamId).toBe(streamAt)
    // and the commit id at the limit is recognised as a duplicate
    left(await store.commit(attempt({ ...ids, commitSequence: 3, firstRevision: 3, commitId: commitIdAt })), 'DuplicateCommit')
    // and the stored keys are the length-prefixed key, within DynamoDB's limit
    const pk = streamKey(tenantAt, streamAt)
    expect(pk).toBe(`256:${tenantAt}${streamAt}`)
    expect(utf8Length(pk)).toBe(4 + 256 + 1024)
    const items = (await scan(configOf(store).commitsTable)).filter((i) => i[A.pk]?.S === pk)
    expect(items.map((i) => i[A.sk]?.N).sort()).toEqual(['1', '2'])
    // when the stream is deleted, then it is gone with its snapshot
    right(await store.deleteStream(tenantAt, streamAt))
    expect(await collect(store.get(tenantAt, streamAt))).toEqual([])
    expect(right(await store.getSnapshot(tenantAt, streamAt))).toEqual(O.none)
    expect(await collect(store.getFrom(0, tenantAt))).toEqual([])
  })

  it('refuses every id one byte over on commit and addSnapshot, finds nothing for it and deletes nothing with it', async () => {
    // given a stream at the limit, with a snapshot
    const ids = { tenantId: tenantAt, streamId: idOf(ID_LIMITS.streamId, '\u0002') }
    const c = right(await store.commit(attempt({ ...ids, commitSequence: 1 })))
    right(await store.addSnapshot(snapshot(ids, 1)))
    const overs = [
      attempt({ tenantId: over(tenantAt), streamId: ids.streamId, commitSequence: 1 }),
      attempt({ tenantId: tenantAt, streamId: over(streamAt), commitSequence: 1 }),
      attempt({ tenantId: tenantAt, streamId: 'other', commitSequence: 1, commitId: over(commitIdAt) }),
    ]
    for (const a of overs) {
      const refused = left(await store.commit(a), 'InvalidAttempt')
      expect(refused.reason).toMatch(/bytes of UTF-8, over the limit/)
    }
    left(await store.addSnapshot(snapshot({ tenantId: over(tenantAt), streamId: ids.streamId }, 1)), 'InvalidAttempt')
    left(await store.addSnapshot(snapshot({ tenantId: tenantAt, streamId: over(streamAt) }, 1)), 'InvalidAttempt')
    // then reads of the over-long ids find nothing
    expect(await collect(store.get(over(tenantAt), ids.streamId))).toEqual([])
    expect(await collect(store.get(tenantAt, over(streamAt)))).toEqual([])
    expect(right(await store.getSnapshot(over(tenantAt), ids.streamId))).toEqual(O.none)
    expect(right(await store.getSnapshot(tenantAt, over(streamAt)))).toEqual(O.none)
    expect(await collect(store.getFrom(0, over(tenantAt)))).toEqual([])
    // and deleting them succeeds and touches nothing
    right(await store.deleteStream(over(tenantAt), ids.streamId))
    right(await store.deleteStream(tenantAt, over(streamAt)))
    right(await store.purge(over(tenantAt)))
    expectCommits(await collect(store.get(ids.tenantId, ids.streamId)), [c])
    expect(O.isSome(right(await store.getSnapshot(ids.tenantId, ids.streamId)))).toBe(true)
    // and nothing over the limit reached the table
    const keys = (await scan(configOf(store).commitsTable)).map((i) => i[A.pk]?.S ?? '')
    expect(keys.every((k) => utf8Length(k) <= MAX_PARTITION_KEY_BYTES)).toBe(true)
    expect(keys.filter((k) => k.startsWith('257:'))).toEqual([])
  })
})
