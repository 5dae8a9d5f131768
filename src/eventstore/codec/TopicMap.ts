import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import type { EventMessage } from '../Commit.js'
import { decodeError, unknownTopic, type CodecError } from '../errors.js'
import type { EncodedEvent, Headers } from '../Json.js'
import { toIssues } from './report.js'
import { SCHEMA_HEADER, schemaVersionOf, type EventHistory } from './versioning.js'

/**
 * What the topic map needs of an event definition: its topic and a codec that decodes to its event, and, for an
 * event with versions (`defineEvent(...).nextVersion(...)`), its history. The codec is typed by what it decodes
 * to and accepts any encode input, because `t.Type` is invariant in its type (it both produces and consumes it):
 * a definition of one event is not an `EventDefinition<string, { type: string }>`.
 */
interface AnyDefinition {
  readonly topic: string
  readonly codec: t.Decoder<unknown, { readonly type: string }> & t.Encoder<never, unknown>
  readonly history?: EventHistory
}

/** Turns stored JSON back into typed events, and typed events into JSON, by topic. */
export interface TopicMap<Ev extends { readonly type: string }> {
  /** The current topics registered (not the former names of renamed topics). */
  readonly topics: readonly string[]
  /** Whether stored events of `topic` decode here: a current topic, or a former name of one. */
  readonly has: (topic: string) => boolean
  /** The topic a stored `topic` is read as: itself, the topic it was renamed to, or `undefined` when unknown. */
  readonly currentTopic: (topic: string) => string | undefined
  /**
   * The typed event in its current shape, a decode error naming the failing path, or an unknown topic. Never throws.
   * `headers` are the event's own headers: they say which schema version the body was written at (`aett.schema`;
   * absent means 1), and an earlier version is decoded by its own codec and brought up to date through its steps.
   * Without headers the body is taken as version 1.
   */
  readonly decode: (body: unknown, headers?: Headers) => E.Either<CodecError, Ev>
  /** `decode(message.body, message.headers)`: a stored event message, as every read hands it out. */
  readonly decodeMessage: (message: EventMessage) => E.Either<CodecError, Ev>
  /** The JSON body to store, at the version the definition writes. Store it with `encodeMessage`'s headers. */
  readonly encode: (event: Ev) => EncodedEvent
  /**
   * The event message to store: the body at the version the definition writes, and headers that record that
   * version (none for version 1). The repositories of `aett/domain` append what this returns.
   */
  readonly encodeMessage: (event: Ev) => EventMessage
}

/** The union of the events of a list of definitions (distributes over the list's members). */
type EventsOf<Ds extends readonly AnyDefinition[]> = Ds[number] extends infer D
  ? D extends { readonly codec: t.Decoder<unknown, infer A extends { readonly type: string }> }
    ? A
    : never
  : never

type Codec = t.Type<unknown, unknown, unknown>
type Record_ = Record<string, unknown>

/** One registered topic (or former name of one). */
interface Entry {
  /** The current topic. */
  readonly topic: string
  /** The current schema version. */
  readonly version: number
  readonly codec: Codec
  readonly history: EventHistory | undefined
  /** Registered under a former name: bodies carry the old `type` and are read as `topic`. */
  readonly renamed: boolean
}

/** Names a `type` that is not a string without calling anything on it (`String(Object.create(null))` throws). */
const describe = (u: unknown): string => {
  if (u === null) return 'null'
  if (typeof u === 'object' || typeof u === 'function') return typeof u
  return String(u)
}

const NO_HEADERS: Headers = Object.freeze({})
const schemaHeaders = new Map<number, Headers>()
/** The headers that record version `v` (shared and frozen: stores copy what they keep). */
const headersFor = (v: number): Headers => {
  if (v === 1) return NO_HEADERS
  let h = schemaHeaders.get(v)
  if (h === undefined) schemaHeaders.set(v, (h = Object.freeze({ [SCHEMA_HEADER]: v })))
  return h
}

/** Runs a codec, turning a throw and a failure into a `DecodeError` of `topic`. */
const decodeWith = (codec: Codec, topic: string, body: unknown): E.Either<CodecError, unknown> => {
  let r: t.Validation<unknown>
  try {
    r = codec.decode(body)
  } catch (cause) {
    return E.left(decodeError(topic, [{ path: codec.name, expected: 'a value that can be read without throwing', actual: cause }]))
  }
  return E.isRight(r) ? r : E.left(decodeError(topic, toIssues(r.left)))
}

/**
 * An event of the next version: the own fields a step returned, with the meta fields of the event it came from
 * (whatever the step returned for them), so that the id, version, timestamp and correlation id are kept.
 */
const withMeta = (fields: unknown, from: Record_, topic: string): Record_ | undefined => {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return undefined
  const { id, version, timestamp, correlationId } = from
  // Meta fields first (as a decoded event has them), then the step's own; the meta values are the event's own.
  const out: Record_ = { type: topic, id, version, timestamp, ...(fields as Record_) }
  out['type'] = topic
  out['id'] = id
  out['version'] = version
  out['timestamp'] = timestamp
  if (correlationId !== undefined) out['correlationId'] = correlationId
  else delete out['correlationId']
  return out
}

const rawVersion = (headers: Headers | undefined): unknown => {
  try {
    return headers?.[SCHEMA_HEADER]
  } catch {
    return '<unreadable>'
  }
}

/**
 * Decodes what is not on the fast path: a body of an earlier version (through its codec and then every step), of
 * a former topic name, or whose version header is unknown to this definition (a newer writer's, or corrupt).
 */
const decodeOther = (entry: Entry, body: unknown, headers: Headers | undefined, version: number | undefined): E.Either<CodecError, unknown> => {
  const { topic, history } = entry
  if (version === undefined || version > entry.version) {
    const expected = entry.version === 1 ? 'schema version 1' : `a schema version from 1 to ${entry.version}`
    return E.left(decodeError(topic, [{ path: `${topic}/${SCHEMA_HEADER}`, expected, actual: rawVersion(headers) }]))
  }
  let input = body
  if (entry.renamed) {
    try {
      input = { ...(body as Record_), type: topic }
    } catch (cause) {
      return E.left(decodeError(topic, [{ path: topic, expected: 'a value that can be read without throwing', actual: cause }]))
    }
  }
  const codec = history === undefined || version === entry.version ? entry.codec : (history.codecs[version - 1] as Codec)
  const decoded = decodeWith(codec, topic, input)
  if (E.isLeft(decoded) || history === undefined || version === entry.version) return decoded
  let event = decoded.right as Record_
  for (let v = version; v < entry.version; v++) {
    const step = `${topic}@v${v}->v${v + 1}`
    let fields: unknown
    try {
      fields = (history.upcasts[v - 1] as (previous: unknown) => unknown)(event)
    } catch (cause) {
      return E.left(decodeError(topic, [{ path: step, expected: 'a step that does not throw', actual: cause }]))
    }
    const next = withMeta(fields, event, topic)
    if (next === undefined) return E.left(decodeError(topic, [{ path: step, expected: 'a step that returns the fields of an event', actual: fields }]))
    event = next
  }
  // The steps are typed, but a cast or an `any` can still hand over something else: never hand out a wrong shape.
  if (!entry.codec.is(event)) {
    return E.left(decodeError(topic, [{ path: `${topic}@v${version}->v${entry.version}`, expected: topic, actual: event }]))
  }
  return E.right(event)
}

/**
 * Registers event definitions by topic. A later definition of the same topic replaces an earlier one, so that
 * an application can override a library's codec deliberately. An event with versions is decoded from whatever
 * version it was stored at, and from its former topic names, into its current shape.
 *
 * @example
 * const topics = topicMap(Deposited, Withdrawn)
 * topics.decode({ type: 'Deposited', id: 'a', version: 1, timestamp: '2026-01-01T00:00:00.000Z', amount: 5 })
 */
export const topicMap = <Ds extends readonly AnyDefinition[]>(...definitions: Ds): TopicMap<EventsOf<Ds>> => {
  type Ev = EventsOf<Ds>
  const byTopic = new Map<string, Entry>()
  const writers = new Map<string, (event: unknown) => EventMessage>()
  for (const d of definitions) {
    const history = d.history
    const codec = d.codec as unknown as Codec
    const entry: Entry = { topic: d.topic, version: history?.codecs.length ?? 1, codec, history, renamed: false }
    byTopic.set(d.topic, entry)
    for (const former of history?.formerTopics ?? []) byTopic.set(former, { ...entry, renamed: true })
    writers.set(d.topic, writerOf(entry))
  }
  const topics = [...writers.keys()].filter((topic) => byTopic.get(topic)?.renamed === false)

  const decode = (body: unknown, headers?: Headers): E.Either<CodecError, Ev> => {
    // Anything can arrive here (a corrupt row, a caller's plain JavaScript): a getter or a Proxy trap may throw,
    // and `String` of an object without a prototype does; every such case is an answer, never a throw.
    let topic: unknown
    try {
      topic = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined
    } catch {
      return E.left(unknownTopic('<unreadable>'))
    }
    if (typeof topic !== 'string') return E.left(unknownTopic(describe(topic)))
    const entry = byTopic.get(topic)
    if (entry === undefined) return E.left(unknownTopic(topic))
    const version = schemaVersionOf(headers)
    // The fast path: an event of the current version under its current topic costs one header lookup more.
    if (version === entry.version && !entry.renamed) return decodeWith(entry.codec, topic, body) as E.Either<CodecError, Ev>
    return decodeOther(entry, body, headers, version) as E.Either<CodecError, Ev>
  }

  return {
    topics,
    has: (topic) => byTopic.has(topic),
    currentTopic: (topic) => byTopic.get(topic)?.topic,
    decode,
    decodeMessage: (message) => decode(message.body, message.headers),
    encode: (event) => encodeMessage(event).body,
    encodeMessage: (event) => encodeMessage(event),
  }

  function encodeMessage(event: Ev): EventMessage {
    const write = writers.get((event as { readonly type: string }).type)
    // An event whose topic is not registered has nothing to convert; it is stored as it is.
    return write === undefined ? { body: event as unknown as EncodedEvent, headers: NO_HEADERS } : write(event)
  }
}

/** How an entry writes: at the current version, or downcast to the version its definition writes. */
const writerOf = (entry: Entry): ((event: unknown) => EventMessage) => {
  const { history, codec, topic } = entry
  if (history === undefined || history.writeVersion === entry.version || history.downcast === undefined) {
    const headers = headersFor(entry.version)
    return (event) => ({ body: codec.encode(event) as EncodedEvent, headers })
  }
  const target = history.codecs[history.writeVersion - 1] as Codec
  const downcast = history.downcast
  const headers = headersFor(history.writeVersion)
  return (event) => {
    const older = withMeta(downcast(event), event as Record_, topic)
    if (older === undefined) throw new TypeError(`${topic}: the downcast to version ${history.writeVersion} returned no fields`)
    return { body: target.encode(older) as EncodedEvent, headers }
  }
}
