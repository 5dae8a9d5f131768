import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DynamoDbStore } from '../../src/dynamodb/index.js'
import { allocate, fill } from '../../src/dynamodb/checkpoints.js'
import { connection, loadSdk } from '../../src/dynamodb/connection.js'
import { tenantLinks, type DynamoDbContext } from '../../src/dynamodb/context.js'
import { commitItem } from '../../src/dynamodb/rows.js'
import { dynamoDbStoreWithClock } from '../../src/dynamodb/store.js'
import type { Commit } from '../../src/eventstore/index.js'
import { attempt, collect, expectCommits, right } from 'aett/testing/contract'
import { configOf, disposeStore, dynaliteForFile, freshStore } from './server.js'

const db = dynaliteForFile()

/**
 * The checkpoint guarantee of docs/stores/dynamodb.md: a global or tenant reader stops before a token that is
 * allocated but not visible, until it becomes visible, is filled, or is older than the settle window.
 */
describe('dynamodb: checkpoint order without skipping (SEMANTICS 7-8)', () => {
  let tables: DynamoDbStore
  let clock = 0
  /** A store on the same tables whose clock the test sets. */
  let store: DynamoDbStore
  /** What the store's writers use, for playing a slow writer by hand. */
  let ctx: DynamoDbContext

  beforeAll(async () => {
    tables = await freshStore(db(), { settleMs: 10_000 })
    const config = configOf(tables)
    const prefix = config.commitsTable.replace(/commits$/, '')
    store = dynamoDbStoreWithClock({ client: db().client, tables: { prefix }, settleMs: 10_000, pageSize: 5 }, () => clock)
    ctx = { connection: connection(await loadSdk(), db().client, false, 8), config, now: Date.now, tenantLinks: tenantLinks() }
  })
  afterAll(async () => {
    await store.close()
    await disposeStore(tables)
  })

  const one = (tenantId: string, streamId: string = randomUUID()) => attempt({ tenantId, streamId, commitSequence: 1 })

  it('holds readers back behind a token in flight, until its commit lands', async () => {
    right(await store.purge())
    const [t1, t2] = [`t1-${randomUUID()}`, `t2-${randomUUID()}`]
    clock = Date.now()
    // given a commit, then a writer that has its token but has not put its commit yet, then two later commits
    const c1 = right(await store.commit(one(t1)))
    const slow = await allocate(ctx, t1)
    const c2 = right(await store.commit(one(t1)))
    const c3 = right(await store.commit(one(t2)))
    expect([c1.checkpointToken, slow.token, c2.checkpointToken, c3.checkpointToken]).toEqual(
      [0, 1, 2, 3].map((i) => c1.checkpointToken + i),
    )
    // then the global reader and t1's reader stop before the hole; t2's chain has no hole
    expectCommits(await collect(store.getFrom(0)), [c1])
    expectCommits(await collect(store.getFrom(0, t1)), [c1])
    expectCommits(await collect(store.getFromTo(0, c3.checkpointToken)), [c1])
    expectCommits(await collect(store.getFrom(0, t2)), [c3])
    // when the slow writer's commit lands
    const late: Commit = { ...one(t1), checkpointToken: slow.token }
    await db().client.send(
      new (await import('@aws-sdk/client-dynamodb')).PutItemCommand({ TableName: ctx.config.commitsTable, Item: commitItem(late, slow) }),
    )
    // then every reader hands out the whole order
    expectCommits(await collect(store.getFrom(0)), [c1, late, c2, c3])
    expectCommits(await collect(store.getFrom(0, t1)), [c1, late, c2])
  })

  it('reads past a token whose writer lost its race and filled its place, at once', async () => {
    right(await store.purge())
    const t1 = `t1-${randomUUID()}`
    clock = Date.now()
    const c1 = right(await store.commit(one(t1)))
    const lost = await allocate(ctx, t1)
    const c2 = right(await store.commit(one(t1)))
    expectCommits(await collect(store.getFrom(0)), [c1])
    // when the writer fills its place (as one that lost its conditional put does)
    await fill(ctx, lost)
    expectCommits(await collect(store.getFrom(0)), [c1, c2])
    expectCommits(await collect(store.getFrom(0, t1)), [c1, c2])
  })

  it('reads past a token whose writer never came back once the settle window has passed', async () => {
    right(await store.purge())
    const t1 = `t1-${randomUUID()}`
    clock = Date.now()
    const c1 = right(await store.commit(one(t1)))
    await allocate(ctx, t1) // a writer that crashed right after taking its token
    const c2 = right(await store.commit(one(t1)))
    // within the window the readers wait
    clock = Date.now() + 9_000
    expectCommits(await collect(store.getFrom(0)), [c1])
    expectCommits(await collect(store.getFrom(0, t1)), [c1])
    // after it they presume the token abandoned
    clock = Date.now() + 10_001
    expectCommits(await collect(store.getFrom(0)), [c1, c2])
    expectCommits(await collect(store.getFrom(0, t1)), [c1, c2])
  })

  it('never holds readers back behind deleted streams, purged tenants or a purge of everything', async () => {
    right(await store.purge())
    const [t1, t2] = [`t1-${randomUUID()}`, `t2-${randomUUID()}`]
    clock = Date.now()
    const a = right(await store.commit(one(t1, 'a')))
    const b = right(await store.commit(one(t1, 'b')))
    const c = right(await store.commit(one(t2, 'c')))
    const d = right(await store.commit(one(t1, 'd')))
    expectCommits(await collect(store.getFrom(0)), [a, b, c, d])
    // a deleted stream leaves fillers in its tokens' places
    right(await store.deleteStream(t1, 'b'))
    expectCommits(await collect(store.getFrom(0)), [a, c, d])
    expectCommits(await collect(store.getFrom(0, t1)), [a, d])
    // a purged tenant too
    right(await store.purge(t2))
    const e = right(await store.commit(one(t1, 'e')))
    expectCommits(await collect(store.getFrom(0)), [a, d, e])
    // and after a purge of everything, readers start above the floor; tokens keep growing
    right(await store.purge())
    const f = right(await store.commit(one(t1, 'f')))
    expect(f.checkpointToken).toBeGreaterThan(e.checkpointToken)
    expectCommits(await collect(store.getFrom(0)), [f])
    expectCommits(await collect(store.getFrom(0, t1)), [f])
  })
})
