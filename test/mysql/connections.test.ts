import net from 'node:net'
import * as E from 'fp-ts/lib/Either.js'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toArray, type CommitAttempt, type Persistence } from '../../src/eventstore/index.js'
import { mysqlStore, type MysqlPool } from '../../src/mysql/index.js'
import { mysqlNames } from '../../src/mysql/schema.js'
import { mysqlUrl } from '../support/services.js'
import { freshPrefix, initializedStore, mysqlAvailable, rightOf, testPool } from './support.js'

const available = await mysqlAvailable()

let counter = 0
const attempt = (streamId: string, seq: number, over: Partial<CommitAttempt> = {}): CommitAttempt => ({
  tenantId: 'connections',
  streamId,
  streamRevision: seq,
  commitId: `c-${++counter}`,
  commitSequence: seq,
  commitStamp: new Date(),
  headers: {},
  events: [{ body: { type: 'Happened' }, headers: {} }],
  ...over,
})

/** Fails the test instead of hanging when a pool of one connection has lost it. */
const within = <A>(ms: number, p: Promise<A>): Promise<A> =>
  Promise.race([p, new Promise<A>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))])

/** A TCP proxy in front of the server, so that a test can take "the database" away and bring it back. */
const proxyTo = (target: URL) => {
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  const start = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 3306), target.hostname)
        for (const s of [client, upstream]) {
          sockets.add(s)
          s.on('close', () => sockets.delete(s))
          s.on('error', () => undefined)
        }
        client.pipe(upstream).pipe(client)
      })
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve((server?.address() as net.AddressInfo).port))
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server?.close(() => resolve())
    })
  return { start, stop }
}

describe.skipIf(!available)('mysql connections', () => {
  const prefix = freshPrefix()
  let admin: mysql.Connection
  let setup: Persistence

  beforeAll(async () => {
    admin = await mysql.createConnection(mysqlUrl)
    setup = await initializedStore({ uri: mysqlUrl, tablePrefix: prefix, connectionLimit: 1 })
  })

  afterAll(async () => {
    await setup?.drop()
    await setup?.close()
    await admin?.end()
  })

  it('with a pool of one connection, every error path gives the connection back', async () => {
    // given a store over a pool of exactly one connection, and one over the same pool whose tables do not exist
    const pool: MysqlPool = testPool({ connectionLimit: 1 })
    const store = mysqlStore({ pool, tablePrefix: prefix, pageSize: 2 })
    const missing = mysqlStore({ pool, tablePrefix: freshPrefix() })
    try {
      rightOf(await store.commit(attempt('one', 1)))
      const first = rightOf(await toArray(store.get('connections', 'one')))[0]
      // when every kind of failure happens in turn, each followed by a successful append
      const failures: (() => Promise<unknown>)[] = [
        () => store.commit(attempt('one', 1, { commitId: first?.commitId ?? '' })), // duplicate
        () => store.commit(attempt('one', 1)), // conflict (reads the missed commits)
        () => store.commit(attempt('one', 5)), // gap
        () => store.commit(attempt('one', 2, { events: [] })), // invalid, never reaches the server
        () => missing.commit(attempt('x', 1)), // routine missing
        () => toArray(missing.getFrom(0)), // table missing
        () => missing.purge('connections'), // fails inside a transaction
        () => missing.deleteStream('connections', 'x'), // likewise
        () => missing.getSnapshot('connections', 'x'),
        () => toArray(missing.streamsToSnapshot('connections', 1)),
        async () => {
          // a read abandoned after its first element
          for await (const r of store.getFrom(0)) return r
          return undefined
        },
      ]
      let seq = 1
      for (const fail of failures) {
        await within(5000, fail())
        seq += 1
        // then the one connection is still there for the next call
        rightOf(await within(5000, store.commit(attempt('one', seq))))
      }
      // and two reads paged alternately share it
      const a = store.getFrom(0)[Symbol.asyncIterator]()
      const b = store.get('connections', 'one')[Symbol.asyncIterator]()
      for (let i = 0; i < 5; i++) {
        expect(E.isRight((await within(5000, a.next())).value)).toBe(true)
        expect(E.isRight((await within(5000, b.next())).value)).toBe(true)
      }
    } finally {
      await pool.end()
    }
  })

  it('a connection killed mid-append is a StorageError; nothing is half-written and the store goes on', async () => {
    // given a store on one connection whose append waits behind a lock another session holds on the counter
    const pool: MysqlPool = testPool({ connectionLimit: 1 })
    const store = mysqlStore({ pool, tablePrefix: prefix })
    try {
      const [idRows] = await pool.query('SELECT CONNECTION_ID() AS id')
      const id = Number((idRows as { id: unknown }[])[0]?.id)
      await admin.query('START TRANSACTION')
      await admin.query(`SELECT value FROM ${mysqlNames(prefix).checkpoint} WHERE id = 1 FOR UPDATE`)
      const pending = store.commit(attempt('killed', 1))
      await new Promise((resolve) => setTimeout(resolve, 200))
      // when that connection is killed while it waits
      await admin.query(`KILL ${id}`)
      const killed = await within(5000, pending)
      await admin.query('ROLLBACK')
      // then the append is a StorageError, nothing of it was stored, and the store appends again at once
      expect(E.isLeft(killed) && killed.left._tag).toBe('StorageError')
      expect(rightOf(await toArray(store.get('connections', 'killed')))).toEqual([])
      rightOf(await within(5000, store.commit(attempt('killed', 1))))
    } finally {
      await admin.query('ROLLBACK')
      await pool.end()
    }
  })

  it('a server that goes away yields StorageErrors, and the store works again once it is back', async () => {
    // given a store that reaches the server through a proxy
    const target = new URL(mysqlUrl)
    const proxy = proxyTo(target)
    const port = await proxy.start(0)
    const via = new URL(mysqlUrl)
    via.port = String(port)
    const store = mysqlStore({ uri: via.toString(), tablePrefix: prefix, connectionLimit: 2 })
    try {
      rightOf(await store.commit(attempt('away', 1)))
      // when the server goes away
      await proxy.stop()
      // then appends, reads, snapshots and management answer with StorageErrors, promptly
      const commit = await within(10_000, store.commit(attempt('away', 2)))
      expect(E.isLeft(commit) && commit.left._tag).toBe('StorageError')
      const read = await within(10_000, toArray(store.getFrom(0)))
      expect(E.isLeft(read) && read.left._tag).toBe('StorageError')
      expect(E.isLeft(await within(10_000, store.getSnapshot('connections', 'away')))).toBe(true)
      expect(E.isLeft(await within(10_000, store.deleteStream('connections', 'nothing')))).toBe(true)
      // and when it is back, the same store carries on
      await proxy.start(port)
      rightOf(await within(10_000, store.commit(attempt('away', 2))))
      expect(rightOf(await toArray(store.get('connections', 'away'))).map((c) => c.commitSequence)).toEqual([1, 2])
    } finally {
      await store.close()
      await proxy.stop()
    }
  })
})
