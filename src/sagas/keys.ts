import type { Commit } from '../eventstore/Commit.js'
import type { Headers, Json } from '../eventstore/Json.js'
import { UNDISPATCHED_PREFIX } from '../domain/sagaHeaders.js'

/** Where a commit is, as its keys need it. */
type At = Pick<Commit, 'tenantId' | 'streamId'>

/**
 * The idempotency key of command `index` of a saga's commit: tenant, stream, commit sequence and index, joined
 * unambiguously (JSON). Unique across the whole store (a commit id alone is unique only within its stream, so two
 * sagas may share one) and stable: every redelivery of the command carries the same key.
 */
export const commandKey = (commit: At & Pick<Commit, 'commitSequence'>, index: number): string =>
  JSON.stringify([commit.tenantId, commit.streamId, commit.commitSequence, index])

/**
 * The identity of the event at `revision` of a stream: tenant, stream and revision, joined unambiguously. The
 * router feeds a saga each event under the commit id `commitIdFrom(eventKey(...))`, so a redelivery is a
 * `DuplicateCommit` (`AlreadyCommitted`) in that saga's stream.
 */
export const eventKey = (commit: At, revision: number): string => JSON.stringify([commit.tenantId, commit.streamId, revision])

/** One command as stored in a commit's headers: its index `n` (of `UndispatchedMessage.<n>`) and its JSON. */
export interface StoredCommand {
  readonly index: number
  readonly message: Json
}

/** The commands of a commit's headers (SEMANTICS 21) with their own indices, in dispatch order. */
export const storedCommands = (headers: Headers): StoredCommand[] => {
  const out: StoredCommand[] = []
  for (const [k, message] of Object.entries(headers)) {
    if (!k.startsWith(UNDISPATCHED_PREFIX)) continue
    const n = k.slice(UNDISPATCHED_PREFIX.length)
    // The same headers `undispatchedMessages` reads (aett/domain), so that nothing it would hand out is left out.
    if (/^\d+$/.test(n)) out.push({ index: Number(n), message })
  }
  return out.sort((a, b) => a.index - b.index)
}

/**
 * The header the router puts on the commits it makes a saga store (`routedHeaders`): where the event came from.
 * Such a commit holds a copy of an event that is routed from its own stream, so the router never routes it again.
 */
export const ROUTED_FROM = 'aett.routedFrom'
