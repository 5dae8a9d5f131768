import { randomUUID } from 'node:crypto'
import * as t from 'io-ts'
import type { Commit, CommitAttempt, Persistence } from '../../src/eventstore/index.js'
import { defineEvent, topicMap, type EventOf } from '../../src/eventstore/index.js'
import { documentProjection } from '../../src/projections/index.js'

/** The events the projection tests project: a counter's bumps, and an event no handler may refuse. */
export const Bumped = defineEvent('Bumped', { by: t.number })
export type Bumped = EventOf<typeof Bumped>
export const Noted = defineEvent('Noted', { text: t.string })
export type Noted = EventOf<typeof Noted>
export const testTopics = topicMap(Bumped, Noted)
export type TestEvent = Bumped | Noted

export const tenantId = 'projections'

/** An attempt that continues `head` on `streamId` with `events`. */
export const attempt = (head: Commit | undefined, streamId: string, events: readonly TestEvent[]): CommitAttempt => ({
  tenantId,
  streamId,
  commitId: randomUUID(),
  commitSequence: (head?.commitSequence ?? 0) + 1,
  streamRevision: (head?.streamRevision ?? 0) + events.length,
  commitStamp: new Date(),
  headers: {},
  events: events.map((e) => ({ body: testTopics.encode(e), headers: {} })),
})

/** Appends `commits` commits of one Bumped each (amount = the commit's number) over `streams` streams. */
export const writeCommits = async (store: Persistence, commits: number, streams = 3, from = 0): Promise<Commit[]> => {
  const heads = new Map<string, Commit>()
  const written: Commit[] = []
  for (let i = from; i < from + commits; i++) {
    const streamId = `counter-${i % streams}-${from}`
    const head = heads.get(streamId)
    const event = Bumped.create({ id: streamId, version: (head?.streamRevision ?? 0) + 1, timestamp: new Date(), by: i + 1 })
    const r = await store.commit(attempt(head, streamId, [event]))
    if (r._tag === 'Left') throw new Error(`append failed: ${JSON.stringify(r.left)}`)
    heads.set(streamId, r.right)
    written.push(r.right)
  }
  return written
}

/** Every stored commit's token, read from the log. */
export const logTokens = async (store: Persistence): Promise<number[]> => {
  const out: number[] = []
  for await (const r of store.getFrom(0)) {
    if (r._tag === 'Left') throw new Error(r.left.message)
    out.push(r.right.checkpointToken)
  }
  return out
}

/** A Right's value, or a throw showing the Left (whatever its type). */
export const must = <A>(r: { readonly _tag: 'Left'; readonly left: unknown } | { readonly _tag: 'Right'; readonly right: A }): A => {
  if (r._tag === 'Left') throw new Error(`expected a Right: ${JSON.stringify(r.left, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`)
  return r.right
}

/**
 * The document projection of the DynamoDB SIGKILL test: one document per stream, `{ "<token>:<index>": count }`,
 * each Bumped event counted at its commit's token and place. `applied` runs in `evolve` (the worker logs there).
 */
export const dynamoCounters = (applied: (token: number) => void = () => undefined) =>
  documentProjection({
    name: 'counters',
    topics: testTopics,
    id: (_event, meta) => meta.commit.streamId,
    evolve: (doc: Record<string, number> | undefined, event, meta) => {
      if (event.type !== 'Bumped') return doc
      applied(meta.commit.checkpointToken)
      const k = `${meta.commit.checkpointToken}:${meta.index}`
      return { ...doc, [k]: (doc?.[k] ?? 0) + 1 }
    },
  })
