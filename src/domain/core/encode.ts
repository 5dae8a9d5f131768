import * as E from 'fp-ts/lib/Either.js'
import { invalidAttempt, type InvalidAttempt } from '../../eventstore/errors.js'
import type { NewEvent } from '../../eventstore/codec/defineEvent.js'
import type { EventMessage } from '../../eventstore/Commit.js'
import type { EncodedEvent, Json } from '../../eventstore/Json.js'
import type { Context } from './Context.js'

// Encoding runs user codecs (io-ts `encode`, a saga's `encodeCommand`, a state codec, `getMemento`), and those throw
// on values they cannot picture: `DateFromISOString` calls `toISOString()`, which throws `RangeError: Invalid time
// value` on `new Date(NaN)`. A repository face never lets that escape (the docs promise a `Left`): what cannot be
// encoded can never be stored, so it is an `InvalidAttempt` naming what and where, and nothing is written.

const message = (cause: unknown): string => (cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause))

/** The path of the first value inside `v` that no codec can encode (an Invalid Date), if any; depth-bounded. */
const culprit = (v: unknown, path: string, depth = 0): string | undefined => {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? path : undefined
  if (typeof v !== 'object' || v === null || depth > 32) return undefined
  for (const [k, item] of Object.entries(v)) {
    const found = culprit(item, `${path}/${k}`, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

const describeFailure = (value: unknown, path: string, cause: unknown): string => {
  let where: string | undefined
  try {
    where = culprit(value, path)
  } catch {
    where = undefined
  }
  return where === undefined ? `${path}: encoding threw (${message(cause)})` : `${where}: an Invalid Date cannot be encoded (${message(cause)})`
}

const topicOf = (event: unknown): string => {
  const t = typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined
  return typeof t === 'string' ? t : 'event'
}

/**
 * Stamps events for revisions `first`, `first + 1`, ... of `streamId` and encodes them through the topic map. A
 * stamp or codec that throws is an `InvalidAttempt` naming the event, its revision and the failing field
 * (`Deposited/timestamp`).
 */
export const encodeEvents = <Ev extends { readonly type: string }>(
  ctx: Context<Ev>,
  streamId: string,
  events: readonly NewEvent<Ev>[],
  first: number,
  stamp: (event: NewEvent<Ev>, streamId: string, revision: number) => Ev,
): E.Either<InvalidAttempt, { readonly stamped: Ev[]; readonly bodies: EncodedEvent[]; readonly messages: EventMessage[] }> => {
  const stamped: Ev[] = []
  const bodies: EncodedEvent[] = []
  const messages: EventMessage[] = []
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as NewEvent<Ev>
    try {
      const e = stamp(event, streamId, first + i)
      // The message, not the body alone: its headers record the schema version the body is written at.
      const message = ctx.topics.encodeMessage(e)
      messages.push(message)
      bodies.push(message.body)
      stamped.push(e)
    } catch (cause) {
      const topic = topicOf(event)
      const reason = `event ${i + 1} of ${events.length} (${topic} at revision ${first + i}) cannot be encoded: ${describeFailure(event, topic, cause)}`
      return E.left(invalidAttempt(ctx.tenantId, streamId, reason))
    }
  }
  return E.right({ stamped, bodies, messages })
}

/** Runs an encoder of something else bound for `streamId` (a command, a state), turning a throw into an `InvalidAttempt`. */
export const encodeWith = <A>(
  ctx: { readonly tenantId: string },
  streamId: string,
  what: string,
  value: A,
  encode: (value: A) => Json,
): E.Either<InvalidAttempt, Json> => {
  try {
    return E.right(encode(value))
  } catch (cause) {
    return E.left(invalidAttempt(ctx.tenantId, streamId, `${what} cannot be encoded: ${describeFailure(value, what, cause)}`))
  }
}
