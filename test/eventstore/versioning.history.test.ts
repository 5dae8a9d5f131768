import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { checkHistory, storageError, type CommitAttempt, type EventMessage, type HistoryProgress, type Reads, type Commit } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'
import { at, BookAdded, BookAddedV2, BookCreatedV1, gen1, gen2, gen3, ShelfOpened } from './versioning.fixtures.js'

// Issue 16 item 2: the history check reads a whole store through a topic map and reports, per topic and version,
// what decodes, and every failure with the commit it sits in.

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) expect.fail(`expected a Right, got ${JSON.stringify(e.left)}`)
  return e.right
}

/** The i-th event of the history: the three generations of books and a shelf, in turn. */
const message = (streamId: string, revision: number): EventMessage => {
  const meta = { id: streamId, version: revision, timestamp: at }
  switch (revision % 4) {
    case 0:
      return gen1.encodeMessage(BookCreatedV1.create({ ...meta, title: `t${revision}` }))
    case 1:
      return gen2.encodeMessage(BookAddedV2.create({ ...meta, title: `t${revision}`, author: 'A' }))
    case 2:
      return gen3.encodeMessage(BookAdded.create({ ...meta, title: `t${revision}`, authors: ['A'], addedOn: at }))
    default:
      return gen3.encodeMessage(ShelfOpened.create({ ...meta, shelf: `s${revision}` }))
  }
}

const EVENTS_PER_COMMIT = 100

/** A commit of `streamId`'s `sequence`-th hundred events. */
const commitOf = (tenantId: string, streamId: string, sequence: number, events?: EventMessage[]): CommitAttempt => {
  const first = (sequence - 1) * EVENTS_PER_COMMIT + 1
  return {
    tenantId,
    streamId,
    commitId: globalThis.crypto.randomUUID(),
    commitSequence: sequence,
    streamRevision: first + EVENTS_PER_COMMIT - 1,
    commitStamp: at,
    headers: {},
    events: events ?? Array.from({ length: EVENTS_PER_COMMIT }, (_, i) => message(streamId, first + i)),
  }
}

describe('checkHistory', () => {
  it('finds a planted undecodable event among 100,000 and reports its commit', async () => {
    // given 100,000 events in 1,000 commits over 20 streams of two tenants, one of them undecodable (a version 2
    // book without its author, deep inside a commit of the middle of the history)
    const store = memoryStore()
    const planted = { commit: 537, index: 60 }
    let plantedCommit: CommitAttempt | undefined
    for (let n = 0; n < 1000; n++) {
      const tenantId = n % 2 === 0 ? 'eu' : 'us'
      const streamId = `lib-${n % 20}`
      const sequence = Math.floor(n / 20) + 1
      let attempt = commitOf(tenantId, streamId, sequence)
      if (n === planted.commit) {
        const events = [...attempt.events]
        const bad = events[planted.index] as EventMessage
        const { author: _, ...body } = gen2.encodeMessage(BookAddedV2.create({ id: streamId, version: 1, timestamp: at, title: 'x', author: 'y' })).body
        events[planted.index] = { body: { ...body, version: bad.body['version'] ?? 0 }, headers: { 'aett.schema': 2 } }
        attempt = { ...attempt, events }
        plantedCommit = attempt
      }
      right(await store.commit(attempt))
    }
    const planting = plantedCommit as CommitAttempt
    // when the history is checked through the current topic map, with a progress bar
    const progress: HistoryProgress[] = []
    const report = right(await checkHistory(store, gen3, { onProgress: (p) => progress.push(p), progressEvery: 25_000 }))
    // then every event was read, and the one failure is reported with its commit and path
    expect(report).toMatchObject({ commits: 1000, events: 100_000, decoded: 99_999, failed: 1, checkpoint: 1000 })
    expect(report.topics['BookCreated']).toMatchObject({ currentTopic: 'BookAdded', decoded: 25_000, failed: 0, versions: { '1': { decoded: 25_000, failed: 0 } } })
    expect(report.topics['ShelfOpened']).toMatchObject({ decoded: 25_000, failed: 0, versions: { '1': { decoded: 25_000, failed: 0 } } })
    const books = report.topics['BookAdded']
    expect(books?.versions).toEqual({ '2': { decoded: 24_999, failed: 1 }, '3': { decoded: 25_000, failed: 0 } })
    expect(books?.examples).toHaveLength(1)
    expect(books?.examples[0]).toMatchObject({
      tenantId: planting.tenantId,
      streamId: planting.streamId,
      commitId: planting.commitId,
      commitSequence: planting.commitSequence,
      checkpointToken: planted.commit + 1,
      eventIndex: planted.index,
      streamRevision: planting.streamRevision - EVENTS_PER_COMMIT + 1 + planted.index,
      topic: 'BookAdded',
      version: '2',
      paths: ['BookAdded@v2/author'],
      error: { _tag: 'DecodeError', topic: 'BookAdded' },
    })
    // and progress went up to the total, counted from the stream heads
    expect(progress.map((p) => p.events)).toEqual([25_000, 50_000, 75_000, 100_000, 100_000])
    expect(progress.every((p) => p.total === 100_000 && p.eventsPerSecond > 0)).toBe(true)

    // and one tenant alone is checked alone
    const us = right(await checkHistory(store, gen3, { tenantId: 'us' }))
    expect(us).toMatchObject({ tenantId: 'us', events: 50_000, failed: 1 })
    const eu = right(await checkHistory(store, gen3, { tenantId: 'eu' }))
    expect(eu).toMatchObject({ events: 50_000, failed: 0 })
  })

  it('counts every failure and keeps the first examples per topic, unknown topics and bad headers too', async () => {
    // given a commit with events the map does not know or cannot read
    const store = memoryStore()
    const good = message('s', 2)
    const events: EventMessage[] = [
      { body: { type: 'Gone', id: 's', version: 1 }, headers: {} },
      { body: { type: 'Gone', id: 's', version: 2 }, headers: {} },
      { body: { type: 'Gone', id: 's', version: 3 }, headers: {} },
      { ...good, headers: { 'aett.schema': 'three' } },
      good,
    ]
    right(await store.commit({ ...commitOf('t', 's', 1, events), streamRevision: events.length }))
    // when checked with one example per topic
    const report = right(await checkHistory(store, gen3, { examples: 1 }))
    // then all failures are counted, and one example of each kept
    expect(report).toMatchObject({ events: 5, decoded: 1, failed: 4 })
    expect(report.topics['Gone']).toMatchObject({ currentTopic: undefined, failed: 3, versions: { '1': { decoded: 0, failed: 3 } } })
    expect(report.topics['Gone']?.examples).toMatchObject([{ eventIndex: 0, paths: [], error: { _tag: 'UnknownTopic', topic: 'Gone' } }])
    expect(report.topics['BookAdded']?.versions).toEqual({ '"three"': { decoded: 0, failed: 1 }, '3': { decoded: 1, failed: 0 } })
    expect(report.topics['BookAdded']?.examples[0]?.paths).toEqual(['BookAdded/aett.schema'])
  })

  it('answers a failing read with its error, and an empty store with an empty report', async () => {
    const failing = {
      getFrom: (): Reads<Commit> => (async function* () {
        yield E.left(storageError('getFrom', new Error('down')))
      })(),
    }
    const r = await checkHistory(failing, gen3)
    expect(E.isLeft(r) && r.left._tag).toBe('StorageError')
    expect(right(await checkHistory(memoryStore(), gen3))).toMatchObject({ commits: 0, events: 0, failed: 0, topics: {} })
  })
})
