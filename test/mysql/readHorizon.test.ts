import * as E from 'fp-ts/lib/Either.js'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CommitAttempt, Persistence } from '../../src/eventstore/index.js'
import { toArray } from '../../src/eventstore/reads.js'
import { appendParameters } from '../../src/mysql/rows.js'
import { mysqlNames } from '../../src/mysql/schema.js'
import { mysqlUrl } from '../support/services.js'
import { freshPrefix, initializedStore, mysqlAvailable, rightOf } from './support.js'

/*
 * Reads by token stop at a horizon taken under a shared lock on the counter row (commitStore.ts, `horizon`):
 * a plain read could see an append's commit without the one before it, because InnoDB builds a read view by
 * walking its active transactions while they go on committing, and a tailing reader would then skip the earlier
 * one for good. A scratch run of 16 writers and 4 tailing readers saw 3 readers skip a commit within 20 s before
 * the horizon. The race needs the server to be pre-empted mid-walk, so no test can force it; the first test
 * proves the mechanism, the second the outcome under load (longer under AETT_SOAK=1).
 */

const available = await mysqlAvailable()
const soak = process.env['AETT_SOAK'] === '1'

const attempt = (streamId: string, seq: number, commitId = `${streamId}-${seq}`): CommitAttempt => ({
  tenantId: 'horizon',
  streamId,
  streamRevision: seq,
  commitId,
  commitSequence: seq,
  commitStamp: new Date(),
  headers: {},
  events: [{ body: { type: 'Seen', seq }, headers: {} }],
})

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(!available)('mysql reads by token stop at the horizon', () => {
  const prefix = freshPrefix()
  const names = mysqlNames(prefix)
  let store: Persistence

  beforeAll(async () => {
    store = await initializedStore({ uri: mysqlUrl, tablePrefix: prefix, connectionLimit: 4, pageSize: 7 })
  })

  afterAll(async () => {
    await store?.drop()
    await store?.close()
  })

  it('a read started while an append holds the counter waits for it, and then sees its commit', async () => {
    // given a commit, and a raw transaction that took the next token as the append routine does and holds it
    rightOf(await store.commit(attempt('before', 1)))
    const raw = await mysql.createConnection(mysqlUrl)
    try {
      await raw.query('START TRANSACTION')
      await raw.query(`UPDATE ${names.checkpoint} SET value = value + 1 WHERE id = 1`)
      const [rows] = await raw.query(`SELECT value FROM ${names.checkpoint} WHERE id = 1`)
      const token = Number((rows as { value: unknown }[])[0]?.value)
      await raw.query(
        `INSERT INTO ${names.commits} (checkpoint_token, tenant_key, stream_key, commit_key, tenant_id, stream_id, commit_id,
          commit_sequence, stream_revision, first_revision, commit_stamp, headers, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [token, ...appendParameters(attempt('held', 1))],
      )

      // when reads of the whole log, a tenant's log and a tenant's log up to now start meanwhile
      let settled = false
      const reads = Promise.all([toArray(store.getFrom(0)), toArray(store.getFromTo(0, Number.MAX_SAFE_INTEGER, 'horizon')), toArray(store.getAllTo('horizon', new Date(Date.now() + 60_000)))])
      void reads.then(() => (settled = true))
      await sleep(300)

      // then none of them answers while the token is held ...
      expect(settled).toBe(false)
      await raw.query('COMMIT')

      // ... and once it commits, each sees both commits, in token order
      for (const read of await reads) expect(rightOf(read).map((c) => [c.streamId, c.checkpointToken])).toEqual([['before', token - 1], ['held', token]])
    } finally {
      await raw.end()
    }
  })

  it('tailing readers never pass a commit they have not seen, with 16 writers appending meanwhile', async () => {
    // given 16 writers (group commit off: one transaction per append, the most counter handovers) and 4 readers,
    // each on a store of its own, tailing the log with small pages and no pause
    const writers = await initializedStore({ uri: mysqlUrl, tablePrefix: prefix, connectionLimit: 16, groupCommit: false })
    const readers = await Promise.all(Array.from({ length: 4 }, () => initializedStore({ uri: mysqlUrl, tablePrefix: prefix, connectionLimit: 1, pageSize: 50 })))
    const from = rightOf(await toArray(store.getFrom(0))).at(-1)?.checkpointToken ?? 0
    const deadline = Date.now() + (soak ? 120_000 : 6_000)
    let writing = true
    const tail = async (reader: Persistence): Promise<number[]> => {
      const seen: number[] = []
      let last = from
      for (;;) {
        const finishing = !writing
        let fresh = 0
        for await (const r of reader.getFrom(last)) {
          last = rightOf(r).checkpointToken
          seen.push(last)
          fresh += 1
        }
        if (finishing && fresh === 0) return seen
      }
    }
    try {
      // when the writers append to streams of their own until the deadline
      const tails = readers.map(tail)
      await Promise.all(
        Array.from({ length: 16 }, async (_, w) => {
          for (let seq = 1; Date.now() < deadline; seq++) rightOf(await writers.commit(attempt(`w${w}`, seq)))
        }),
      )
      writing = false
      const seen = await Promise.all(tails)

      // then every reader saw exactly the stored log after its start, in order
      const stored = rightOf(await toArray(store.getFrom(from))).map((c) => c.checkpointToken)
      console.log(`mysql read horizon: ${stored.length} commits by 16 writers, tailed by 4 readers (${soak ? 'soak' : 'short run'})`)
      expect(stored.length).toBeGreaterThan(500)
      for (const s of seen) expect(s).toEqual(stored)
      expect(E.isRight(await writers.commit(attempt('after', 1)))).toBe(true)
    } finally {
      await writers.close()
      await Promise.all(readers.map((r) => r.close()))
    }
  }, 200_000)
})
