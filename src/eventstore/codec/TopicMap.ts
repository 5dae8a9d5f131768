import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { decodeError, unknownTopic, type CodecError } from '../errors.js'
import type { EncodedEvent } from '../Json.js'
import { toIssues } from './report.js'

/**
 * What the topic map needs of an event definition: its topic and a codec that decodes to its event. The codec is
 * typed by what it decodes to and accepts any encode input, because `t.Type` is invariant in its type (it both
 * produces and consumes it): a definition of one event is not an `EventDefinition<string, { type: string }>`.
 */
interface AnyDefinition {
  readonly topic: string
  readonly codec: t.Decoder<unknown, { readonly type: string }> & t.Encoder<never, unknown>
}

/** Turns stored JSON back into typed events, and typed events into JSON, by topic. */
export interface TopicMap<Ev extends { readonly type: string }> {
  readonly topics: readonly string[]
  readonly has: (topic: string) => boolean
  /** The typed event, a decode error naming the failing path, or an unknown topic. Never throws. */
  readonly decode: (body: unknown) => E.Either<CodecError, Ev>
  readonly encode: (event: Ev) => EncodedEvent
}

/** The union of the events of a list of definitions (distributes over the list's members). */
type EventsOf<Ds extends readonly AnyDefinition[]> = Ds[number] extends infer D
  ? D extends { readonly codec: t.Decoder<unknown, infer A extends { readonly type: string }> }
    ? A
    : never
  : never

/**
 * Registers event definitions by topic. A later definition of the same topic replaces an earlier one, so that
 * an application can override a library's codec deliberately.
 *
 * @example
 * const topics = topicMap(Deposited, Withdrawn)
 * topics.decode({ type: 'Deposited', id: 'a', version: 1, timestamp: '2026-01-01T00:00:00.000Z', amount: 5 })
 */
export const topicMap = <Ds extends readonly AnyDefinition[]>(...definitions: Ds): TopicMap<EventsOf<Ds>> => {
  type Ev = EventsOf<Ds>
  const byTopic = new Map<string, t.Type<unknown, unknown, unknown>>()
  for (const d of definitions) byTopic.set(d.topic, d.codec as unknown as t.Type<unknown, unknown, unknown>)
  return {
    topics: [...byTopic.keys()],
    has: (topic) => byTopic.has(topic),
    decode: (body) => {
      const topic = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined
      if (typeof topic !== 'string') return E.left(unknownTopic(String(topic)))
      const codec = byTopic.get(topic)
      if (codec === undefined) return E.left(unknownTopic(topic))
      const r = codec.decode(body)
      return E.isRight(r) ? (r as E.Either<never, Ev>) : E.left(decodeError(topic, toIssues(r.left)))
    },
    encode: (event) => {
      const codec = byTopic.get((event as { readonly type: string }).type)
      // An event whose topic is not registered has nothing to convert; it is stored as it is.
      return (codec === undefined ? event : codec.encode(event)) as EncodedEvent
    },
  }
}
