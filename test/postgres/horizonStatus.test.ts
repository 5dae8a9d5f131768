import * as E from 'fp-ts/lib/Either.js'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { subscribe } from 'aett/subscriptions'
import { attempt, freshIds, right } from 'aett/testing/contract'
import { pgUrl } from '../support/services.js'
import { pgAvailable, pgStores } from './support.js'

const available = await pgAvailable()
const stores = pgStores('aett_horizon')
afterAll(async () => {
  if (available) await stores.dropAll()
})

describe.skipIf(!available)('postgres: a subscription names the session that holds the read horizon back', () => {
  it('status() shows the open transaction behind a lag, and nothing once it ends', async () => {
    // given a store, one commit handled by a live subscription
    const store = stores.create({ readWaitMs: 50 })
    right(await store.initialize())
    const ids = freshIds()
    right(await store.commit(attempt({ ...ids, commitSequence: 1 })))
    const sub = subscribe({ name: `horizon-${ids.streamId}`, store, handler: async () => E.right(undefined), pollMs: 20, leaseTtlMs: 2000 })
    if (E.isLeft(sub)) throw new Error(sub.left.message)
    right(await sub.right.caughtUp())
    // when another session opens a transaction that has written (so it has an xid) and keeps it open
    const blocker = new pg.Client({ connectionString: pgUrl, application_name: 'aett-horizon-blocker' })
    await blocker.connect()
    try {
      await blocker.query('BEGIN')
      await blocker.query('SELECT pg_current_xact_id()')
      const held = right(await sub.right.status())
      // then the status names it
      expect(held.horizonHolder?.applicationName).toBe('aett-horizon-blocker')
      expect(typeof held.horizonHolder?.pid).toBe('number')
      expect(held.horizonHolder?.xactStart).toBeInstanceOf(Date)
      await blocker.query('ROLLBACK')
      // and once it ended, no session from this test is named
      const after = right(await sub.right.status())
      expect(after.horizonHolder?.applicationName).not.toBe('aett-horizon-blocker')
    } finally {
      await blocker.end()
      await sub.right.stop()
      await store.close()
    }
  })
})
