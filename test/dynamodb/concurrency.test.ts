import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DynamoDbStore } from '../../src/dynamodb/index.js'
import type { Commit, CommitError, Persistence } from '../../src/eventstore/index.js'
import { collect, expectCommits, expectStrictlyAscending, next } from 'aett/testing/contract'
import { disposeStore, dynaliteForFile, freshStore, interceptingClient, isCommitPut, pollingReader } from './server.js'

const db = dynaliteForFile()

/** Appends `count` commits to one stream, catching up from each conflict's missed commits. Logs every answer. */
const writer = async (
  store: Persistence,
  ids: { readonly tenantId: string; readonly streamId: string },
  count: number,
  log: Array<E.Either<CommitError, Commit>>,
): Promise<Commit[]> => {
  const mine: Commit[] = []
  let head: Commit | undefined
  while (mine.length < count) {
    const r = await store.commit(next(head, ids))
    log.push(r)
    if (E.isRight(r)) {
      mine.push(r.right)
      head = r.right
    } else if (r.left._tag === 'ConcurrencyConflict') {
      head = r.left.missed[r.left.missed.length - 1] ?? head
    } else {
      throw new Error(`unexpected ${r.left._tag}`)
    }
  }
  return mine
}

describe('dynamodb: concurrent writers (SEMANTICS 3, 4, 8)', () => {
  let store: DynamoDbStore
  beforeAll(async () => {
    store = await freshStore(db(), { pageSize: 7 })
  })
  afterAll(async () => {
    await disposeStore(store)
  })

  it('many writers on one stream: exactly one winner per sequence, nothing lost', async () => {
    // given 8 writers that each want 3 commits on the same stream
    const ids = { tenantId: `t-${randomUUID()}`, streamId: 'hot' }
    const log: Array<E.Either<CommitError, Commit>> = []
    const won = (await Promise.all(Array.from({ length: 8 }, () => writer(store, ids, 3, log)))).flat()
    // then the stream holds exactly the 24 winners, sequences 1..24 without a gap or a repeat
    const stream = await collect(store.get(ids.tenantId, ids.streamId))
    expect(stream.map((c) => c.commitSequence)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1))
    expectCommits(stream, [...won].sort((a, b) => a.commitSequence - b.commitSequence))
    // and every sequence had exactly one winner; every loser was told so by a conflict
    const winnersPerSequence = new Map<number, number>()
    for (const r of log.filter(E.isRight)) winnersPerSequence.set(r.right.commitSequence, (winnersPerSequence.get(r.right.commitSequence) ?? 0) + 1)
    expect([...winnersPerSequence.values()].every((n) => n === 1)).toBe(true)
    expect(log.filter(E.isLeft).every((r) => r.left._tag === 'ConcurrencyConflict')).toBe(true)
    // and the global order lists each winner once, ascending (the losers' tokens were filled)
    const global = await collect(store.getFrom(0, ids.tenantId))
    expectStrictlyAscending(global.map((c) => c.checkpointToken))
    expect(global.map((c) => c.commitId).sort()).toEqual(won.map((c) => c.commitId).sort())
  }, 90_000)

  it('a polling reader never skips a commit while slow writers land their commits out of token order', async () => {
    // given a client that delays each commit's put at random, so that token T+1 often lands before T
    const slow = await freshStore(db(), {
      client: interceptingClient(db().client, async (command, send) => {
        if (isCommitPut(command)) await new Promise((r) => setTimeout(r, Math.random() * 60))
        return send()
      }),
    })
    try {
      const tenants = [`a-${randomUUID()}`, `b-${randomUUID()}`]
      const log: Array<E.Either<CommitError, Commit>> = []
      let writing = true
      // readers: one global, one per tenant, each polling from the last token it was handed
      const poll = (tenantId?: string): Promise<Commit[]> => pollingReader(slow, () => writing, tenantId)
      const readers = [poll(), poll(tenants[0]), poll(tenants[1])]
      // when 8 writers append to 4 streams (two writers a stream, so losers leave filled tokens)
      await Promise.all(
        Array.from({ length: 8 }, (_, i) => writer(slow, { tenantId: tenants[i % 2] as string, streamId: `s${i % 4}` }, 4, log)),
      )
      writing = false
      const [global, ofA, ofB] = await Promise.all(readers)
      // then each reader saw every commit exactly once, in strictly ascending token order
      const won = log.filter(E.isRight).map((r) => r.right).sort((x, y) => x.checkpointToken - y.checkpointToken)
      expect(won).toHaveLength(32)
      expectCommits(global ?? [], won)
      expectCommits(ofA ?? [], won.filter((c) => c.tenantId === tenants[0]))
      expectCommits(ofB ?? [], won.filter((c) => c.tenantId === tenants[1]))
    } finally {
      await disposeStore(slow)
    }
  }, 90_000)
})
