import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DynamoDbStore } from '../../src/dynamodb/index.js'
import { A, CHUNK_PREFIX, streamKey } from '../../src/dynamodb/schema.js'
import { attempt, collect, expectCommits, left, next, right } from 'aett/testing/contract'
import { configOf, disposeStore, dynaliteForFile, freshStore } from './server.js'

const db = dynaliteForFile()

/** Every item of the commits table, as DynamoDB holds it. */
const scanCommits = async (store: DynamoDbStore) => {
  const out = await db().client.send(
    new (await import('@aws-sdk/client-dynamodb')).ScanCommand({ TableName: configOf(store).commitsTable }),
  )
  return out.Items ?? []
}

/** Text that does not compress and is 1 to 4 UTF-8 bytes a character. */
const noise = (chars: number): string => {
  const alphabet = ['a', 'ß', '€', '𝄞', '"', '\\', '\n']
  let s = ''
  for (let i = 0; s.length < chars; i++) s += alphabet[(i * 7919 + (i >> 3)) % alphabet.length]
  return s
}

describe('dynamodb: layout', () => {
  let store: DynamoDbStore
  beforeAll(async () => {
    store = await freshStore(db())
  })
  afterAll(async () => {
    await disposeStore(store)
  })

  it('encodes tenant and stream without ambiguity: tenant ab + stream c never meets tenant a + stream bc', async () => {
    // given the two pairs that a plain concatenation would confuse
    expect(streamKey('ab', 'c')).not.toBe(streamKey('a', 'bc'))
    expect(streamKey('a"', 'b')).not.toBe(streamKey('a', '"b'))
    expect(streamKey('a","b', 'c')).not.toBe(streamKey('a', 'b","c'))
    expect(streamKey('1:a', 'b')).not.toBe(streamKey('1', ':ab'))
    expect(streamKey('é', 'x')).not.toBe(streamKey('éx', ''))
    // and the key is the tenant's UTF-8 length, a colon, then both ids as they are (no escaping)
    expect(streamKey('ab', 'c')).toBe('2:abc')
    expect(streamKey('\u0001é😀', '"\n')).toBe('7:\u0001é😀"\n')
    const suffix = randomUUID()
    const one = { tenantId: `ab${suffix}`, streamId: 'c' }
    const two = { tenantId: 'a', streamId: `b${suffix}c` }
    // when both write their first commit
    const c1 = right(await store.commit(attempt({ ...one, commitSequence: 1 })))
    const c2 = right(await store.commit(attempt({ ...two, commitSequence: 1 })))
    // then both are first commits of separate streams, read back apart
    expectCommits(await collect(store.get(one.tenantId, one.streamId)), [c1])
    expectCommits(await collect(store.get(two.tenantId, two.streamId)), [c2])
  })

  it('keeps a commit over the 400 KB item limit in chunks and reads it back whole, by stream and by checkpoint', async () => {
    // given a commit of about 600 KB of incompressible text
    const ids = { tenantId: `t-${randomUUID()}`, streamId: 's' }
    const big = noise(150_000)
    const a = attempt({ ...ids, commitSequence: 1, events: [{ body: { type: 'Big', big }, headers: { big } }], headers: { big } })
    // when it is committed
    const c = right(await store.commit(a))
    // then it reads back exactly
    expectCommits(await collect(store.get(ids.tenantId, ids.streamId)), [c])
    expectCommits(await collect(store.getFrom(c.checkpointToken - 1)), [c])
    expectCommits(await collect(store.getFrom(c.checkpointToken - 1, ids.tenantId)), [c])
    // and its body lives in chunk items, each under the item limit
    const items = await scanCommits(store)
    const chunks = items.filter((i) => i[A.pk]?.S?.startsWith(CHUNK_PREFIX))
    expect(chunks.length).toBeGreaterThanOrEqual(2)
    for (const chunk of chunks) expect(chunk[A.data]?.B?.byteLength ?? 0).toBeLessThanOrEqual(350 * 1024)
    // and deleting the stream deletes the chunks too
    right(await store.deleteStream(ids.tenantId, ids.streamId))
    expect((await scanCommits(store)).filter((i) => i[A.pk]?.S?.startsWith(CHUNK_PREFIX))).toEqual([])
  })

  it('refuses a commit over maxCommitBytes as an invalid attempt and stores nothing', async () => {
    const small = await freshStore(db(), { maxCommitBytes: 10_000 })
    try {
      const ids = { tenantId: 't', streamId: 's' }
      // what initialize() left (the counter item with its tenant links)
      const before = await scanCommits(small)
      const a = attempt({ ...ids, commitSequence: 1, events: [{ body: { type: 'Big', text: noise(20_000) }, headers: {} }] })
      const refused = left(await small.commit(a), 'InvalidAttempt')
      expect(refused.reason).toMatch(/maxCommitBytes/)
      expect(await collect(small.get(ids.tenantId, ids.streamId))).toEqual([])
      expect(await collect(small.getFrom(0))).toEqual([])
      expect(await scanCommits(small)).toEqual(before)
    } finally {
      await disposeStore(small)
    }
  })

  it('refuses ids that cannot be DynamoDB keys as invalid attempts', async () => {
    const long = 'x'.repeat(3000)
    left(await store.commit(attempt({ tenantId: long, streamId: 's', commitSequence: 1 })), 'InvalidAttempt')
    left(await store.commit(attempt({ tenantId: 't', streamId: long, commitSequence: 1 })), 'InvalidAttempt')
    left(await store.commit(attempt({ tenantId: 't', streamId: 's', commitSequence: 1, commitId: long })), 'InvalidAttempt')
    // and reads of such ids are empty, not failures
    expect(await collect(store.get(long, 's'))).toEqual([])
    expect(await collect(store.getFrom(0, long))).toEqual([])
  })

  it('answers a commit id reused at the next sequence as a duplicate, and a gap as invalid, storing nothing', async () => {
    const ids = { tenantId: `t-${randomUUID()}`, streamId: 's' }
    const c1 = right(await store.commit(attempt({ ...ids, commitSequence: 1 })))
    // a retry of commit 1 dressed as commit 2 is still commit 1
    left(await store.commit(next(c1, ids, { commitId: c1.commitId })), 'DuplicateCommit')
    // a gap in sequence or revision is refused
    left(await store.commit(attempt({ ...ids, commitSequence: 3, firstRevision: 3 })), 'InvalidAttempt')
    left(await store.commit(attempt({ ...ids, commitSequence: 2, firstRevision: 4 })), 'InvalidAttempt')
    expectCommits(await collect(store.get(ids.tenantId, ids.streamId)), [c1])
    expectCommits(await collect(store.getFrom(c1.checkpointToken - 1, ids.tenantId)), [c1])
  })

  it('creates the tables with their keys and indexes, idempotently', async () => {
    const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb')
    right(await store.initialize())
    const t = (await db().client.send(new DescribeTableCommand({ TableName: configOf(store).commitsTable }))).Table
    expect(t?.TableStatus).toBe('ACTIVE')
    expect(t?.BillingModeSummary?.BillingMode ?? 'PAY_PER_REQUEST').toBe('PAY_PER_REQUEST')
    expect(t?.KeySchema?.map((k) => k.AttributeName)).toEqual([A.pk, A.sk])
    expect(t?.LocalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(['byCommitId', 'byRevision'])
    expect(t?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(['byTenant', 'byToken'])
    expect(E.isRight(await store.initialize())).toBe(true)
  })
})
